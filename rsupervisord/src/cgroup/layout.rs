//! Where the daemon's cgroups are, as pure functions of what the kernel lists: the
//! hierarchies mounted (`/proc/self/mountinfo`), the daemon's own cgroup in each
//! (`/proc/self/cgroup`), and the names of the directories the daemon creates under it.
//!
//! Layout, in every hierarchy used: `<own cgroup>/rsupervisord-<daemon pid>/prog-<name>`,
//! one `prog-` directory per process. The daemon's pid in the name lets several daemons
//! share a parent cgroup (the tests run many at once) and lets a new daemon tell the
//! directories of a crashed one (pid gone) from those of a live one.

use std::path::{Path, PathBuf};

/// The resource controllers the daemon uses.
pub const CONTROLLERS: [&str; 4] = ["memory", "cpu", "cpuacct", "pids"];

/// One cgroup hierarchy mounted on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Where it is mounted.
    pub point: PathBuf,
    /// The cgroup the mount shows at its top (`/` unless a container mounted a subtree).
    pub root: String,
    /// `None`: the v2 (unified) hierarchy; otherwise the v1 controllers bound to it.
    pub controllers: Option<Vec<String>>,
}

/// Cgroup mounts listed in `/proc/self/mountinfo` text.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    let mut mounts = Vec::new();
    for line in text.lines() {
        // id parent major:minor root point options [optional...] - fstype source superoptions
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let fields: Vec<&str> = left.split(' ').collect();
        let tail: Vec<&str> = right.split(' ').collect();
        if fields.len() < 5 || tail.len() < 3 {
            continue;
        }
        let point = PathBuf::from(unescape(fields[4]));
        let root = unescape(fields[3]);
        match tail[0] {
            "cgroup2" => mounts.push(Mount {
                point,
                root,
                controllers: None,
            }),
            "cgroup" => {
                let controllers: Vec<String> = tail[2]
                    .split(',')
                    .filter(|option| CONTROLLERS.contains(option))
                    .map(str::to_owned)
                    .collect();
                if !controllers.is_empty() {
                    mounts.push(Mount {
                        point,
                        root,
                        controllers: Some(controllers),
                    });
                }
            }
            _ => {}
        }
    }
    mounts
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            let octal = std::str::from_utf8(&bytes[i + 1..i + 4]).unwrap_or("");
            if let Ok(value) = u8::from_str_radix(octal, 8) {
                out.push(value);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The daemon's own cgroups from `/proc/self/cgroup` text: the v2 path (`0::/x`) and, per
/// v1 controller, its path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnCgroups {
    /// Path in the v2 hierarchy.
    pub v2: Option<String>,
    /// (controllers of the line, path) for each v1 hierarchy.
    pub v1: Vec<(Vec<String>, String)>,
}

/// Parses `/proc/self/cgroup`.
pub fn parse_proc_cgroup(text: &str) -> OwnCgroups {
    let mut own = OwnCgroups::default();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if controllers.is_empty() {
            own.v2 = Some(path.to_owned());
        } else {
            own.v1.push((
                controllers.split(',').map(str::to_owned).collect(),
                path.to_owned(),
            ));
        }
    }
    own
}

/// The directory of cgroup `path` in a hierarchy mounted as `mount`; `None` when the
/// mount does not show it (a container's mount of another subtree).
pub fn cgroup_dir(mount: &Mount, path: &str) -> Option<PathBuf> {
    let root = mount.root.trim_end_matches('/');
    let relative = path.strip_prefix(root)?;
    if !(relative.is_empty() || relative.starts_with('/')) {
        return None;
    }
    Some(mount.point.join(relative.trim_start_matches('/')))
}

/// The directory the daemon with pid `pid` creates under its own cgroup.
pub fn daemon_dir_name(pid: u32) -> String {
    format!("rsupervisord-{pid}")
}

