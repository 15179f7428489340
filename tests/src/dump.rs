//! Formatting files for failure dumps (ripgrep's `assert_err` habit): when a test fails, print
//! what the daemon said so the failure can be understood from the CI log alone.

use std::path::Path;

/// Only the tail of each file is shown, so a spewing child cannot drown the report.
const TAIL_BYTES: usize = 64 * 1024;

/// A titled section with the tail of the file at `path` (or why it could not be read).
pub fn file_section(title: &str, path: &Path) -> String {
    let body = match std::fs::read(path) {
        Ok(bytes) if bytes.is_empty() => "(empty)\n".to_owned(),
        Ok(bytes) => {
            let start = bytes.len().saturating_sub(TAIL_BYTES);
            let mut text = String::new();
            if start > 0 {
                text.push_str(&format!("... ({start} earlier bytes omitted)\n"));
            }
            text.push_str(&String::from_utf8_lossy(&bytes[start..]));
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text
        }
        Err(e) => format!("(cannot read: {e})\n"),
    };
    format!("----- {title} ({}) -----\n{body}", path.display())
}

/// Sections for every regular file directly inside `dir`, sorted by name.
pub fn dir_sections(title: &str, dir: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return String::new();
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            file_section(&format!("{title} {name}"), path)
        })
        .collect()
}
