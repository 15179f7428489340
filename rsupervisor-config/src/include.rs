//! Reading the main file and its `[include] files=` globs into one parser.
//!
//! As in supervisord, only the main file's `[include]` is processed: relative patterns are
//! joined to the main file's directory, matches are read in sorted order, and an `[include]`
//! section inside an included file merges into the main one without being processed again
//! (so cycles and files included twice are harmless).

use crate::datatypes::py_repr;
use crate::error::ConfigError;
use crate::expand::{expand, Expansions, Value};
use crate::ini::Ini;
use crate::model::{LogLevel, ParseMessage};
use std::path::{Path, PathBuf};

/// What reading the file set produced.
pub(crate) struct FileSet {
    pub ini: Ini,
    pub errors: Vec<ConfigError>,
    pub messages: Vec<ParseMessage>,
}

/// Python's `os.path.dirname`.
pub(crate) fn py_dirname(p: &str) -> String {
    match p.rfind('/') {
        None => String::new(),
        Some(i) => {
            let head = &p[..=i];
            if head.chars().all(|c| c == '/') {
                head.to_string()
            } else {
                head.trim_end_matches('/').to_string()
            }
        }
    }
}

/// Reads the main file. `path` is the file as the user gave it; `abs` its absolute form.
pub(crate) fn read_main(path: &Path, abs: &Path) -> Result<(Ini, Vec<ConfigError>), ConfigError> {
    read_main_keeping(path, abs, &|_| true)
}

/// As [`read_main`], storing only the sections `keep` accepts (see
/// [`Ini::read_str_keeping`]).
pub(crate) fn read_main_keeping(
    path: &Path,
    abs: &Path,
    keep: &dyn Fn(&str) -> bool,
) -> Result<(Ini, Vec<ConfigError>), ConfigError> {
    if !path.exists() {
        return Err(ConfigError::new(format!(
            "could not find config file {}",
            path.display()
        )));
    }
    let text = std::fs::read(path)
        .map_err(|_| ConfigError::new(format!("could not read config file {}", path.display())))?;
    let text = String::from_utf8(text).map_err(|e| {
        ConfigError::new(format!(
            "could not read config file {}: {}",
            path.display(),
            e
        ))
        .with_file(abs)
    })?;
    let mut ini = Ini::new();
    let errors = ini.read_str_keeping(&text, abs, keep);
    Ok((ini, errors))
}

/// Reads the main file and, if it has an `[include]` section, every included file.
pub(crate) fn read_file_set(
    path: &Path,
    abs: &Path,
    here: &str,
    env: &Expansions,
    hostname: &str,
) -> Result<FileSet, ConfigError> {
    let (mut ini, mut errors) = read_main(path, abs)?;
    let mut messages = Vec::new();
    if let Some(include) = ini.section("include").cloned() {
        ini.expand_here(here);
        match ini.get("include", "files").cloned() {
            None => errors.push(ConfigError {
                file: Some(abs.to_path_buf()),
                line: Some(include.line),
                section: Some("include".into()),
                key: None,
                message: ".ini file has [include] section, but no files setting".into(),
            }),
            Some(entry) => {
                let mut names = env.clone();
                names.insert("here".into(), Value::Str(here.to_string()));
                names.insert("host_node_name".into(), Value::Str(hostname.to_string()));
                match expand(&entry.value, &names, "include.files") {
                    Err(message) => errors.push(ConfigError {
                        file: Some(ini.file(entry.file).to_path_buf()),
                        line: Some(entry.line),
                        section: Some("include".into()),
                        key: Some("files".into()),
                        message,
                    }),
                    Ok(files) => {
                        let base = abs.parent().unwrap_or(Path::new("/"));
                        for pattern in files.split_whitespace() {
                            let full = base.join(pattern);
                            let full_str = full.to_string_lossy().into_owned();
                            let mut matches = glob_sorted(&full_str);
                            if matches.is_empty() {
                                messages.push(ParseMessage {
                                    level: LogLevel::Warn,
                                    text: format!("No file matches via include \"{full_str}\""),
                                });
                                continue;
                            }
                            for filename in matches.drain(..) {
                                messages.push(ParseMessage {
                                    level: LogLevel::Info,
                                    text: format!(
                                        "Included extra file \"{}\" during parsing",
                                        filename.display()
                                    ),
                                });
                                // Like RawConfigParser.read, a file that cannot be opened is skipped.
                                let Ok(bytes) = std::fs::read(&filename) else {
                                    continue;
                                };
                                match String::from_utf8(bytes) {
                                    Ok(text) => errors.extend(ini.read_str(&text, &filename)),
                                    Err(e) => errors.push(
                                        ConfigError::new(format!(
                                            "could not read config file {}: {}",
                                            py_repr(&filename.to_string_lossy()),
                                            e
                                        ))
                                        .with_file(&filename),
                                    ),
                                }
                                let dir = py_dirname(&filename.to_string_lossy());
                                ini.expand_here(&dir);
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(FileSet {
        ini,
        errors,
        messages,
    })
}

/// Python's `sorted(glob.glob(pattern))`: hidden files need a literal dot.
fn glob_sorted(pattern: &str) -> Vec<PathBuf> {
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let mut out: Vec<PathBuf> = match glob::glob_with(pattern, opts) {
        Ok(paths) => paths.filter_map(Result::ok).collect(),
        Err(_) => Vec::new(),
    };
    out.sort_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirname() {
        assert_eq!(py_dirname("/a/b/c.conf"), "/a/b");
        assert_eq!(py_dirname("/c.conf"), "/");
        assert_eq!(py_dirname("c.conf"), "");
        assert_eq!(py_dirname("a//b"), "a");
    }
}
