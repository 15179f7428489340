//! The contents of cgroup interface files, as pure functions: the values the daemon writes
//! (limits in v1 and v2 syntax) and the numbers it reads back (`memory.events`,
//! `memory.oom_control`, `cpu.stat`, `cpuacct.usage`, `cgroup.events`).

/// The CFS period the daemon uses for `cpu_max`: 100 ms, the kernel's default.
pub const CPU_PERIOD_US: u64 = 100_000;

/// v1 `cpu.cfs_quota_us` for `cpu_max` in thousandths of a core (`-1`: no limit).
pub fn v1_cpu_quota(millicores: Option<u32>) -> String {
    match millicores {
        Some(m) => (u64::from(m) * CPU_PERIOD_US / 1000).to_string(),
        None => "-1".to_owned(),
    }
}

/// v2 `cpu.max` for `cpu_max` in thousandths of a core.
pub fn v2_cpu_max(millicores: Option<u32>) -> String {
    match millicores {
        Some(m) => format!("{} {CPU_PERIOD_US}", u64::from(m) * CPU_PERIOD_US / 1000),
        None => format!("max {CPU_PERIOD_US}"),
    }
}

/// A v1 byte limit (`-1`: none).
pub fn v1_bytes(limit: Option<u64>) -> String {
    limit.map_or_else(|| "-1".to_owned(), |b| b.to_string())
}

/// A v2 limit (`max`: none); also v1 `pids.max`.
pub fn max_or(limit: Option<u64>) -> String {
    limit.map_or_else(|| "max".to_owned(), |b| b.to_string())
}

/// The value of `key` in a flat keyed file (`key value` lines: `memory.events`,
/// `memory.oom_control`, `cpu.stat`, `cgroup.events`).
pub fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(' ')?;
        (name == key).then(|| value.trim().parse().ok())?
    })
}

/// A file holding one number (`memory.usage_in_bytes`, `cpuacct.usage`, `pids.current`).
pub fn single(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// The pids listed in a `cgroup.procs` file.
pub fn pids(text: &str) -> Vec<i32> {
    text.lines().filter_map(|l| l.trim().parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(v1_cpu_quota(Some(500)), "50000");
        assert_eq!(v1_cpu_quota(Some(2000)), "200000");
        assert_eq!(v1_cpu_quota(None), "-1");
        assert_eq!(v2_cpu_max(Some(250)), "25000 100000");
        assert_eq!(v2_cpu_max(None), "max 100000");
        assert_eq!(v1_bytes(Some(512 << 20)), "536870912");
        assert_eq!(v1_bytes(None), "-1");
        assert_eq!(max_or(Some(64)), "64");
        assert_eq!(max_or(None), "max");
    }

    #[test]
    fn readings() {
        let oom_control = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n";
        assert_eq!(keyed(oom_control, "oom_kill"), Some(2));
        let events = "low 0\nhigh 12\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(keyed(events, "oom_kill"), Some(1));
        assert_eq!(keyed(events, "high"), Some(12));
        assert_eq!(keyed(events, "missing"), None);
        let cpu_stat = "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n";
        assert_eq!(keyed(cpu_stat, "usage_usec"), Some(1_500_000));
        assert_eq!(keyed("populated 0\nfrozen 0\n", "populated"), Some(0));
        assert_eq!(single("123456\n"), Some(123_456));
        assert_eq!(single("max\n"), None);
        assert_eq!(pids("12\n34\n"), vec![12, 34]);
        assert_eq!(pids(""), Vec::<i32>::new());
    }
}
