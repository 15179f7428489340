//! `version`: the version of supervisord the daemon implements.

use jsonrpsee::core::ClientError;
use rsupervisor_api::SupervisorRpcClient;

use super::Output;

/// Prints the daemon's version.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
) -> Result<(), ClientError> {
    let version = client.get_supervisor_version().await?;
    if out.json {
        out.json_value(&serde_json::json!({ "version": version }));
    } else {
        out.line(version);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::MockClient;

    #[tokio::test]
    async fn prints_version() {
        let client = MockClient::new().ok("getSupervisorVersion", "4.3.0");
        let mut out = Output::captured();
        run(&client, &mut out).await.expect("ok");
        assert_eq!(out.stdout_text(), "4.3.0\n");
    }
}
