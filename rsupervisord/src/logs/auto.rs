//! AUTO child logs: naming, exclusive creation and startup cleanup.
//!
//! Names follow supervisord: `<childlogdir>/<procname>-<channel>---<identifier>-<8
//! random chars>.log`, with the random part drawn from `[a-z0-9_]` like Python's
//! `tempfile`. A new name is made every time a group is (re)added. The file is created
//! exclusively with mode 0600, so a name is never shared with a stale or hostile file.
//!
//! [`cleanup_auto_logs`] deletes what a previous run left, using a hand-written matcher for
//! supervisord's regex `.+?---<identifier>-\S+\.log\.{0,1}\d{0,4}` applied with `re.match`
//! (anchored at the start only, so the `\.{0,1}\d{0,4}` tail can match nothing and any
//! name with a matching prefix qualifies — including other programs' backups). Unlike
//! supervisord, the identifier is matched literally rather than as a regex fragment.

use std::collections::hash_map::RandomState;
use std::fs::{self, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::rotate::MODE_AUTO;
use super::Channel;

/// Characters of the random part, as in Python's `tempfile._RandomNameSequence`.
const RANDOM_ALPHABET: &[u8; 37] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
/// How many names to try before giving up on `EEXIST` (as Python's `TMP_MAX` idea).
const ATTEMPTS: usize = 100;

/// The file name (without directory) an AUTO log would get with the given random part.
pub fn auto_log_name(procname: &str, channel: Channel, identifier: &str, random: &str) -> String {
    format!(
        "{procname}-{}---{identifier}-{random}.log",
        channel.as_str()
    )
}

/// Creates a new, empty AUTO log file in `childlogdir` (mode 0600, exclusive) and returns
/// its path. The caller then opens it with [`super::RotatingFile::open`] and `MODE_AUTO`.
pub fn create_auto_log(
    childlogdir: &Path,
    procname: &str,
    channel: Channel,
    identifier: &str,
) -> io::Result<PathBuf> {
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let name = auto_log_name(procname, channel, identifier, &random_suffix());
        let path = childlogdir.join(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(MODE_AUTO)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no free AUTO log name")))
}

/// Eight characters from [`RANDOM_ALPHABET`]. std's `RandomState` is keyed from the
/// kernel's random source once per thread and steps its key for every new instance, so
/// each name is new and not predictable from the last (Python's `tempfile` also seeds its
/// generator once); the exclusive create is what makes the file ours. Cheaper than reading
/// `/dev/urandom` for each of the two names per program (three system calls each).
/// Nothing is hashed: under a fresh key, the hash of nothing is already a random draw
/// (mixing in the time or the pid would add nothing to it).
fn random_suffix() -> String {
    RandomState::new()
        .build_hasher()
        .finish()
        .to_le_bytes()
        .iter()
        .map(|byte| char::from(RANDOM_ALPHABET[usize::from(*byte) % RANDOM_ALPHABET.len()]))
        .collect()
}

/// Whether `file_name` matches supervisord's AUTO-log cleanup regex for `identifier`
/// (see the module docs).
pub fn is_auto_log_name(file_name: &str, identifier: &str) -> bool {
    let marker = format!("---{identifier}-");
    // `.+?` needs at least one character before the marker.
    let mut search_from = first_char_len(file_name);
    while let Some(found) = file_name
        .get(search_from..)
        .and_then(|rest| rest.find(&marker))
    {
        let at = search_from + found;
        // `.` does not match a newline, so the prefix must not contain one.
        if file_name[..at].contains('\n') {
            return false;
        }
        let rest = &file_name[at + marker.len()..];
        // `\S+` is at least one non-whitespace character, directly followed by `.log`.
        let non_space = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let skip = first_char_len(rest);
        if let Some(dot) = rest.get(skip..).and_then(|tail| tail.find(".log")) {
            if skip > 0 && skip + dot <= non_space {
                return true;
            }
        }
        // The marker is ASCII, so one byte past its start is a character boundary.
        search_from = at + 1;
    }
    false
}

fn first_char_len(text: &str) -> usize {
    text.chars().next().map_or(0, char::len_utf8)
}

/// Deletes every file in `childlogdir` whose name matches supervisord's AUTO-log regex for
/// `identifier` (done at startup unless `nocleanup`). Returns the deleted paths; files that
/// cannot be deleted are skipped, as supervisord does. Fails only if the directory cannot
/// be listed.
pub fn cleanup_auto_logs(childlogdir: &Path, identifier: &str) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for entry in fs::read_dir(childlogdir)? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        if !is_auto_log_name(&name.to_string_lossy(), identifier) {
            continue;
        }
        let path = entry.path();
        if fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed.sort();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn names_follow_supervisord() {
        assert_eq!(
            auto_log_name("good", Channel::Stdout, "supervisor", "ogjb_tt9"),
            "good-stdout---supervisor-ogjb_tt9.log"
        );
        let suffix = random_suffix();
        assert_eq!(suffix.len(), 8);
        assert!(suffix.bytes().all(|byte| RANDOM_ALPHABET.contains(&byte)));
        // Each call draws anew (37^8 names: a repeat among 1,000 has odds of about 1e-7).
        let drawn: std::collections::HashSet<String> = (0..1000).map(|_| random_suffix()).collect();
        assert_eq!(drawn.len(), 1000);
    }

    #[test]
    fn created_exclusively_with_mode_0600_and_unique() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = create_auto_log(dir.path(), "web", Channel::Stderr, "supervisor").expect("a");
        let second = create_auto_log(dir.path(), "web", Channel::Stderr, "supervisor").expect("b");
        assert_ne!(first, second);
        let name = first
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert!(name.starts_with("web-stderr---supervisor-") && name.ends_with(".log"));
        assert!(is_auto_log_name(&name, "supervisor"));
        let mode = fs::metadata(&first).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn cleanup_regex_matches() {
        for name in [
            "good-stdout---supervisor-ogjb_tt9.log",
            "good-stdout---supervisor-ogjb_tt9.log.1",
            "good-stdout---supervisor-ogjb_tt9.log.10",
            "good-stderr---supervisor-abc.log.12345",
            "x---supervisor-y.log",
            "a-b---supervisor-c---supervisor-d.log",
            // re.match only anchors the start: anything may follow `.log`.
            "p---supervisor-q.logfile",
            "p---supervisor-q.log.bak",
            "weird name---supervisor-r.log",
        ] {
            assert!(is_auto_log_name(name, "supervisor"), "{name}");
        }
    }

    #[test]
    fn cleanup_regex_non_matches() {
        for name in [
            "---supervisor-abc.log",            // `.+?` needs a character first
            "good-stdout---supervisor-.log",    // `\S+` needs a character
            "good-stdout---other-abc.log",      // another identifier
            "good-stdout--supervisor-abc.log",  // two dashes
            "good-stdout---supervisor-a b.log", // whitespace in `\S+`
            "good-stdout---supervisor-abc.txt",
            "supervisord.log",
            "line\nbreak---supervisor-a.log",
        ] {
            assert!(!is_auto_log_name(name, "supervisor"), "{name:?}");
        }
    }

    #[test]
    fn cleanup_deletes_only_matching_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let keep = ["supervisord.log", "app.log", "good-stdout---other-abc.log"];
        let delete = [
            "good-stdout---supervisor-abc.log",
            "good-stdout---supervisor-abc.log.3",
        ];
        for name in keep.iter().chain(delete.iter()) {
            fs::write(dir.path().join(name), b"x").expect("seed");
        }
        let removed = cleanup_auto_logs(dir.path(), "supervisor").expect("cleanup");
        let removed: Vec<String> = removed
            .iter()
            .map(|path| {
                path.file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(removed, delete);
        for name in keep {
            assert!(dir.path().join(name).exists(), "{name}");
        }
    }
}
