//! rsupervisor's resource keys (supervisord has none of them): the per-program cgroup limits
//! `memory_max`, `memory_high`, `cpu_max`, `pids_max`, the rlimits `rlimit_nofile`,
//! `rlimit_core`, `rlimit_as` applied in the child, and `[supervisord] cgroups`.
//!
//! Sizes use supervisord's byte-size syntax (`512MB`, `64KB`, `1GB`, or bytes); `cpu_max` is a
//! number of cores (`0.5`, `2`); an rlimit is a number or `unlimited`. Error texts say what was
//! given and what is expected.

use serde::Serialize;

/// `[supervisord] cgroups`: whether programs get cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CgroupSetting {
    /// Use cgroups where the daemon can create them (the default).
    #[default]
    Auto,
    /// Never: process-group signalling and rlimits only.
    Off,
}

/// A program's resource keys; all `None` (the default) is supervisord's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ResourceLimits {
    /// `memory_max`: bytes; past it the kernel's OOM killer ends a process of the program.
    pub memory_max: Option<u64>,
    /// `memory_high`: bytes; the kernel throttles and reclaims above it (v1: the soft limit).
    pub memory_high: Option<u64>,
    /// `memory_restart`: bytes; reaching it restarts the program gracefully (stop, start).
    pub memory_restart: Option<u64>,
    /// `cpu_max`: thousandths of a core (`0.5` is 500).
    pub cpu_max: Option<u32>,
    /// `pids_max`: processes and threads the program may have at once.
    pub pids_max: Option<u64>,
    /// `rlimit_nofile`: open files (soft and hard); `u64::MAX` is unlimited.
    pub rlimit_nofile: Option<u64>,
    /// `rlimit_core`: core file size in bytes (soft and hard); `u64::MAX` is unlimited.
    pub rlimit_core: Option<u64>,
    /// `rlimit_as`: address space in bytes (soft and hard); `u64::MAX` is unlimited.
    pub rlimit_as: Option<u64>,
}

impl CgroupSetting {
    /// The default, `auto`.
    pub fn is_auto(&self) -> bool {
        *self == CgroupSetting::Auto
    }
}

impl ResourceLimits {
    /// No key set: supervisord's behaviour.
    pub fn is_none(&self) -> bool {
        *self == ResourceLimits::default()
    }

    /// Whether any key needs a cgroup (the rlimits do not).
    pub fn wants_cgroup(&self) -> bool {
        self.memory_max.is_some()
            || self.memory_high.is_some()
            || self.memory_restart.is_some()
            || self.cpu_max.is_some()
            || self.pids_max.is_some()
    }
}

/// The smallest memory limit accepted: below it a program could not even be loaded.
const MIN_MEMORY: u64 = 1 << 20;

/// Parses `[supervisord] cgroups`: `auto` or `off`.
pub fn cgroup_setting(value: &str) -> Result<CgroupSetting, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "auto" => Ok(CgroupSetting::Auto),
        "off" => Ok(CgroupSetting::Off),
        _ => Err(format!(
            "invalid cgroups value {value:?}: expected auto or off"
        )),
    }
}

/// Parses a memory size (`memory_max`, `memory_high`): at least 1MB.
pub fn memory(value: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "invalid memory size {value:?}: expected bytes or a number with KB, MB or GB, for \
             example 512MB, of at least 1MB"
        )
    };
    let text = value.trim();
    if text.is_empty() || text.starts_with('-') {
        return Err(bad());
    }
    let bytes = crate::datatypes::byte_size(text).map_err(|_| bad())?;
    if bytes < MIN_MEMORY {
        return Err(bad());
    }
    Ok(bytes)
}

