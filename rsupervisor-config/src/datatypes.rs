//! Value conversions with supervisord 4.3.0's accepted syntax and error texts
//! (`supervisor/datatypes.py`). Every function returns the verbatim error message on failure.

use crate::model::{AutoRestart, LogLevel, SignalSpec, UserSpec};
use std::path::{Component, Path, PathBuf};

/// Python's `repr()` of a string: quotes chosen like Python, escapes for control characters.
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Parses digits (with Python's single underscores between digits) in `radix`.
fn parse_digits(s: &str, radix: u32) -> Option<i128> {
    if s.is_empty() || s.starts_with('_') || s.ends_with('_') || s.contains("__") {
        return None;
    }
    let mut v: i128 = 0;
    for c in s.chars() {
        if c == '_' {
            continue;
        }
        let d = c.to_digit(radix)?;
        v = v.saturating_mul(radix as i128).saturating_add(d as i128);
    }
    Some(v)
}

fn split_sign(s: &str) -> (bool, &str) {
    if let Some(r) = s.strip_prefix('-') {
        (true, r)
    } else if let Some(r) = s.strip_prefix('+') {
        (false, r)
    } else {
        (false, s)
    }
}

/// Python `int(value)` in base 10. Error: `invalid literal for int() with base 10: '<value>'`.
pub fn integer(value: &str) -> Result<i64, String> {
    let t = value.trim();
    let (neg, digits) = split_sign(t);
    match parse_digits(digits, 10) {
        Some(v) => {
            let v = if neg { -v } else { v };
            Ok(v.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
        }
        None => Err(format!(
            "invalid literal for int() with base 10: {}",
            py_repr(value)
        )),
    }
}

/// Python `int(value, 8)`. Error: `<value> can not be converted to an octal type`.
pub fn octal(value: &str) -> Result<u32, String> {
    let err = || format!("{value} can not be converted to an octal type");
    let t = value.trim();
    let (neg, rest) = split_sign(t);
    let rest = rest
        .strip_prefix("0o")
        .or_else(|| rest.strip_prefix("0O"))
        .map_or(rest, |r| r.strip_prefix('_').unwrap_or(r));
    let v = parse_digits(rest, 8).ok_or_else(err)?;
    if neg && v != 0 {
        return Err(err());
    }
    u32::try_from(v).map_err(|_| err())
}

/// supervisord's boolean: `yes true on 1` / `no false off 0`, case-insensitive.
pub fn boolean(value: &str) -> Result<bool, String> {
    match value.to_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Ok(true),
        "no" | "false" | "off" | "0" => Ok(false),
        _ => Err(format!("not a valid boolean value: {}", py_repr(value))),
    }
}

/// Byte size with optional `KB`/`MB`/`GB` suffix (case-insensitive). Negative values are
/// accepted by supervisord and behave like 0 (no rotation), so they are returned as 0.
pub fn byte_size(value: &str) -> Result<u64, String> {
    let v = value.to_lowercase();
    let (num, mult): (&str, i128) = if let Some(n) = v.strip_suffix("kb") {
        (n, 1024)
    } else if let Some(n) = v.strip_suffix("mb") {
        (n, 1024 * 1024)
    } else if let Some(n) = v.strip_suffix("gb") {
        (n, 1024 * 1024 * 1024)
    } else {
        (v.as_str(), 1)
    };
    let n = integer(num)? as i128;
    Ok((n * mult).clamp(0, u64::MAX as i128) as u64)
}

/// An integer that supervisord accepts even when negative, for an unsigned field: negative
/// values behave like 0 there, so they become 0.
pub fn non_negative(value: &str) -> Result<u64, String> {
    integer(value).map(|v| v.max(0) as u64)
}

/// `log level` names: `critical error warn info debug trace blather`.
pub fn logging_level(value: &str) -> Result<LogLevel, String> {
    Ok(match value.to_lowercase().as_str() {
        "critical" => LogLevel::Critical,
        "error" => LogLevel::Error,
        "warn" => LogLevel::Warn,
        "info" => LogLevel::Info,
        "debug" => LogLevel::Debug,
        "trace" => LogLevel::Trace,
        "blather" => LogLevel::Blather,
        _ => return Err(format!("bad logging level name {}", py_repr(value))),
    })
}

/// Comma-separated exit codes 0..=255; empty gives an empty list.
pub fn exit_codes(value: &str) -> Result<Vec<i32>, String> {
    let err = || format!("not a valid list of exit codes: {}", py_repr(value));
    if value.is_empty() {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(|p| match integer(p) {
            Ok(v) if (0..=255).contains(&v) => Ok(v as i32),
            _ => Err(err()),
        })
        .collect()
}

/// `autorestart`: booleans or `unexpected`.
pub fn auto_restart(value: &str) -> Result<AutoRestart, String> {
    let v = value.to_lowercase();
    match v.as_str() {
        "yes" | "true" | "on" | "1" => Ok(AutoRestart::Always),
        "no" | "false" | "off" | "0" => Ok(AutoRestart::Never),
        "unexpected" => Ok(AutoRestart::Unexpected),
        _ => Err(format!("invalid 'autorestart' value {}", py_repr(&v))),
    }
}

/// Linux signal names (without `SIG`) as Python's `signal` module knows them, with numbers.
const SIGNALS: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
    ("RTMIN", 34),
    ("RTMAX", 64),
];

/// Numbers Python accepts as signal numbers (it also counts `SIG_DFL`/`SIG_IGN`/... as 0..2).
fn valid_signal_number(n: i64) -> bool {
    (0..=31).contains(&n) || n == 34 || n == 64
}

/// Parses a signal the way supervisord does: a number, or a name with or without `SIG`, any
/// case. Errors: `value 'FOO' is not a valid signal name`, `value '99' is not a valid signal number`.
pub fn parse_signal(value: &str) -> Result<SignalSpec, String> {
    let number = match integer(value) {
        Ok(n) => n,
        Err(_) => {
            let upper = value.trim().to_uppercase();
            let name = upper.strip_prefix("SIG").unwrap_or(&upper);
            // Python's signal module also has SIG_DFL, SIG_IGN, SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK.
            let special = match name {
                "_DFL" | "_BLOCK" => Some(0),
                "_IGN" | "_UNBLOCK" => Some(1),
                "_SETMASK" => Some(2),
                _ => None,
            };
            match SIGNALS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v as i64)
                .or(special)
            {
                Some(n) => n,
                None => {
                    return Err(format!(
                        "value {} is not a valid signal name",
                        py_repr(value)
                    ))
                }
            }
        }
    };
    if !valid_signal_number(number) {
        return Err(format!(
            "value {} is not a valid signal number",
            py_repr(value)
        ));
    }
    Ok(SignalSpec {
        number: number as i32,
    })
}

