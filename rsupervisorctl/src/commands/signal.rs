//! `signal SIG name... | group:* | all`: the signal is passed to the daemon as typed, which
//! validates it (BAD_SIGNAL). Nothing is ignored: a process that is not running exits 7.

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
            "signalled",
        ));
        out.fault(result.status, None);
    }
}

/// Sends `signal` to the targets.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    signal: &str,
    targets: &Targets,
) -> Result<(), ClientError> {
    let names = match targets {
        Targets::All => {
            let results = client.signal_all_processes(signal.to_owned()).await?;
            report(out, &results);
            return Ok(());
        }
        Targets::Names(names) => names,
    };
    for name in names {
        let (group, process) = split_namespec(name);
        match process {
            None => match client
                .signal_process_group(group.clone(), signal.to_owned())
                .await
            {
                Ok(results) => report(out, &results),
                Err(error) if is_fault(&error, Fault::BadName) => {
                    out.line(output::error_line(&group, "no such group"));
                    out.status = exit::GENERIC;
                }
                Err(error) => return Err(error),
            },
            Some(process) => match client.signal_process(name.clone(), signal.to_owned()).await {
                Ok(_) => out.line(format!("{}: signalled", namespec(&group, &process))),
                Err(error) => {
                    let fault = fault_of(&error).ok_or(error)?;
                    let code = fault.fault.code();
                    let name = namespec(&group, &process);
                    out.line(output::signal_result(
                        &name,
                        code,
                        &fault.to_string(),
                        "signalled",
                    ));
                    out.fault(code, None);
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

    #[tokio::test]
    async fn signal_lines() {
        let client = MockClient::new()
            .ok("signalProcess", true)
            .fault("signalProcess", Fault::BadSignal, "BOGUS")
            .fault("signalProcess", Fault::NotRunning, "idle");
        let mut out = Output::captured();
        let targets = Targets::Names(vec!["good".into(), "g:a".into(), "idle".into()]);
        run(&client, &mut out, "HUP", &targets).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "good: signalled\ng:a: ERROR (bad signal name)\nidle: ERROR (not running)\n"
        );
        assert_eq!(out.status, 7);
        assert_eq!(client.calls()[0], r#"signalProcess["good","HUP"]"#);
    }

    #[tokio::test]
    async fn groups_and_all() {
        let client = MockClient::new()
            .fault("signalProcessGroup", Fault::BadName, "nogroup")
            .ok(
                "signalAllProcesses",
                vec![result("web", "web", Fault::Success)],
            );
        let mut out = Output::captured();
        run(
            &client,
            &mut out,
            "USR1",
            &Targets::Names(vec!["nogroup:*".into()]),
        )
        .await
        .expect("ok");
        assert_eq!(out.stdout_text(), "nogroup: ERROR (no such group)\n");
        assert_eq!(out.status, 1);
        let mut out = Output::captured();
        run(&client, &mut out, "USR1", &Targets::All)
            .await
            .expect("ok");
        assert_eq!(out.stdout_text(), "web: signalled\n");
    }
}