/// Parses `cpu_max`: cores, more than 0, in steps of 0.01 at the finest (the kernel's
/// smallest quota is 1 ms per 100 ms period). Returns thousandths of a core.
pub fn cpu_max(value: &str) -> Result<u32, String> {
    let bad = || {
        format!(
            "invalid cpu_max {value:?}: expected a number of cores from 0.01 to 4096, for \
             example 0.5 (half a core) or 2"
        )
    };
    let text = value.trim();
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(bad());
    }
    let cores: f64 = text.parse().map_err(|_| bad())?;
    if !(0.01..=4096.0).contains(&cores) {
        return Err(bad());
    }
    Ok((cores * 1000.0).round() as u32)
}

/// Parses `pids_max`: a whole number of at least 1.
pub fn pids_max(value: &str) -> Result<u64, String> {
    match value.trim().parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "invalid pids_max {value:?}: expected a whole number of processes, at least 1"
        )),
    }
}

/// Parses `rlimit_nofile`: a whole number of at least 1, or `unlimited`.
pub fn rlimit_count(value: &str) -> Result<u64, String> {
    let text = value.trim();
    if text.eq_ignore_ascii_case("unlimited") {
        return Ok(u64::MAX);
    }
    match text.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "invalid limit {value:?}: expected a whole number (at least 1) or unlimited"
        )),
    }
}

/// Parses `rlimit_core` / `rlimit_as`: a byte size (0 allowed: no core files), or `unlimited`.
pub fn rlimit_bytes(value: &str) -> Result<u64, String> {
    let text = value.trim();
    if text.eq_ignore_ascii_case("unlimited") {
        return Ok(u64::MAX);
    }
    let bad = || {
        format!(
            "invalid limit {value:?}: expected bytes or a number with KB, MB or GB (for \
             example 1GB), or unlimited"
        )
    };
    if text.is_empty() || text.starts_with('-') {
        return Err(bad());
    }
    crate::datatypes::byte_size(text).map_err(|_| bad())
}

/// A byte count as an operator reads it: `512 MB`, `1.5 GB`, `64 KB`, `100 bytes` (units of
/// 1024, as the configuration's sizes).
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)];
    for (unit, size) in UNITS {
        if bytes >= size {
            let value = bytes as f64 / size as f64;
            return if bytes % size == 0 {
                format!("{} {unit}", bytes / size)
            } else {
                format!("{value:.1} {unit}")
            };
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes() {
        assert_eq!(memory("512MB"), Ok(512 << 20));
        assert_eq!(memory(" 1gb "), Ok(1 << 30));
        assert_eq!(memory("1048576"), Ok(1 << 20));
        for bad in ["", "-1MB", "512KB", "lots", "0"] {
            let error = memory(bad).expect_err(bad);
            assert!(error.contains("for example 512MB"), "{bad}: {error}");
        }
    }

    #[test]
    fn cpu_cores() {
        assert_eq!(cpu_max("0.5"), Ok(500));
        assert_eq!(cpu_max("2"), Ok(2000));
        assert_eq!(cpu_max("0.01"), Ok(10));
        for bad in ["0", "0.001", "-1", "half", "", "5000"] {
            assert!(cpu_max(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn pids_and_rlimits() {
        assert_eq!(pids_max("64"), Ok(64));
        assert!(pids_max("0").is_err());
        assert_eq!(rlimit_count("1024"), Ok(1024));
        assert_eq!(rlimit_count("Unlimited"), Ok(u64::MAX));
        assert!(rlimit_count("0").is_err());
        assert_eq!(rlimit_bytes("0"), Ok(0));
        assert_eq!(rlimit_bytes("2GB"), Ok(2 << 30));
        assert_eq!(rlimit_bytes("unlimited"), Ok(u64::MAX));
        assert!(rlimit_bytes("-5").is_err());
        assert_eq!(cgroup_setting("OFF"), Ok(CgroupSetting::Off));
        assert!(cgroup_setting("v1").is_err());
    }

    #[test]
    fn bytes_for_operators() {
        assert_eq!(format_bytes(512 << 20), "512 MB");
        assert_eq!(format_bytes(3 << 29), "1.5 GB");
        assert_eq!(format_bytes(64 << 10), "64 KB");
        assert_eq!(format_bytes(100), "100 bytes");
    }
}