/// The signal's name without `SIG` (`"TERM"`), or the number as text when it has no name.
/// Aliases resolve the way Python's `signal` module names them (6 → ABRT, 17 → CHLD, 29 → POLL).
pub fn signal_name(number: i32) -> String {
    let name = match number {
        6 => Some("ABRT"),
        17 => Some("CHLD"),
        29 => Some("POLL"),
        n => SIGNALS.iter().find(|(_, v)| *v == n).map(|(name, _)| *name),
    };
    name.map_or_else(|| number.to_string(), str::to_string)
}

/// supervisord's `signame()`: `"SIGTERM"`, or `"signal 32"` for a number without a name.
pub fn signame(number: i32) -> String {
    if number == 6 || number == 17 || number == 29 || SIGNALS.iter().any(|(_, v)| *v == number) {
        format!("SIG{}", signal_name(number))
    } else {
        format!("signal {number}")
    }
}

impl SignalSpec {
    /// Name without `SIG` (`"TERM"`); the number as text for unnamed signals.
    pub fn name(&self) -> String {
        signal_name(self.number)
    }
}

impl std::fmt::Display for SignalSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// Process/group name check: stripped; no space, `:` or `/`.
pub fn process_or_group_name(name: &str) -> Result<String, String> {
    let s = name.trim();
    for c in [' ', ':', '/'] {
        if s.contains(c) {
            return Err(format!(
                "Invalid name: {} because of character: {}",
                py_repr(name),
                py_repr(&c.to_string())
            ));
        }
    }
    Ok(s.to_string())
}

/// Comma-separated list of stripped strings; empty gives an empty list.
pub fn list_of_strings(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    value.split(',').map(|s| s.trim().to_string()).collect()
}

