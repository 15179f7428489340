//! Per-process cgroups: OOM kills reported and restarted, cpu_max and pids_max enforced,
//! double-forked grandchildren ended by a stop and by shutdown, the cgroups=off fallback,
//! and no directory left behind.
//!
//! These need root (this CI runs as root on a hybrid cgroup host); without it each test
//! says it was skipped, as the `user=` tests do.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use rsupervisor_e2e::{info_pid, pid_alive, wait_state, wait_until, Daemon, TestDir};
use serde_json::json;

use crate::support::*;

fn root() -> bool {
    if nix::unistd::Uid::effective().is_root() {
        return true;
    }
    eprintln!("skipped: cgroups need root");
    false
}

/// The directories a daemon with this pid made, in every hierarchy this host has.
fn daemon_dirs(pid: i32) -> Vec<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mut dirs = Vec::new();
    for line in own.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next().unwrap_or(""), parts.next());
        let Some(path) = path else { continue };
        let mount = match controllers {
            "" => "unified",
            "memory" | "cpu" | "cpuacct" | "pids" => controllers,
            _ => continue,
        };
        dirs.push(
            PathBuf::from("/sys/fs/cgroup")
                .join(mount)
                .join(path.trim_start_matches('/'))
                .join(format!("rsupervisord-{pid}")),
        );
    }
    dirs
}

/// The cgroup v1 memory directory of process `namespec` under daemon `pid`.
fn process_dir(daemon: i32, controller: &str, namespec: &str) -> PathBuf {
    daemon_dirs(daemon)
        .into_iter()
        .find(|d| d.starts_with(format!("/sys/fs/cgroup/{controller}")))
        .expect("the hierarchy is mounted")
        .join(format!("prog-{namespec}"))
}

fn cpu_ticks(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the `)`.
    fields
        .get(11)
        .and_then(|u| u.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
}

#[test]
fn oom_kill_is_reported_then_restarted() {
    if !root() {
        return;
    }
    let dir = TestDir::new();
    dir.config(
        "[program:hog]\ncommand={fixture} --alloc 64M\nmemory_max=32MB\nstartsecs=0\n\
         autorestart=true\n",
    );
    let daemon = Daemon::start(&dir);
    let line = "WARN exited: hog (terminated by SIGKILL; out of memory at memory_max 32 MB; not \
                expected)";
    let log = wait_log(&daemon, line);
    assert!(log.contains("cgroups: one per process under"), "{log}");
    // The cgroup's own OOM event, as it happened.
    wait_log(&daemon, "WARN out of memory: hog (main pid ");
    // The restart policy applies: spawned again after the OOM kill.
    wait_until(DEADLINE, "a respawn after the OOM kill", || {
        let log = daemon.main_log();
        let after = log.split(line).nth(1).unwrap_or("");
        if after.contains("spawned: 'hog'") {
            Ok(())
        } else {
            Err(tail(&log))
        }
    });
}

/// A crash is not an OOM kill: the kernel wakes the OOM watch when a crashed program's
/// cgroup is removed, and the restart makes a new cgroup at the same path; the watch must
/// not read that one's counters as its own (every crash was logged "out of memory").
#[test]
fn a_crash_loop_under_memory_max_reports_no_oom() {
    if !root() {
        return;
    }
    let dir = TestDir::new();
    dir.config(
        "[program:crasher]\ncommand={fixture} --after 300ms --exit-code 1\nmemory_max=64MB\n\
         startsecs=0\nautorestart=true\n",
    );
    let daemon = Daemon::start(&dir);
    let log = wait_until(DEADLINE, "three crashes and respawns", || {
        let log = daemon.main_log();
        if log
            .matches("exited: crasher (exit status 1; not expected)")
            .count()
            >= 3
            && log.matches("spawned: 'crasher'").count() >= 4
        {
            Ok(log)
        } else {
            Err(tail(&log))
        }
    });
    assert!(!log.contains("out of memory"), "{log}");
}

#[test]
fn cpu_max_caps_cpu_time() {
    if !root() {
        return;
    }
    let dir = TestDir::new();
    dir.config("[program:spin]\ncommand={fixture} --busy\ncpu_max=0.2\nstartsecs=0\n");
    let daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "spin", "RUNNING", DEADLINE));
    let ticks_per_second = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    let (start, first) = (Instant::now(), cpu_ticks(pid));
    // A busy second: the CPU time used over at least one second of wall time.
    let (wall, used) = wait_until(DEADLINE, "a busy second", || {
        let wall = start.elapsed();
        if wall >= Duration::from_secs(2) {
            Ok((wall, (cpu_ticks(pid) - first) as f64 / ticks_per_second))
        } else {
            Err(format!("{wall:?}"))
        }
    });
    let share = used / wall.as_secs_f64();
    assert!(
        (0.05..=0.3).contains(&share),
        "cpu_max=0.2 but the busy loop used {used:.2} s of CPU in {wall:?} ({share:.2} cores)"
    );
}

