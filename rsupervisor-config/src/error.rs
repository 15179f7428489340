//! Configuration errors that carry their location (file, line, section, key).

use std::fmt;
use std::path::PathBuf;

/// One configuration error, located as precisely as possible.
///
/// `message` is supervisord's own text (for example `not a valid boolean value: 'maybe'`);
/// the location goes into the other fields instead of supervisord's
/// ` in section '...' (file: '...')` suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// File the error was found in, if known.
    pub file: Option<PathBuf>,
    /// 1-based line number (of the key, or of the section header when the key is missing).
    pub line: Option<usize>,
    /// Section name without brackets, e.g. `program:web`.
    pub section: Option<String>,
    /// Option name, lower-cased as the parser stores it.
    pub key: Option<String>,
    /// The message, worded as supervisord words it.
    pub message: String,
}

impl ConfigError {
    /// An error with a message only and no location.
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError {
            file: None,
            line: None,
            section: None,
            key: None,
            message: message.into(),
        }
    }

    /// Sets the file.
    pub fn with_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// Sets the line.
    pub fn with_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
}

impl fmt::Display for ConfigError {
    /// `<file>:<line>: [<section>] <key>: <message>`, leaving out the unknown parts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
            }
            f.write_str(": ")?;
        } else if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(section) = &self.section {
            write!(f, "[{section}] ")?;
        }
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Every error found in a configuration file set, in the order they were found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// A list holding a single error.
    pub fn single(error: ConfigError) -> Self {
        ConfigErrors(vec![error])
    }

    /// True when there is no error.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of errors.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates over the errors.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }
}

impl fmt::Display for ConfigErrors {
    /// One error per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        ConfigErrors::single(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_full_and_partial() {
        let e = ConfigError {
            file: Some("/etc/a.conf".into()),
            line: Some(3),
            section: Some("program:a".into()),
            key: Some("autostart".into()),
            message: "not a valid boolean value: 'maybe'".into(),
        };
        assert_eq!(
            e.to_string(),
            "/etc/a.conf:3: [program:a] autostart: not a valid boolean value: 'maybe'"
        );
        assert_eq!(ConfigError::new("boom").to_string(), "boom");
        let two = ConfigErrors(vec![
            ConfigError::new("a"),
            ConfigError::new("b").with_file("/x"),
        ]);
        assert_eq!(two.to_string(), "a\n/x: b");
    }
}
