//! `restart`: exactly `stop` then `start`, so every stop completes before any start.

use jsonrpsee::core::ClientError;
use rsupervisor_api::SupervisorRpcClient;

use super::{start, stop, Output};
use crate::action::Targets;

/// Stops then starts the targets.
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    targets: &Targets,
) -> Result<(), ClientError> {
    stop::run(client, out, targets).await?;
    start::run(client, out, targets).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::MockClient;

    #[tokio::test]
    async fn stops_then_starts() {
        let client = MockClient::new()
            .ok("stopProcess", true)
            .ok("stopProcess", true)
            .ok("startProcess", true)
            .ok("startProcess", true);
        let mut out = Output::captured();
        let targets = Targets::Names(vec!["a".into(), "b".into()]);
        run(&client, &mut out, &targets).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "a: stopped\nb: stopped\na: started\nb: started\n"
        );
    }
}