#[test]
fn pids_max_refuses_a_fork_bomb() {
    if !root() {
        return;
    }
    let dir = TestDir::new();
    dir.config(
        "[program:bomb]\ncommand={fixture} --fork-children 100 {dir}/forks\npids_max=10\n\
         startsecs=0\n",
    );
    let daemon = Daemon::start(&dir);
    let report = wait_file(&dir, "forks", "started=");
    let started: u32 = report
        .lines()
        .find_map(|l| l.strip_prefix("started="))
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!(
        started < 10,
        "pids_max=10 let {started} children start: {report}"
    );
    assert!(report.contains("error="), "{report}");
    let pids = process_dir(daemon.pid(), "pids", "bomb");
    let current = std::fs::read_to_string(pids.join("pids.current")).expect("pids.current");
    assert!(
        current.trim().parse::<u32>().expect("a number") <= 10,
        "{current}"
    );
    // A stop ends the children too (they share the fixture's process group, but the cgroup
    // is what guarantees it).
    assert_eq!(stop(&daemon, "bomb", true), Ok(json!(true)));
    wait_until(DEADLINE, "the bomb's cgroup to be removed", || {
        if pids.exists() {
            Err(std::fs::read_to_string(pids.join("cgroup.procs")).unwrap_or_default())
        } else {
            Ok(())
        }
    });
}

/// A setsid'd, double-forked grandchild: its own session and process group, parent gone.
fn detached_grandchild(dir: &TestDir, daemon: &Daemon<'_>) -> (i32, i32) {
    let pid = info_pid(&wait_state(daemon, "forker", "RUNNING", DEADLINE));
    let grandchild = wait_pid_file(dir, "gc.pid");
    assert!(pid_alive(grandchild));
    let sid = nix::unistd::getsid(Some(nix::unistd::Pid::from_raw(grandchild))).expect("sid");
    assert_ne!(
        sid.as_raw(),
        pid,
        "the grandchild did not leave the session"
    );
    assert_ne!(
        nix::unistd::getpgid(Some(nix::unistd::Pid::from_raw(grandchild)))
            .expect("pgid")
            .as_raw(),
        pid
    );
    (pid, grandchild)
}

const FORKER: &str = "[program:forker]\ncommand={fixture} --detached-grandchild {dir}/gc.pid\n\
                      startsecs=0\n";

#[test]
fn stop_ends_a_detached_grandchild() {
    if !root() {
        return;
    }
    let dir = TestDir::new();
    dir.config(FORKER);
    let daemon = Daemon::start(&dir);
    let (pid, grandchild) = detached_grandchild(&dir, &daemon);
    let _guard = KillOnDrop(grandchild);
    assert_eq!(stop(&daemon, "forker", true), Ok(json!(true)));
    wait_dead(grandchild, "the detached grandchild");
    assert!(!pid_alive(pid));
    // The status still reports the main process.
    let log = daemon.main_log();
    assert!(
        log.contains(&format!("spawned: 'forker' with pid {pid}")),
        "{log}"
    );
    assert!(
        log.contains("stopped: forker (terminated by SIGTERM)"),
        "{log}"
    );
}

