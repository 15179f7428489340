//! `run <name>...`: start one run of each named job now, leaving its schedule as it is (an
//! rsupervisor addition). Unlike `start`, a job that is already running is an error: a job
//! never runs twice at once.

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, SupervisorRpcClient};

use super::{fault_of, Output};
use crate::output;

/// Runs each name in turn, waiting until the run is RUNNING (or failed).
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    names: &[String],
) -> Result<(), ClientError> {
    for name in names {
        match client.run_process(name.clone(), Some(true)).await {
            Ok(_) => out.line(format!("{name}: run started")),
            Err(error) => {
                let fault = fault_of(&error).ok_or(error)?;
                let line = match fault.fault {
                    Fault::AlreadyStarted => output::error_line(
                        name,
                        "already running: a job never runs twice at once; stop it first",
                    ),
                    _ => output::start_result(name, fault.fault.code(), &fault.to_string()),
                };
                out.line(line);
                out.fault(fault.fault.code(), None);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::MockClient;

    #[tokio::test]
    async fn a_running_job_is_refused() {
        let client = MockClient::new()
            .ok("runProcess", true)
            .fault("runProcess", Fault::AlreadyStarted, "busy")
            .fault("runProcess", Fault::BadName, "nosuch");
        let mut out = Output::captured();
        let names = ["job", "busy", "nosuch"].map(String::from);
        run(&client, &mut out, &names).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "job: run started\nbusy: ERROR (already running: a job never runs twice at once; \
             stop it first)\nnosuch: ERROR (no such process)\n"
        );
        assert_ne!(out.status, 0);
        assert_eq!(client.calls()[0], r#"runProcess["job",true]"#);
    }
}
