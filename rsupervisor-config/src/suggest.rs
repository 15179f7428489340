//! "Did you mean ...?": the nearest known word to a misspelt one, by edit distance, for
//! warnings about unknown keys and conditions.
//!
//! supervisord accepts keys it does not know and ignores them; so do we, but a typo in a
//! key (`depend_on`) would then silently do nothing. [`unknown_keys`] lists every unknown
//! key of a process section with its place and the nearest known key, for `--check` and
//! the main log at start.

use crate::ini::Ini;

/// The keys of `[program:x]`, `[fcgi-program:x]` and `[eventlistener:x]` that supervisord
/// 4.3.0 or rsupervisor reads. A branch that adds a key adds it here.
pub const PROCESS_KEYS: &[&str] = &[
    // supervisord
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "priority",
    "autostart",
    "autorestart",
    "startsecs",
    "startretries",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "redirect_stderr",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
    "environment",
    "directory",
    "umask",
    "serverurl",
    // [eventlistener:x] and [fcgi-program:x]
    "buffer_size",
    "events",
    "result_handler",
    "socket",
    "socket_backlog",
    "socket_owner",
    "socket_mode",
    // rsupervisor
    "env_file",
    "restart_delay",
    "restart_delay_max",
    "restart_delay_reset",
    "restart_limit",
    "restart_limit_cooldown",
    "depends_on",
    "healthcheck",
    "healthcheck_interval",
    "healthcheck_timeout",
    "healthcheck_retries",
    "healthcheck_start_period",
    "healthcheck_action",
    "ready_log",
    "on_dependency_failure",
    "wait_for",
    "wait_for_timeout",
    "stdout_log_format",
    "stderr_log_format",
    "schedule",
    "schedule_timezone",
    "schedule_jitter",
    "schedule_overlap",
    "schedule_catchup",
    "schedule_timeout",
    "memory_max",
    "memory_high",
    "memory_restart",
    "cpu_max",
    "pids_max",
    "rlimit_nofile",
    "rlimit_core",
    "rlimit_as",
];

/// `file:line: [section] key: unknown key, did you mean other?` for every key of a process
/// section that nobody reads (keys from `[DEFAULT]` are not the section's own and are left
/// alone).
pub fn unknown_keys(ini: &Ini) -> Vec<String> {
    let mut warnings = Vec::new();
    let process_section = |name: &str| {
        ["program:", "fcgi-program:", "eventlistener:"]
            .iter()
            .any(|kind| name.starts_with(kind))
    };
    for section in ini.sections.iter().filter(|s| process_section(&s.name)) {
        for entry in &section.entries {
            if PROCESS_KEYS.contains(&entry.key.as_str()) {
                continue;
            }
            let hint = match nearest(&entry.key, PROCESS_KEYS.iter().copied()) {
                Some(known) => format!(", did you mean {known}?"),
                None => " (ignored)".to_owned(),
            };
            warnings.push(format!(
                "{}:{}: [{}] {}: unknown key{hint}",
                ini.file(entry.file).display(),
                entry.line,
                section.name,
                entry.key
            ));
        }
    }
    warnings
}

/// The Levenshtein distance between two words (ASCII case-insensitive).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_ascii_lowercase().chars().collect();
    let b: Vec<char> = b.to_ascii_lowercase().chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// Whether `word` is close enough to `known` to be a typo of it: at most one edit per four
/// letters, and at least one.
pub fn close(word: &str, known: &str) -> bool {
    distance(word, known) <= (known.len() / 4).max(1)
}

/// The known word `word` is most likely a typo of.
pub fn nearest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .filter(|candidate| close(word, candidate))
        .min_by_key(|candidate| distance(word, candidate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_suggestions() {
        assert_eq!(distance("depend_on", "depends_on"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert!(close("helthy", "healthy"));
        assert!(!close("w_0", "running"));
        assert_eq!(
            nearest("depend_on", ["command", "depends_on", "directory"]),
            Some("depends_on")
        );
        assert_eq!(nearest("xyzzy", ["command", "depends_on"]), None);
    }

    #[test]
    fn warns_about_unknown_keys_only() {
        let mut ini = Ini::new();
        let errors = ini.read_str(
            "[supervisord]\nfoo=1\n[program:a]\ncommand=x\ndepend_on=db\nxyzzy=1\n",
            std::path::Path::new("/etc/s.conf"),
        );
        assert!(errors.is_empty());
        assert_eq!(
            unknown_keys(&ini),
            [
                "/etc/s.conf:5: [program:a] depend_on: unknown key, did you mean depends_on?",
                "/etc/s.conf:6: [program:a] xyzzy: unknown key (ignored)",
            ]
        );
    }
}