#[test]
fn shutdown_ends_a_detached_grandchild_and_removes_the_cgroups() {
    if !root() {
        return;
    }
    let dir = TestDir::new();
    dir.config(FORKER);
    let mut daemon = Daemon::start(&dir);
    let (_, grandchild) = detached_grandchild(&dir, &daemon);
    let _guard = KillOnDrop(grandchild);
    let dirs = daemon_dirs(daemon.pid());
    assert!(dirs.iter().all(|d| d.is_dir()), "{dirs:?}");
    daemon.signal(Signal::SIGTERM);
    let status = daemon.wait_exit(DEADLINE);
    assert_eq!(status.code(), Some(0));
    wait_dead(grandchild, "the detached grandchild");
    let left: Vec<_> = dirs.iter().filter(|d| d.exists()).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// A stop kills what the program left in its cgroup (`cgroup.kill`); a start right after
/// must not put the new process in that killed cgroup by `clone3`, which the kernel (6.18)
/// answers with a SIGKILL at birth, even once the cgroup is empty.
#[test]
fn a_start_right_after_a_stop_that_killed_leftovers_runs() {
    if !root() {
        return;
    }
    let dir = TestDir::new();
    dir.config(FORKER);
    let daemon = Daemon::start(&dir);
    let (_, grandchild) = detached_grandchild(&dir, &daemon);
    let mut guards = vec![KillOnDrop(grandchild)];
    for round in 0..5 {
        std::fs::remove_file(dir.path("gc.pid")).expect("remove gc.pid");
        assert_eq!(
            stop(&daemon, "forker", true),
            Ok(json!(true)),
            "round {round}"
        );
        let _ = start(&daemon, "forker", true);
        // Written by the new main process once it runs: one killed at birth never does (a
        // later respawn would, after the SIGKILL was logged).
        guards.push(KillOnDrop(wait_pid_file(&dir, "gc.pid")));
        let log = daemon.main_log();
        assert!(
            !log.contains("exited: forker (terminated by SIGKILL"),
            "round {round}: the new process was killed at birth\n{}",
            tail(&log)
        );
    }
}

/// The child is in every one of its cgroups from its start, and again after a respawn: the
/// kernel starts it inside the v2 one (`clone3` with `CLONE_INTO_CGROUP`), and it joins
/// the v1 ones itself before exec.
#[test]
fn a_program_runs_inside_each_of_its_cgroups_after_every_spawn() {
    if root() {
        program_runs_inside_each_cgroup(false);
    }
}

/// The same where `clone3` is refused, as under a container runtime's default seccomp
/// profile: the child writes itself into the v2 cgroup too.
#[test]
fn without_clone3_a_program_still_runs_inside_each_of_its_cgroups() {
    if root() {
        program_runs_inside_each_cgroup(true);
    }
}

fn program_runs_inside_each_cgroup(without_clone3: bool) {
    let dir = TestDir::new();
    dir.config("[program:idle]\ncommand={fixture} --sleep\nstartsecs=0\nautorestart=true\n");
    let command = Daemon::command(&dir);
    let daemon = if without_clone3 {
        command.without_clone3().start()
    } else {
        command.start()
    };
    let dirs = daemon_dirs(daemon.pid());
    assert!(!dirs.is_empty(), "no cgroup hierarchy on this host");
    let mut first = 0;
    for round in 0..3 {
        let pid = wait_until(DEADLINE, "a running idle with a new pid", || {
            let pid = info_pid(&wait_state(&daemon, "idle", "RUNNING", DEADLINE));
            if pid != first {
                Ok(pid)
            } else {
                Err(format!("still pid {pid}"))
            }
        });
        for dir in &dirs {
            let procs = dir.join("prog-idle").join("cgroup.procs");
            let listed = std::fs::read_to_string(&procs).unwrap_or_default();
            assert!(
                listed.lines().any(|line| line == pid.to_string()),
                "round {round}: pid {pid} is not in {}: {listed:?}",
                procs.display()
            );
        }
        first = pid;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL)
            .expect("kill the program");
    }
}

#[test]
fn a_crashed_daemons_cgroups_are_cleaned_at_start() {
    if !root() {
        return;
    }
    let dir = TestDir::new();
    dir.config(FORKER);
    let mut first = Daemon::start(&dir);
    let (pid, grandchild) = detached_grandchild(&dir, &first);
    let _guard = (KillOnDrop(pid), KillOnDrop(grandchild));
    let dirs = daemon_dirs(first.pid());
    first.signal(Signal::SIGKILL);
    first.wait_exit(DEADLINE);
    assert!(
        pid_alive(grandchild),
        "the crash itself killed the grandchild"
    );
    let other = TestDir::new();
    other.config("[program:idle]\ncommand={fixture} --sleep\nstartsecs=0\n");
    // Any daemon starting in this cgroup cleans up (another test's may be first).
    let second = Daemon::start(&other);
    wait_state(&second, "idle", "RUNNING", DEADLINE);
    wait_dead(grandchild, "the crashed daemon's grandchild");
    wait_dead(pid, "the crashed daemon's program");
    let left: Vec<_> = dirs.iter().filter(|d| d.exists()).collect();
    assert!(
        left.is_empty(),
        "left behind: {left:?}\n{}",
        second.main_log()
    );
}

