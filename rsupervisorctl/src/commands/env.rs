//! `env <name>`: a process's effective environment, one `NAME=value` line per variable with
//! where it came from; secrets arrive masked from the daemon (an rsupervisor addition).

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, SupervisorRpcClient};

use super::{fault_of, Output};
use crate::{exit, output};

/// Prints the environment of `name`, sorted by variable name.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    name: &str,
) -> Result<(), ClientError> {
    let vars = match client.get_process_environment(name.to_owned()).await {
        Ok(vars) => vars,
        Err(error) => {
            let fault = fault_of(&error).ok_or(error)?;
            let reason = if fault.fault == Fault::BadName {
                "no such process".to_owned()
            } else {
                fault.to_string()
            };
            out.line(output::error_line(name, &reason));
            out.status = exit::GENERIC;
            return Ok(());
        }
    };
    if out.json {
        out.json_value(&serde_json::to_value(&vars).unwrap_or_default());
        return Ok(());
    }
    let width = vars
        .iter()
        .map(|var| var.name.len() + var.value.len() + 1)
        .filter(|width| *width <= 60)
        .max()
        .unwrap_or(0);
    for var in &vars {
        let assignment = format!("{}={}", var.name, var.value);
        out.line(format!("{assignment:<width$}  # {}", var.source));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::MockClient;
    use rsupervisor_api::EnvVar;

    fn var(name: &str, value: &str, source: &str) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: value.into(),
            source: source.into(),
        }
    }

    #[tokio::test]
    async fn lines_with_sources_and_errors() {
        let client = MockClient::new()
            .ok(
                "getProcessEnvironment",
                vec![
                    var("A", "1", "environment"),
                    var("DB_PASSWORD", "********", "env_file /e.env"),
                ],
            )
            .fault("getProcessEnvironment", Fault::BadName, "nosuch");
        let mut out = Output::captured();
        run(&client, &mut out, "web").await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "A=1                   # environment\nDB_PASSWORD=********  # env_file /e.env\n"
        );
        assert_eq!(out.status, 0);
        let mut out = Output::captured();
        run(&client, &mut out, "nosuch").await.expect("ok");
        assert_eq!(out.stdout_text(), "nosuch: ERROR (no such process)\n");
        assert_eq!(out.status, 1);
    }
}
