//! `env_file` (an rsupervisor key on `[supervisord]` and `[program:x]`): environment files in
//! dotenv syntax, read when the configuration is loaded, so a changed file is a changed
//! program for `reread`/`update`.
//!
//! The value is a comma-separated list of paths (after `%(name)s` expansion, so
//! `%(process_num)d` gives each instance its own file); a path written `-path` may be missing,
//! as systemd's `EnvironmentFile=-`. Relative paths are relative to the main configuration
//! file's directory. The syntax (quotes, `export`, comments, `${VAR}` references to earlier
//! lines and to the daemon's environment) is the dotenvy crate's.

use crate::model::EnvFile;
use std::path::{Path, PathBuf};

/// Parses the `env_file` list into (path, optional) pairs.
pub fn paths(value: &str, here: &Path) -> Vec<(PathBuf, bool)> {
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (optional, path) = match entry.strip_prefix('-') {
                Some(rest) => (true, rest.trim()),
                None => (false, entry),
            };
            (here.join(path), optional)
        })
        .collect()
}

/// Reads one env file. A missing optional file gives an empty, not-found entry; a missing
/// required file or a line that does not parse is an error naming the file.
pub fn read(path: &Path, optional: bool) -> Result<EnvFile, String> {
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(dotenvy::Error::Io(error)) if error.kind() == std::io::ErrorKind::NotFound => {
            return if optional {
                Ok(EnvFile {
                    path: path.to_path_buf(),
                    optional,
                    found: false,
                    vars: Vec::new(),
                })
            } else {
                Err(format!(
                    "env file {} does not exist (write -{} to make it optional)",
                    path.display(),
                    path.display()
                ))
            };
        }
        Err(error) => return Err(describe(path, &error)),
    };
    let mut vars = Vec::new();
    for item in iter {
        match item {
            Ok(pair) => vars.push(pair),
            Err(error) => return Err(describe(path, &error)),
        }
    }
    Ok(EnvFile {
        path: path.to_path_buf(),
        optional,
        found: true,
        vars,
    })
}

fn describe(path: &Path, error: &dotenvy::Error) -> String {
    match error {
        dotenvy::Error::LineParse(line, index) => format!(
            "env file {}: cannot parse {line:?} (at character {index}); expected KEY=value",
            path.display()
        ),
        dotenvy::Error::Io(error) => {
            format!("env file {} cannot be read: {error}", path.display())
        }
        other => format!("env file {}: {other}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_syntax() {
        let here = Path::new("/etc/rs");
        assert_eq!(
            paths(" common.env, -/run/%x.env ,,- opt.env", here),
            vec![
                (PathBuf::from("/etc/rs/common.env"), false),
                (PathBuf::from("/run/%x.env"), true),
                (PathBuf::from("/etc/rs/opt.env"), true),
            ]
        );
        assert!(paths("", here).is_empty());
    }

    #[test]
    fn reads_dotenv_syntax() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.env");
        std::fs::write(
            &path,
            "# comment\nexport A=1\nB=\"two words\"\nC='${A} literal'\nD=${A}-x\n\nE=\n",
        )
        .expect("write");
        let file = read(&path, false).expect("reads");
        assert!(file.found);
        assert_eq!(
            file.vars,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "${A} literal".into()),
                ("D".into(), "1-x".into()),
                ("E".into(), String::new()),
            ]
        );
    }

    #[test]
    fn missing_and_broken_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("none.env");
        let error = read(&missing, false).expect_err("required");
        assert!(error.contains("does not exist (write -"), "{error}");
        let optional = read(&missing, true).expect("optional");
        assert!(!optional.found && optional.vars.is_empty());
        let broken = dir.path().join("broken.env");
        std::fs::write(&broken, "GOOD=1\nnot a line\n").expect("write");
        let error = read(&broken, false).expect_err("broken");
        assert!(error.contains("broken.env: cannot parse"), "{error}");
    }
}