#[test]
fn a_daemon_run_from_a_renamed_binary_keeps_its_programs_when_another_starts() {
    if !root() {
        return;
    }
    let dir = TestDir::new();
    dir.config("[program:idle]\ncommand={fixture} --sleep\nstartsecs=0\n");
    // Another name than rsupervisord: what a starting daemon used to take for a dead one.
    let renamed = dir.path("supervisor-copy");
    std::fs::copy(rsupervisor_e2e::binaries::rsupervisord(), &renamed).expect("copy the daemon");
    let first = Daemon::command(&dir).binary(&renamed).start();
    let program = info_pid(&wait_state(&first, "idle", "RUNNING", DEADLINE));
    let other = TestDir::new();
    other.config("[program:idle]\ncommand={fixture} --sleep\nstartsecs=0\n");
    // The second daemon cleans up the cgroups of daemons that are gone before it answers.
    let second = Daemon::start(&other);
    wait_state(&second, "idle", "RUNNING", DEADLINE);
    assert!(
        pid_alive(program),
        "the second daemon killed the first one's program:\n{}",
        second.main_log()
    );
    let info = first
        .rpc("supervisor.getProcessInfo", json!(["idle"]))
        .expect("the first daemon still answers");
    assert_eq!(info_pid(&info), program);
}

#[test]
fn cgroups_off_keeps_process_group_signalling() {
    if !root() {
        return;
    }
    let dir = TestDir::new();
    dir.config_with(
        "cgroups=off\n",
        "[program:parent]\ncommand={fixture} --fork-grandchild {dir}/gc.pid\nstartsecs=0\n\
         stopasgroup=true\n",
    );
    let daemon = Daemon::start(&dir);
    let log = wait_log(&daemon, "cgroups are off ([supervisord] cgroups=off)");
    assert_eq!(log.matches("cgroups are off").count(), 1, "{log}");
    let pid = info_pid(&wait_state(&daemon, "parent", "RUNNING", DEADLINE));
    let grandchild = wait_pid_file(&dir, "gc.pid");
    let _guard = KillOnDrop(grandchild);
    assert!(daemon_dirs(daemon.pid()).iter().all(|d| !d.exists()));
    assert_eq!(stop(&daemon, "parent", true), Ok(json!(true)));
    wait_dead(grandchild, "grandchild");
    wait_dead(pid, "parent");
}

#[test]
fn limits_without_cgroups_refuse_to_start() {
    if !root() {
        return;
    }
    let dir = TestDir::new();
    dir.config_with(
        "cgroups=off\n",
        "[program:capped]\ncommand={fixture} --sleep\nmemory_max=64MB\nstartsecs=0\n\
         startretries=0\n",
    );
    let daemon = Daemon::start(&dir);
    let log = wait_log(&daemon, "spawnerr: cgroups are unavailable");
    assert!(log.contains("memory_max, memory_high, cpu_max and pids_max cannot be applied"));
    wait_state(&daemon, "capped", "FATAL", DEADLINE);
}

fn vm_rss(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[test]
fn metrics_match_a_known_rss() {
    if !root() {
        return;
    }
    let dir = TestDir::new();
    dir.config(
        "[program:mem]\ncommand={fixture} --alloc 64M --print ready\nstartsecs=0\n\
         stdout_logfile={dir}/mem.log\n\n\
         [program:idle]\ncommand={fixture} --sleep\nautostart=false\n",
    );
    let daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "mem", "RUNNING", DEADLINE));
    wait_file(&dir, "mem.log", "ready");
    let rss = vm_rss(pid);
    assert!(rss >= 64 << 20, "VmRSS {rss}");
    let metrics = daemon.rpc_ok("supervisor.getAllProcessMetrics", json!([]));
    let rows = metrics.as_array().expect("a list");
    assert_eq!(rows.len(), 2, "{metrics}");
    let mem = rows.iter().find(|m| m["name"] == "mem").expect("mem");
    assert_eq!(mem["pid"], json!(pid));
    let current = mem["memory_current"].as_u64().expect("memory_current");
    let difference = current.abs_diff(rss) as f64 / rss as f64;
    assert!(
        difference <= 0.10,
        "memory_current {current} vs VmRSS {rss}: {metrics}"
    );
    assert!(mem["memory_peak"].as_u64().expect("memory_peak") >= current);
    assert_eq!(mem["pids"], json!(1));
    assert!(mem["cpu_seconds"].as_f64().expect("cpu_seconds") > 0.0);
    // A process that is not running has no readings.
    let idle = rows.iter().find(|m| m["name"] == "idle").expect("idle");
    assert_eq!(
        (idle["pid"].clone(), idle.get("memory_current")),
        (json!(0), None)
    );

    // status -l shows them.
    let out = dir.ctl(&["status", "-l"]);
    let text = out.stdout.clone();
    let line = text
        .lines()
        .find(|l| l.starts_with("mem "))
        .expect("mem line");
    assert!(
        line.contains("RUNNING") && line.contains(" CPU ") && line.contains(" MB"),
        "{text}"
    );
    let idle_line = text
        .lines()
        .find(|l| l.starts_with("idle "))
        .expect("idle line");
    assert!(idle_line.ends_with("CPU -          MEM -"), "{text}");
}

