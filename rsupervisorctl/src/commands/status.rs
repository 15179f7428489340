//! `status [name...]`: the process table, and exit 3 when a listed process is not running.

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, ProcessInfo, ProcessMetrics, SupervisorRpcClient};

use super::{fault_of, Output};
use crate::action::split_namespec;
use crate::{exit, output};

/// Prints the status of `names` (every process when empty). `suppress_exitstatus` is `open`'s
/// mode, where stopped processes do not change the status.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    names: &[String],
    suppress_exitstatus: bool,
) -> Result<(), ClientError> {
    let (long, names) = options(names);
    // Both requests at once: the metrics are read while the table is built.
    let (matching, metrics) = if long {
        let (all, metrics) = tokio::join!(
            client.get_all_process_info(),
            client.get_all_process_metrics()
        );
        (select(all?, &names, out), Some(metrics?))
    } else if few_exact_names(&names) {
        (by_name(client, &names, out).await?, None)
    } else {
        (
            select(client.get_all_process_info().await?, &names, out),
            None,
        )
    };
    print(out, &matching, metrics.as_deref(), suppress_exitstatus);
    Ok(())
}

/// Whether `status NAMES` is answered from the whole table alone (one `getAllProcessInfo`,
/// no metrics): then the session asks for it with its up-check, in one round trip.
pub fn reads_whole_table(names: &[String]) -> bool {
    let (long, names) = options(names);
    !long && !few_exact_names(&names)
}

/// `status NAMES` from the whole table, already read (see [`reads_whole_table`]).
pub fn show(out: &mut Output, all: Vec<ProcessInfo>, names: &[String]) {
    let (_, names) = options(names);
    let matching = select(all, &names, out);
    print(out, &matching, None, false);
}

/// `-l`/`--long` (rsupervisor's: CPU and memory columns from the processes' cgroups), and
/// the names without it.
fn options(names: &[String]) -> (bool, Vec<String>) {
    let long = names.iter().any(|n| n == "-l" || n == "--long");
    let names = names
        .iter()
        .filter(|n| *n != "-l" && *n != "--long")
        .cloned()
        .collect();
    (long, names)
}

/// Prints the table (or its JSON) and sets exit 3 when a process shown is not running.
fn print(
    out: &mut Output,
    matching: &[ProcessInfo],
    metrics: Option<&[ProcessMetrics]>,
    suppress_exitstatus: bool,
) {
    let find = |info: &ProcessInfo| {
        metrics.and_then(|all| {
            all.iter()
                .find(|m| m.group == info.group && m.name == info.name)
        })
    };
    if out.json {
        let mut value = output::status_json(matching);
        if let (Some(_), Some(rows)) = (metrics, value.as_array_mut()) {
            for (row, info) in rows.iter_mut().zip(matching) {
                if let (Some(object), Some(m)) = (row.as_object_mut(), find(info)) {
                    object.insert(
                        "metrics".into(),
                        serde_json::to_value(m).unwrap_or_default(),
                    );
                }
            }
        }
        out.json_value(&value);
    } else {
        // One write for the whole table: a line at a time costs a system call per process.
        let table = output::status_table(matching, |info, line| {
            if metrics.is_some() {
                line.push_str(&output::metrics_columns(find(info)));
            }
        });
        out.raw(&table);
    }
    if !suppress_exitstatus && matching.iter().any(not_running) {
        out.status = exit::STATUS_NOT_RUNNING;
    }
}

/// Whether `info` makes `status` exit 3: a stopped state, except a scheduled job waiting
/// for its next run (STOPPED or EXITED between runs is where a job normally is; a FATAL or
/// paused one still counts).
fn not_running(info: &ProcessInfo) -> bool {
    use rsupervisor_api::ProcessState::{Exited, Stopped};
    let state = info.process_state();
    let waiting_job = info
        .schedule
        .as_ref()
        .is_some_and(|s| !s.paused && s.next_run > 0)
        && matches!(state, Stopped | Exited);
    state.is_stopped() && !waiting_job
}

/// At most this many names are asked for one by one; more, and one `getAllProcessInfo` is
/// cheaper than their round trips.
const FEW_NAMES: usize = 8;

/// Whether `names` are a few namespecs of single processes (`web`, `grp:web`; not `grp:*`).
fn few_exact_names(names: &[String]) -> bool {
    !names.is_empty()
        && names.len() <= FEW_NAMES
        && names.iter().all(|name| split_namespec(name).1.is_some())
}

/// [`select`]'s answer for [`few_exact_names`], with one `getProcessInfo` per name instead
/// of every process's info: `status web` among 10,000 programs reads one process, not 3 MB.
async fn by_name<C: SupervisorRpcClient + Sync>(
    client: &C,
    names: &[String],
    out: &mut Output,
) -> Result<Vec<ProcessInfo>, ClientError> {
    let mut matching = Vec::with_capacity(names.len());
    for name in names {
        match client.get_process_info(name.clone()).await {
            Ok(info) => matching.push(info),
            Err(error) if fault_of(&error).is_some_and(|f| f.fault == Fault::BadName) => {
                out.problem(output::error_line(name, "no such process"));
                out.status = exit::STATUS_UNKNOWN;
            }
            Err(error) => return Err(error),
        }
    }
    Ok(matching)
}

