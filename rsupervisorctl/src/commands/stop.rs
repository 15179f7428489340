//! `stop name... | group:* | all`: each name stopped in turn (every stop completes before the
//! next begins, as supervisorctl does).

use jsonrpsee::core::ClientError;
use rsupervisor_api::{namespec, Fault, ProcessStatus, SupervisorRpcClient};

use super::{fault_of, is_fault, Output};
use crate::action::{split_namespec, Targets};
use crate::{exit, output};

fn report(out: &mut Output, results: &[ProcessStatus]) {
    for result in results {
        let name = namespec(&result.group, &result.name);
        out.line(output::signal_result(
            &name,
            result.status,
            &result.description,
            "stopped",
        ));
        out.fault(result.status, Some(Fault::NotRunning));
    }
}

/// Stops the targets, printing one line per process.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    targets: &Targets,
) -> Result<(), ClientError> {
    let names = match targets {
        Targets::All => {
            let results = client.stop_all_processes(Some(true)).await?;
            report(out, &results);
            return Ok(());
        }
        Targets::Names(names) => names,
    };
    for name in names {
        let (group, process) = split_namespec(name);
        match process {
            None => match client.stop_process_group(group.clone(), Some(true)).await {
                Ok(results) => report(out, &results),
                Err(error) if is_fault(&error, Fault::BadName) => {
                    out.line(output::error_line(&group, "no such group"));
                    out.status = exit::GENERIC;
                }
                Err(error) => return Err(error),
            },
            Some(process) => match client.stop_process(name.clone(), Some(true)).await {
                Ok(_) => out.line(format!("{}: stopped", namespec(&group, &process))),
                Err(error) => {
                    let fault = fault_of(&error).ok_or(error)?;
                    let code = fault.fault.code();
                    let name = namespec(&group, &process);
                    out.line(output::signal_result(
                        &name,
                        code,
                        &fault.to_string(),
                        "stopped",
                    ));
                    out.fault(code, Some(Fault::NotRunning));
                }
            },
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::{result, MockClient};

    fn names(list: &[&str]) -> Targets {
        Targets::Names(list.iter().map(|s| s.to_string()).collect())
    }

    #[tokio::test]
    async fn stop_lines_and_statuses() {
        let client = MockClient::new()
            .ok("stopProcess", true)
            .fault("stopProcess", Fault::NotRunning, "idle")
            .fault("stopProcess", Fault::Failed, "stuck: kill failed");
        let mut out = Output::captured();
        run(&client, &mut out, &names(&["good", "idle", "stuck"]))
            .await
            .expect("ok");
        assert_eq!(
            out.stdout_text(),
            "good: stopped\nidle: ERROR (not running)\nFAILED: stuck: kill failed\n"
        );
        assert_eq!(out.status, 1);
    }

    #[tokio::test]
    async fn not_running_is_ignored() {
        let client = MockClient::new().fault("stopProcess", Fault::NotRunning, "idle");
        let mut out = Output::captured();
        run(&client, &mut out, &names(&["idle"])).await.expect("ok");
        assert_eq!(out.status, 0);
    }

    #[tokio::test]
    async fn bad_group_exits_1() {
        let client = MockClient::new()
            .fault("stopProcessGroup", Fault::BadName, "nogroup")
            .ok("stopAllProcesses", vec![result("g", "a", Fault::Success)]);
        let mut out = Output::captured();
        run(&client, &mut out, &names(&["nogroup:*"]))
            .await
            .expect("ok");
        assert_eq!(out.stdout_text(), "nogroup: ERROR (no such group)\n");
        assert_eq!(out.status, 1);
        let mut out = Output::captured();
        run(&client, &mut out, &Targets::All).await.expect("ok");
        assert_eq!(out.stdout_text(), "g:a: stopped\n");
    }
}