#[test]
fn rlimits_apply_in_the_child() {
    // rlimits need no cgroup and no root.
    let dir = TestDir::new();
    dir.config(
        "[program:limited]\ncommand={fixture} --sleep\nstartsecs=0\nrlimit_nofile=123\n\
         rlimit_core=0\nrlimit_as=4GB\n",
    );
    let daemon = Daemon::start(&dir);
    let pid = info_pid(&wait_state(&daemon, "limited", "RUNNING", DEADLINE));
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let row = |name: &str| -> Vec<String> {
        limits
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| {
                l[name.len()..]
                    .split_whitespace()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(row("Max open files")[..2], ["123", "123"], "{limits}");
    assert_eq!(row("Max core file size")[..2], ["0", "0"], "{limits}");
    let four_gb = (4u64 << 30).to_string();
    assert_eq!(
        row("Max address space")[..2],
        [four_gb.clone(), four_gb],
        "{limits}"
    );
}

#[test]
fn top_refreshes_cpu_percent_until_ctrl_c() {
    if !root() {
        return;
    }
    let dir = TestDir::new();
    dir.config(
        "[program:spin]\ncommand={fixture} --busy\ncpu_max=0.5\nstartsecs=0\n\n\
         [program:idle]\ncommand={fixture} --sleep\nstartsecs=0\n",
    );
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "spin", "RUNNING", DEADLINE);
    let screen = std::fs::File::create(dir.path("top.out")).expect("top.out");
    let mut top = std::process::Command::new(rsupervisor_e2e::binaries::rsupervisorctl())
        .arg("-c")
        .arg(dir.config_path())
        .arg("top")
        .stdout(screen)
        .spawn()
        .expect("rsupervisorctl top");
    let _guard = KillOnDrop(top.id() as i32);
    // The second screen has a CPU% computed from two readings: about 50 for the capped spin.
    let percent = wait_until(DEADLINE, "a second screen with spin's CPU%", || {
        let text = dir.try_read("top.out").unwrap_or_default();
        let last = text.rsplit("\x1b[H\x1b[2J").next().unwrap_or("");
        let line = last.lines().find(|l| l.starts_with("spin "));
        match line.map(|l| l.split_whitespace().nth(3).unwrap_or("-").to_owned()) {
            Some(cpu) if cpu != "-" => Ok(cpu.parse::<f64>().expect("a percent")),
            _ => Err(tail(&text)),
        }
    });
    assert!(
        (20.0..=70.0).contains(&percent),
        "spin at {percent}% with cpu_max=0.5"
    );
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(top.id() as i32), Signal::SIGINT)
        .expect("SIGINT");
    let status = wait_until(DEADLINE, "top to exit on Ctrl-C", || {
        top.try_wait().ok().flatten().ok_or(())
    });
    assert!(status.success(), "{status}");
    let text = dir.read("top.out");
    assert!(text.contains("NAME") && text.contains("idle "), "{text}");
}

#[test]
fn memory_restart_restarts_gracefully_at_the_threshold() {
    if !root() {
        return;
    }
    let dir = TestDir::new();
    dir.config(
        "[program:grow]\ncommand={fixture} --alloc 64M\nmemory_restart=32MB\nmemory_max=256MB\n\
         startsecs=0\nautorestart=false\n",
    );
    let daemon = Daemon::start(&dir);
    let line = "WARN restarting: grow uses more than memory_restart 32 MB";
    wait_log(&daemon, line);
    // A graceful restart: the stop signal (not the OOM killer), then a new spawn, although
    // autorestart=false.
    let log = wait_until(DEADLINE, "the restart after the stop", || {
        let log = daemon.main_log();
        let after = log.split(line).nth(1).unwrap_or("");
        let stopped = after.find("stopped: grow (terminated by SIGTERM)");
        let spawned = after.find("spawned: 'grow'");
        match (stopped, spawned) {
            (Some(s), Some(p)) if s < p => Ok(log),
            _ => Err(tail(&log)),
        }
    });
    assert!(!log.contains("out of memory"), "{log}");
}