/// The processes named, in the order asked; a name matching nothing prints an error and sets
/// status 4.
pub(crate) fn select(
    all: Vec<ProcessInfo>,
    names: &[String],
    out: &mut Output,
) -> Vec<ProcessInfo> {
    if names.is_empty() {
        return all;
    }
    let mut matching = Vec::new();
    for name in names {
        let (group, process) = split_namespec(name);
        let found: Vec<&ProcessInfo> = all
            .iter()
            .filter(|info| info.group == group && process.as_ref().is_none_or(|p| *p == info.name))
            .collect();
        if found.is_empty() {
            let message = match process {
                None => output::error_line(&group, "no such group"),
                Some(_) => output::error_line(name, "no such process"),
            };
            out.problem(message);
            out.status = exit::STATUS_UNKNOWN;
        }
        matching.extend(found.into_iter().cloned());
    }
    matching
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_waiting_for_its_next_run_is_not_a_stopped_program() {
        use crate::commands::mock::info;
        use rsupervisor_api::{ProcessState, ScheduleInfo};
        let mut job = info("job", "job", ProcessState::Exited, 0);
        assert!(not_running(&job));
        job.schedule = Some(ScheduleInfo {
            next_run: 1_700_000_000,
            ..ScheduleInfo::default()
        });
        assert!(!not_running(&job));
        job.schedule = Some(ScheduleInfo {
            paused: true,
            ..ScheduleInfo::default()
        });
        assert!(not_running(&job));
        let mut fatal = info("job", "job", ProcessState::Fatal, 0);
        fatal.schedule = Some(ScheduleInfo {
            next_run: 1_700_000_000,
            ..ScheduleInfo::default()
        });
        assert!(not_running(&fatal));
    }
    use crate::commands::mock::{info, MockClient};
    use rsupervisor_api::ProcessState::*;

    fn client() -> MockClient {
        MockClient::new().ok(
            "getAllProcessInfo",
            vec![
                info("good", "good", Running, 10),
                info("grp", "a", Stopped, 0),
                info("grp", "b", Running, 11),
            ],
        )
    }

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[tokio::test]
    async fn all_with_a_stopped_process_exits_3() {
        let mut out = Output::captured();
        run(&client(), &mut out, &[], false).await.expect("ok");
        assert_eq!(out.stdout_text().lines().count(), 3);
        assert!(out
            .stdout_text()
            .starts_with("good                             RUNNING   pid 10"));
        assert_eq!(out.status, 3);
    }

    /// What the daemon answers `getProcessInfo` for each name asked, in order.
    fn by_name_client(answers: &[Option<ProcessInfo>]) -> MockClient {
        answers
            .iter()
            .fold(MockClient::new(), |client, answer| match answer {
                Some(info) => client.ok("getProcessInfo", info),
                None => client.fault("getProcessInfo", rsupervisor_api::Fault::BadName, "x"),
            })
    }

    #[tokio::test]
    async fn running_names_exit_0() {
        let mut out = Output::captured();
        let client = by_name_client(&[
            Some(info("good", "good", Running, 10)),
            Some(info("grp", "b", Running, 11)),
        ]);
        run(&client, &mut out, &words("good grp:b"), false)
            .await
            .expect("ok");
        assert_eq!(out.stdout_text().lines().count(), 2);
        assert_eq!(out.status, 0);
        // A few exact names are asked for one by one, never the whole table.
        assert_eq!(
            client.calls(),
            [r#"getProcessInfo["good"]"#, r#"getProcessInfo["grp:b"]"#]
        );
    }

    #[tokio::test]
    async fn a_missing_exact_name_exits_4_and_the_others_are_listed() {
        let mut out = Output::captured();
        let client = by_name_client(&[None, Some(info("good", "good", Running, 10))]);
        run(&client, &mut out, &words("nosuch good"), false)
            .await
            .expect("ok");
        let lines: Vec<&str> = out.stdout_text().lines().collect();
        assert_eq!(lines[0], "nosuch: ERROR (no such process)");
        assert!(lines[1].starts_with("good "));
        assert_eq!(out.status, 4);
    }

    #[tokio::test]
    async fn many_names_read_the_whole_table_once() {
        let mut out = Output::captured();
        let client = client();
        let names: Vec<String> = (0..=FEW_NAMES).map(|_| "good".to_owned()).collect();
        run(&client, &mut out, &names, false).await.expect("ok");
        assert_eq!(out.stdout_text().lines().count(), FEW_NAMES + 1);
        assert_eq!(client.calls(), ["getAllProcessInfo[]"]);
    }

    #[tokio::test]
    async fn group_star_lists_the_group() {
        let mut out = Output::captured();
        run(&client(), &mut out, &words("grp:*"), false)
            .await
            .expect("ok");
        assert!(out.stdout_text().starts_with("grp:a "));
        assert_eq!(out.status, 3);
    }

    #[tokio::test]
    async fn bad_names_exit_4() {
        let mut out = Output::captured();
        run(&client(), &mut out, &words("nosuch nogroup:* good"), false)
            .await
            .expect("ok");
        let lines: Vec<&str> = out.stdout_text().lines().collect();
        assert_eq!(lines[0], "nosuch: ERROR (no such process)");
        assert_eq!(lines[1], "nogroup: ERROR (no such group)");
        assert!(lines[2].starts_with("good "));
        assert_eq!(out.status, 4);
    }

    #[tokio::test]
    async fn open_mode_ignores_stopped_processes() {
        let mut out = Output::captured();
        run(&client(), &mut out, &[], true).await.expect("ok");
        assert_eq!(out.status, 0);
    }

    #[tokio::test]
    async fn json_output() {
        let mut out = Output::captured();
        out.json = true;
        let client = by_name_client(&[Some(info("good", "good", Running, 10))]);
        run(&client, &mut out, &words("good"), false)
            .await
            .expect("ok");
        let value: serde_json::Value = serde_json::from_str(out.stdout_text()).expect("json");
        assert_eq!(value[0]["namespec"], "good");
        assert_eq!(value[0]["pid"], 10);
    }
}
