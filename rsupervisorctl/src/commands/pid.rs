//! `pid [name...|all]`: the daemon's pid, or processes' pids (0 when not running).

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, SupervisorRpcClient};
use serde_json::json;

use super::{is_fault, Output};
use crate::action::Targets;
use crate::exit;

/// Prints the pids asked for.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    targets: Option<&Targets>,
) -> Result<(), ClientError> {
    match targets {
        None => {
            let pid = client.get_pid().await?;
            if out.json {
                out.json_value(&json!({ "pid": pid }));
            } else {
                out.line(pid.to_string());
            }
        }
        Some(Targets::All) => {
            let infos = client.get_all_process_info().await?;
            if out.json {
                let list: Vec<_> = infos
                    .iter()
                    .map(|i| json!({ "name": i.namespec(), "pid": i.pid }))
                    .collect();
                out.json_value(&serde_json::Value::Array(list));
            } else {
                for info in infos {
                    out.line(info.pid.to_string());
                }
            }
        }
        Some(Targets::Names(names)) => {
            let mut list = Vec::new();
            for name in names {
                match client.get_process_info(name.clone()).await {
                    Ok(info) => {
                        if info.pid == 0 {
                            out.status = exit::NOT_RUNNING;
                        }
                        if out.json {
                            list.push(json!({ "name": info.namespec(), "pid": info.pid }));
                        } else {
                            out.line(info.pid.to_string());
                        }
                    }
                    Err(error) if is_fault(&error, Fault::BadName) => {
                        out.problem(format!("No such process {name}"));
                        out.status = exit::GENERIC;
                    }
                    Err(error) => return Err(error),
                }
            }
            if out.json {
                out.json_value(&serde_json::Value::Array(list));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::{info, MockClient};
    use rsupervisor_api::ProcessState::*;

    #[tokio::test]
    async fn daemon_pid() {
        let client = MockClient::new().ok("getPID", 42);
        let mut out = Output::captured();
        run(&client, &mut out, None).await.expect("ok");
        assert_eq!(out.stdout_text(), "42\n");
    }

    #[tokio::test]
    async fn names_with_stopped_and_bad() {
        let client = MockClient::new()
            .ok("getProcessInfo", info("a", "a", Running, 7))
            .ok("getProcessInfo", info("b", "b", Stopped, 0))
            .fault("getProcessInfo", Fault::BadName, "nosuch");
        let mut out = Output::captured();
        let targets = Targets::Names(vec!["a".into(), "b".into(), "nosuch".into()]);
        run(&client, &mut out, Some(&targets)).await.expect("ok");
        assert_eq!(out.stdout_text(), "7\n0\nNo such process nosuch\n");
        assert_eq!(out.status, 1);
    }

    #[tokio::test]
    async fn stopped_process_exits_7() {
        let client = MockClient::new().ok("getProcessInfo", info("b", "b", Stopped, 0));
        let mut out = Output::captured();
        run(&client, &mut out, Some(&Targets::Names(vec!["b".into()])))
            .await
            .expect("ok");
        assert_eq!(out.status, 7);
    }

    #[tokio::test]
    async fn all_keeps_status() {
        let client = MockClient::new().ok(
            "getAllProcessInfo",
            vec![info("a", "a", Running, 7), info("b", "b", Stopped, 0)],
        );
        let mut out = Output::captured();
        run(&client, &mut out, Some(&Targets::All))
            .await
            .expect("ok");
        assert_eq!(out.stdout_text(), "7\n0\n");
        assert_eq!(out.status, 0);
    }

    #[tokio::test]
    async fn json() {
        let client = MockClient::new().ok("getPID", 42);
        let mut out = Output::captured();
        out.json = true;
        run(&client, &mut out, None).await.expect("ok");
        let value: serde_json::Value = serde_json::from_str(out.stdout_text()).expect("json");
        assert_eq!(value["pid"], 42);
    }
}
