//! `scale <name> <count>`: run `count` instances of a `numprocs` program until the next
//! `update` (an rsupervisor addition). One line per instance stopped or started, then the
//! new count.

use jsonrpsee::core::ClientError;
use rsupervisor_api::SupervisorRpcClient;

use super::{fault_of, Output};
use crate::{exit, output};

/// Asks the daemon to scale `name` and reports what it did.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    name: &str,
    count: u32,
) -> Result<(), ClientError> {
    match client.scale_program(name.to_owned(), count).await {
        Ok(outcome) => {
            for process in &outcome.stopped {
                out.line(format!("{process}: stopped"));
            }
            for process in &outcome.started {
                out.line(format!("{process}: started"));
            }
            out.line(format!("{name}: scaled to {count} instance(s)"));
        }
        Err(error) => {
            let fault = fault_of(&error).ok_or(error)?;
            out.line(output::error_line(name, &fault.to_string()));
            out.status = exit::GENERIC;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::MockClient;
    use rsupervisor_api::{Fault, UpdateOutcome};

    #[tokio::test]
    async fn reports_each_instance_then_the_count() {
        let client = MockClient::new().ok(
            "scaleProgram",
            UpdateOutcome {
                group: "agent".into(),
                action: "scaled".into(),
                stopped: vec!["agent:agent_3".into(), "agent:agent_2".into()],
                started: Vec::new(),
            },
        );
        let mut out = Output::captured();
        run(&client, &mut out, "agent", 2).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "agent:agent_3: stopped\nagent:agent_2: stopped\nagent: scaled to 2 instance(s)\n"
        );
        assert_eq!(out.status, 0);
        assert_eq!(client.calls(), [r#"scaleProgram["agent",2]"#]);
    }

    #[tokio::test]
    async fn a_fault_is_an_error_line_and_status_1() {
        let client = MockClient::new().fault(
            "scaleProgram",
            Fault::BadName,
            "nope: no active program of that name",
        );
        let mut out = Output::captured();
        run(&client, &mut out, "nope", 2).await.expect("ok");
        assert!(
            out.stdout_text().starts_with("nope: ERROR ("),
            "{}",
            out.stdout_text()
        );
        assert_eq!(out.status, 1);
    }
}