/// The daemon pid of a directory made by [`daemon_dir_name`] (or its `.daemon` leaf, where a
/// daemon on a v2 host moves itself), else `None`.
pub fn daemon_dir_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("rsupervisord-")?;
    let rest = rest.strip_suffix(".daemon").unwrap_or(rest);
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
}

/// The directory of one process (`group:name`): `prog-` keeps it apart from the kernel's
/// own files (`memory.max`, `cgroup.procs`), and a `/` (never in a valid name) would be
/// replaced.
pub fn process_dir_name(namespec: &str) -> String {
    let safe: String = namespec
        .chars()
        .map(|c| if c == '/' || c.is_control() { '_' } else { c })
        .collect();
    format!("prog-{safe}")
}

/// Whether `dir` is a process directory made by [`process_dir_name`].
pub fn is_process_dir(dir: &Path) -> bool {
    dir.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("prog-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn hybrid_mounts() {
        let mounts = parse_mountinfo(HYBRID);
        let names: Vec<_> = mounts
            .iter()
            .map(|m| (m.point.display().to_string(), m.controllers.clone()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("/sys/fs/cgroup/cpu".into(), Some(vec!["cpu".into()])),
                (
                    "/sys/fs/cgroup/cpuacct".into(),
                    Some(vec!["cpuacct".into()])
                ),
                ("/sys/fs/cgroup/memory".into(), Some(vec!["memory".into()])),
                ("/sys/fs/cgroup/pids".into(), Some(vec!["pids".into()])),
                ("/sys/fs/cgroup/unified".into(), None),
            ]
        );
        let comounted = "40 31 0:37 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct";
        assert_eq!(
            parse_mountinfo(comounted)[0].controllers,
            Some(vec!["cpu".into(), "cpuacct".into()])
        );
        let escaped = "41 31 0:38 / /mnt/my\\040cg rw - cgroup2 cgroup2 rw";
        assert_eq!(
            parse_mountinfo(escaped)[0].point,
            PathBuf::from("/mnt/my cg")
        );
    }

    #[test]
    fn own_cgroups_and_dirs() {
        let own = parse_proc_cgroup(
            "8:pids:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/x\n0::/system.slice/r.service\n",
        );
        assert_eq!(own.v2.as_deref(), Some("/system.slice/r.service"));
        assert_eq!(
            own.v1[1],
            (vec!["memory".to_owned()], "/process_api/abc".to_owned())
        );
        let mount = Mount {
            point: "/sys/fs/cgroup/memory".into(),
            root: "/".into(),
            controllers: Some(vec!["memory".into()]),
        };
        assert_eq!(
            cgroup_dir(&mount, "/process_api/abc"),
            Some(PathBuf::from("/sys/fs/cgroup/memory/process_api/abc"))
        );
        assert_eq!(
            cgroup_dir(&mount, "/"),
            Some(PathBuf::from("/sys/fs/cgroup/memory"))
        );
        let sub = Mount {
            root: "/process_api".into(),
            ..mount
        };
        assert_eq!(
            cgroup_dir(&sub, "/process_api/abc"),
            Some(PathBuf::from("/sys/fs/cgroup/memory/abc"))
        );
        assert_eq!(cgroup_dir(&sub, "/other"), None);
        assert_eq!(cgroup_dir(&sub, "/process_apix"), None);
    }

    #[test]
    fn names() {
        assert_eq!(daemon_dir_name(42), "rsupervisord-42");
        assert_eq!(daemon_dir_pid("rsupervisord-42"), Some(42));
        assert_eq!(daemon_dir_pid("rsupervisord-42.daemon"), Some(42));
        assert_eq!(daemon_dir_pid("rsupervisord-"), None);
        assert_eq!(daemon_dir_pid("rsupervisord-4x"), None);
        assert_eq!(daemon_dir_pid("other"), None);
        assert_eq!(process_dir_name("web:web_01"), "prog-web:web_01");
        assert_eq!(process_dir_name("a/b"), "prog-a_b");
        assert!(is_process_dir(Path::new("/x/prog-a")));
        assert!(!is_process_dir(Path::new("/x/memory.max")));
    }
}