/// Python's `os.path.expanduser` for a leading `~` or `~user`.
pub fn expand_user(path: &str) -> String {
    let Some(rest) = path.strip_prefix('~') else {
        return path.to_string();
    };
    let (user, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let home = if user.is_empty() {
        std::env::var("HOME").ok().or_else(|| {
            nix::unistd::User::from_uid(nix::unistd::getuid())
                .ok()
                .flatten()
                .map(|u| u.dir.to_string_lossy().into_owned())
        })
    } else {
        nix::unistd::User::from_name(user)
            .ok()
            .flatten()
            .map(|u| u.dir.to_string_lossy().into_owned())
    };
    match home {
        Some(h) => {
            let h = if h.len() > 1 {
                h.trim_end_matches('/')
            } else {
                &h
            };
            format!("{h}{tail}")
        }
        None => path.to_string(),
    }
}

/// Python's `os.path.normpath(os.path.abspath(path))`: absolute, `.`/`..` removed lexically.
pub fn normalize_path(path: &str, cwd: &Path) -> PathBuf {
    let p = Path::new(path);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    };
    let mut out = PathBuf::from("/");
    for comp in joined.components() {
        match comp {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// `existing_directory`: `~` expanded; must be a directory now. Error `<v> is not an existing directory`.
pub fn existing_directory(value: &str) -> Result<PathBuf, String> {
    let nv = expand_user(value);
    if Path::new(&nv).is_dir() {
        Ok(PathBuf::from(nv))
    } else {
        Err(format!("{value} is not an existing directory"))
    }
}

/// `existing_dirpath`: `~` expanded; the directory part (if any) must exist.
pub fn existing_dirpath(value: &str) -> Result<PathBuf, String> {
    let nv = expand_user(value);
    let dir = match nv.rfind('/') {
        Some(0) => "/",
        Some(i) => nv[..i].trim_end_matches('/'),
        None => "",
    };
    let dir = if dir.is_empty() && nv.contains('/') {
        "/"
    } else {
        dir
    };
    if dir.is_empty() || Path::new(dir).is_dir() {
        Ok(PathBuf::from(nv))
    } else {
        Err(format!(
            "The directory named as part of the path {value} does not exist"
        ))
    }
}

/// A child log file name after `logfile_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFileName {
    /// `NONE`/`OFF`.
    None,
    /// `AUTO`.
    Auto,
    /// Deprecated `syslog`.
    Syslog,
    /// A path whose directory exists.
    Path(PathBuf),
}

/// `logfile_name`: NONE/OFF, AUTO, syslog (case-insensitive) or a path whose directory exists.
pub fn logfile_name(value: &str) -> Result<LogFileName, String> {
    match value.to_lowercase().as_str() {
        "none" | "off" => Ok(LogFileName::None),
        "auto" => Ok(LogFileName::Auto),
        "syslog" => Ok(LogFileName::Syslog),
        _ => existing_dirpath(value).map(LogFileName::Path),
    }
}

/// Resolves a user name or numeric uid. Errors `Invalid user name x` / `Invalid user id 12345`.
pub fn user(value: &str) -> Result<UserSpec, String> {
    use nix::unistd::{Uid, User};
    let found = match integer(value) {
        Ok(uid) => {
            let u = u32::try_from(uid)
                .ok()
                .and_then(|uid| User::from_uid(Uid::from_raw(uid)).ok().flatten());
            u.ok_or_else(|| format!("Invalid user id {value}"))?
        }
        Err(_) => User::from_name(value)
            .ok()
            .flatten()
            .ok_or_else(|| format!("Invalid user name {value}"))?,
    };
    Ok(UserSpec {
        name: found.name,
        uid: found.uid.as_raw(),
        gid: found.gid.as_raw(),
    })
}

/// Resolves a group name or numeric gid (for `user:group`).
fn group_id(value: &str) -> Result<u32, String> {
    use nix::unistd::{Gid, Group};
    match integer(value) {
        Ok(gid) => u32::try_from(gid)
            .ok()
            .and_then(|g| Group::from_gid(Gid::from_raw(g)).ok().flatten())
            .map(|g| g.gid.as_raw())
            .ok_or_else(|| format!("Invalid group id {value}")),
        Err(_) => Group::from_name(value)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw())
            .ok_or_else(|| format!("Invalid group name {value}")),
    }
}

/// `user[:group]` into (uid, gid). Error `Invalid user:group definition <v>`.
pub fn colon_separated_user_group(value: &str) -> Result<(u32, Option<u32>), String> {
    let err = |_| format!("Invalid user:group definition {value}");
    match value.split_once(':') {
        None => Ok((user(value).map_err(err)?.uid, None)),
        Some((u, g)) => Ok((user(u).map_err(err)?.uid, Some(group_id(g).map_err(err)?))),
    }
}

/// `[inet_http_server] port`: `port`, `host:port`, `*:port`, `:port`.
pub fn inet_address(value: &str) -> Result<(String, u16), String> {
    let port_number = |s: &str| -> Result<u16, String> {
        let v = integer(s)?;
        if v < 1 {
            Err(format!("{v} is below lower bound (1)"))
        } else if v > 65535 {
            Err(format!("{v} is above upper bound (65535)"))
        } else {
            Ok(v as u16)
        }
    };
    let (host, port) = match value.rsplit_once(':') {
        Some((h, p)) => {
            if p.is_empty() {
                return Err(format!("no port number specified in {}", py_repr(p)));
            }
            (h.to_lowercase(), port_number(p)?)
        }
        None => {
            let p = port_number(value)
                .map_err(|_| format!("not a valid port number: {} ", py_repr(value)))?;
            (String::new(), p)
        }
    };
    Ok((if host == "*" { String::new() } else { host }, port))
}

/// Python's `shlex.shlex` in legacy (non-POSIX) mode, with supervisord's extra word characters.
fn shlex_legacy(input: &str) -> Result<Vec<String>, String> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || "/.+-():".contains(c);
    let is_ws = |c: char| " \t\r\n".contains(c);
    let chars: Vec<char> = input.chars().collect();
    let mut pos = 0;
    let mut tokens = Vec::new();
    let mut pushback: Option<String> = None;
    // state: None = EOF reached, Some(' ') whitespace, Some('a') word, Some('"'|'\'') quote
    let mut state = Some(' ');
    loop {
        if let Some(t) = pushback.take() {
            tokens.push(t);
            continue;
        }
        let mut token = String::new();
        loop {
            let next = chars.get(pos).copied();
            pos += 1;
            match state {
                None => {
                    token.clear();
                    break;
                }
                Some(' ') => match next {
                    None => {
                        state = None;
                        break;
                    }
                    Some(c) if is_ws(c) => {
                        if !token.is_empty() {
                            break;
                        }
                    }
                    Some('#') => pos = after_comment(&chars, pos),
                    Some(c) if is_word(c) => {
                        token.push(c);
                        state = Some('a');
                    }
                    Some(c) if c == '"' || c == '\'' => {
                        token.push(c);
                        state = Some(c);
                    }
                    Some(c) => {
                        token.push(c);
                        break;
                    }
                },
                Some('a') => match next {
                    None => {
                        state = None;
                        break;
                    }
                    Some(c) if is_ws(c) => {
                        state = Some(' ');
                        if !token.is_empty() {
                            break;
                        }
                    }
                    Some('#') => pos = after_comment(&chars, pos),
                    Some(c) if is_word(c) || c == '"' || c == '\'' => token.push(c),
                    Some(c) => {
                        pushback = Some(c.to_string());
                        state = Some(' ');
                        if !token.is_empty() {
                            break;
                        }
                    }
                },
                Some(q) => match next {
                    None => return Err("No closing quotation".to_string()),
                    Some(c) if c == q => {
                        token.push(c);
                        state = Some(' ');
                        break;
                    }
                    Some(c) => token.push(c),
                },
            }
        }
        if token.is_empty() {
            // A pending pushback token is still delivered before the end.
            if let Some(t) = pushback.take() {
                tokens.push(t);
                continue;
            }
            return Ok(tokens);
        }
        tokens.push(token);
    }
}

