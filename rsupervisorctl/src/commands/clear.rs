//! `clear name... | group:* | all`: empty process log files. `group:*` clears each process of
//! the group (supervisorctl 4.3.0 printed `grp:None: ERROR (no such process)` instead).

use jsonrpsee::core::ClientError;
use rsupervisor_api::{namespec, SupervisorRpcClient};

use super::{fault_of, Output};
use crate::action::{split_namespec, Targets};
use crate::output;

/// Clears the targets' logs.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    targets: &Targets,
) -> Result<(), ClientError> {
    let names = match targets {
        Targets::All => {
            for result in client.clear_all_process_logs().await? {
                let name = namespec(&result.group, &result.name);
                out.line(output::clear_result(
                    &name,
                    result.status,
                    &result.description,
                ));
                out.fault(result.status, None);
            }
            return Ok(());
        }
        Targets::Names(names) => names,
    };
    for name in names {
        let (group, process) = split_namespec(name);
        let members: Vec<(String, String)> = match process {
            Some(process) => vec![(group, process)],
            None => {
                let infos = client.get_all_process_info().await?;
                let members: Vec<_> = infos
                    .into_iter()
                    .filter(|info| info.group == group)
                    .map(|info| (info.group, info.name))
                    .collect();
                if members.is_empty() {
                    out.line(output::error_line(&group, "no such group"));
                    out.status = crate::exit::GENERIC;
                }
                members
            }
        };
        for (group, process) in members {
            let spec = namespec(&group, &process);
            let wire = format!("{group}:{process}");
            match client.clear_process_logs(wire).await {
                Ok(_) => out.line(format!("{spec}: cleared")),
                Err(error) => {
                    let fault = fault_of(&error).ok_or(error)?;
                    let code = fault.fault.code();
                    out.line(output::clear_result(&spec, code, &fault.to_string()));
                    out.fault(code, None);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::{info, result, MockClient};
    use rsupervisor_api::Fault;
    use rsupervisor_api::ProcessState::*;

    #[tokio::test]
    async fn names_groups_and_errors() {
        let client = MockClient::new()
            .ok("clearProcessLogs", true)
            .ok(
                "getAllProcessInfo",
                vec![info("g", "a", Running, 1), info("h", "h", Running, 2)],
            )
            .ok("clearProcessLogs", true)
            .fault("clearProcessLogs", Fault::BadName, "nosuch");
        let mut out = Output::captured();
        let targets = Targets::Names(vec!["quick".into(), "g:*".into(), "nosuch".into()]);
        run(&client, &mut out, &targets).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "quick: cleared\ng:a: cleared\nnosuch: ERROR (no such process)\n"
        );
        assert_eq!(out.status, 1);
        assert_eq!(client.calls()[2], r#"clearProcessLogs["g:a"]"#);
    }

    #[tokio::test]
    async fn all() {
        let client = MockClient::new().ok(
            "clearAllProcessLogs",
            vec![
                result("a", "a", Fault::Success),
                result("b", "b", Fault::Failed),
            ],
        );
        let mut out = Output::captured();
        run(&client, &mut out, &Targets::All).await.expect("ok");
        assert_eq!(out.stdout_text(), "a: cleared\nb: ERROR (failed)\n");
        assert_eq!(out.status, 1);
    }
}