/// shlex skips a `#` comment up to and including its newline: the position after it, for a
/// comment whose text starts at `pos`.
fn after_comment(chars: &[char], mut pos: usize) -> usize {
    while pos < chars.len() && chars[pos] != '\n' {
        pos += 1;
    }
    pos + 1
}

/// `environment=` key/value list (`KEY=VAL,KEY2="v, 2"`), in first-seen key order.
pub fn dict_of_key_value_pairs(value: &str) -> Result<Vec<(String, String)>, String> {
    let tokens = shlex_legacy(value)?;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens.len() < i + 3 || tokens[i + 1] != "=" {
            return Err(format!(
                "Unexpected end of key/value pairs in value '{value}'"
            ));
        }
        let key = tokens[i].clone();
        let val = tokens[i + 2]
            .trim_matches(|c| c == '\'' || c == '"')
            .to_string();
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = val,
            None => out.push((key, val)),
        }
        i += 4;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_like_python() {
        assert_eq!(py_repr("abc"), "'abc'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(py_repr("x\ny\t\\"), "'x\\ny\\t\\\\'");
    }

    #[test]
    fn integers() {
        assert_eq!(integer("42"), Ok(42));
        assert_eq!(integer(" -7 "), Ok(-7));
        assert_eq!(integer("+3"), Ok(3));
        assert_eq!(integer("007"), Ok(7));
        assert_eq!(integer("1_000"), Ok(1000));
        assert_eq!(
            integer("abc"),
            Err("invalid literal for int() with base 10: 'abc'".into())
        );
        assert_eq!(
            integer(""),
            Err("invalid literal for int() with base 10: ''".into())
        );
        assert!(integer("1__0").is_err());
        assert!(integer("1.5").is_err());
    }

    #[test]
    fn octals() {
        assert_eq!(octal("022"), Ok(0o22));
        assert_eq!(octal("0o22"), Ok(0o22));
        assert_eq!(octal("777"), Ok(0o777));
        assert_eq!(
            octal("8"),
            Err("8 can not be converted to an octal type".into())
        );
        assert_eq!(
            octal("abc"),
            Err("abc can not be converted to an octal type".into())
        );
    }

    #[test]
    fn booleans() {
        for t in ["yes", "TRUE", "On", "1"] {
            assert_eq!(boolean(t), Ok(true));
        }
        for f in ["no", "False", "OFF", "0"] {
            assert_eq!(boolean(f), Ok(false));
        }
        assert_eq!(
            boolean("maybe"),
            Err("not a valid boolean value: 'maybe'".into())
        );
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(byte_size("50MB"), Ok(50 * 1024 * 1024));
        assert_eq!(byte_size("1kb"), Ok(1024));
        assert_eq!(byte_size("2GB"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(byte_size("50 MB"), Ok(50 * 1024 * 1024));
        assert_eq!(byte_size("0"), Ok(0));
        assert_eq!(byte_size("-1"), Ok(0));
        assert_eq!(
            byte_size("1.5MB"),
            Err("invalid literal for int() with base 10: '1.5'".into())
        );
        assert_eq!(
            byte_size("5B"),
            Err("invalid literal for int() with base 10: '5b'".into())
        );
    }

    #[test]
    fn levels_exitcodes_autorestart() {
        assert_eq!(logging_level("WARN"), Ok(LogLevel::Warn));
        assert_eq!(logging_level("blather"), Ok(LogLevel::Blather));
        assert_eq!(logging_level("x"), Err("bad logging level name 'x'".into()));
        assert_eq!(exit_codes("0,2"), Ok(vec![0, 2]));
        assert_eq!(exit_codes("0, 2"), Ok(vec![0, 2]));
        assert_eq!(exit_codes(""), Ok(vec![]));
        assert_eq!(
            exit_codes("0,300"),
            Err("not a valid list of exit codes: '0,300'".into())
        );
        assert_eq!(
            exit_codes("a"),
            Err("not a valid list of exit codes: 'a'".into())
        );
        assert_eq!(auto_restart("true"), Ok(AutoRestart::Always));
        assert_eq!(auto_restart("Unexpected"), Ok(AutoRestart::Unexpected));
        assert_eq!(auto_restart("off"), Ok(AutoRestart::Never));
        assert_eq!(
            auto_restart("Sometimes"),
            Err("invalid 'autorestart' value 'sometimes'".into())
        );
    }

    #[test]
    fn signals() {
        assert_eq!(parse_signal("TERM"), Ok(SignalSpec { number: 15 }));
        assert_eq!(parse_signal("sigterm"), Ok(SignalSpec { number: 15 }));
        assert_eq!(parse_signal(" hup "), Ok(SignalSpec { number: 1 }));
        assert_eq!(parse_signal("9"), Ok(SignalSpec { number: 9 }));
        assert_eq!(parse_signal("IOT"), Ok(SignalSpec { number: 6 }));
        assert_eq!(
            parse_signal("FOO"),
            Err("value 'FOO' is not a valid signal name".into())
        );
        assert_eq!(
            parse_signal("99"),
            Err("value '99' is not a valid signal number".into())
        );
        assert_eq!(signal_name(15), "TERM");
        assert_eq!(signal_name(6), "ABRT");
        assert_eq!(signal_name(40), "40");
        assert_eq!(signame(9), "SIGKILL");
        assert_eq!(signame(32), "signal 32");
        assert_eq!(SignalSpec { number: 2 }.to_string(), "INT");
    }

    #[test]
    fn names() {
        assert_eq!(process_or_group_name(" web "), Ok("web".into()));
        assert_eq!(
            process_or_group_name("a b"),
            Err("Invalid name: 'a b' because of character: ' '".into())
        );
        assert_eq!(
            process_or_group_name("a/b:c"),
            Err("Invalid name: 'a/b:c' because of character: ':'".into())
        );
        assert_eq!(list_of_strings("a, b ,c"), vec!["a", "b", "c"]);
        assert!(list_of_strings("").is_empty());
    }

    #[test]
    fn paths() {
        assert_eq!(
            normalize_path("a/../b/./c", Path::new("/x/y")),
            PathBuf::from("/x/y/b/c")
        );
        assert_eq!(
            normalize_path("/a//b/", Path::new("/")),
            PathBuf::from("/a/b")
        );
        assert_eq!(existing_dirpath("x.log"), Ok(PathBuf::from("x.log")));
        assert_eq!(
            existing_dirpath("/tmp/x.log"),
            Ok(PathBuf::from("/tmp/x.log"))
        );
        assert_eq!(
            existing_dirpath("/nonexist/x.log"),
            Err("The directory named as part of the path /nonexist/x.log does not exist".into())
        );
        assert_eq!(
            existing_directory("/nonexist"),
            Err("/nonexist is not an existing directory".into())
        );
        assert_eq!(logfile_name("AUTO"), Ok(LogFileName::Auto));
        assert_eq!(logfile_name("off"), Ok(LogFileName::None));
        assert_eq!(logfile_name("Syslog"), Ok(LogFileName::Syslog));
        assert!(!expand_user("~/x").starts_with('~') || std::env::var("HOME").is_err());
        assert_eq!(expand_user("/a/~b"), "/a/~b");
    }

    #[test]
    fn users() {
        assert_eq!(user("root").map(|u| u.uid), Ok(0));
        assert_eq!(user("0").map(|u| u.name), Ok("root".into()));
        assert_eq!(
            user("nosuchuser"),
            Err("Invalid user name nosuchuser".into())
        );
        assert_eq!(user("12345"), Err("Invalid user id 12345".into()));
        assert_eq!(colon_separated_user_group("root:root"), Ok((0, Some(0))));
        assert_eq!(colon_separated_user_group("root"), Ok((0, None)));
        assert_eq!(
            colon_separated_user_group("nope"),
            Err("Invalid user:group definition nope".into())
        );
    }

    #[test]
    fn inet() {
        assert_eq!(inet_address("9001"), Ok((String::new(), 9001)));
        assert_eq!(
            inet_address("LocalHost:9001"),
            Ok(("localhost".into(), 9001))
        );
        assert_eq!(inet_address("*:9001"), Ok((String::new(), 9001)));
        assert_eq!(inet_address(":9001"), Ok((String::new(), 9001)));
        assert_eq!(
            inet_address("0"),
            Err("not a valid port number: '0' ".into())
        );
        assert_eq!(
            inet_address("h:0"),
            Err("0 is below lower bound (1)".into())
        );
        assert_eq!(
            inet_address("h:70000"),
            Err("70000 is above upper bound (65535)".into())
        );
        assert_eq!(
            inet_address("h:"),
            Err("no port number specified in ''".into())
        );
    }

    #[test]
    fn environment_lists() {
        let kv = |s: &str| dict_of_key_value_pairs(s);
        let own = |v: &[(&str, &str)]| -> Result<Vec<(String, String)>, String> {
            Ok(v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect())
        };
        assert_eq!(kv("A=1,B=2"), own(&[("A", "1"), ("B", "2")]));
        assert_eq!(kv("A=\"x, y\",b='z'"), own(&[("A", "x, y"), ("b", "z")]));
        assert_eq!(kv("A=\"\""), own(&[("A", "")]));
        assert_eq!(kv("PATH=/usr/bin:/bin"), own(&[("PATH", "/usr/bin:/bin")]));
        assert_eq!(kv("\nA=\"1\",\nB=\"2\""), own(&[("A", "1"), ("B", "2")]));
        assert_eq!(kv(""), own(&[]));
        assert_eq!(kv("A=1,A=2"), own(&[("A", "2")]));
        assert_eq!(
            kv("A=1,B"),
            Err("Unexpected end of key/value pairs in value 'A=1,B'".into())
        );
        assert_eq!(
            kv("A="),
            Err("Unexpected end of key/value pairs in value 'A='".into())
        );
        assert_eq!(
            kv("A=1 B=2"),
            Err("Unexpected end of key/value pairs in value 'A=1 B=2'".into())
        );
        assert_eq!(kv("A=\"1"), Err("No closing quotation".into()));
    }
}
