//! `top [name...]` (rsupervisor's own verb): the status table with CPU percent, memory and
//! pids, refreshed in place every second until Ctrl-C.
//!
//! The refresh is the client's: one `getAllProcessInfo` and one `getAllProcessMetrics` a
//! second; the daemon reads the cgroups only when asked. CPU percent is the change of a
//! process's CPU seconds between two readings over the time between them, so the first
//! screen shows `-` until there is a second reading.

use std::collections::HashMap;
use std::time::Duration;

use jsonrpsee::core::ClientError;
use rsupervisor_api::SupervisorRpcClient;

use super::{follow, status, Output};
use crate::output;

/// How often the screen is redrawn.
const REFRESH: Duration = Duration::from_secs(1);

/// Clears the terminal and puts the cursor at the top left.
const CLEAR: &str = "\x1b[H\x1b[2J";

/// Redraws the table until Ctrl-C (or a failed request).
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    names: &[String],
) -> Result<(), ClientError> {
    let mut previous: HashMap<(String, String), (f64, f64)> = HashMap::new();
    loop {
        let all = client.get_all_process_info().await?;
        let matching = status::select(all, names, out);
        let metrics = client.get_all_process_metrics().await?;
        let screen = output::top_lines(&matching, &metrics, &previous);
        previous = metrics
            .iter()
            .filter_map(|m| {
                let cpu = m.cpu_seconds?;
                Some(((m.group.clone(), m.name.clone()), (cpu, m.sampled_at)))
            })
            .collect();
        if !out.raw(&format!("{CLEAR}{}\n", screen.join("\n"))) || matching.is_empty() {
            return Ok(());
        }
        tokio::select! {
            _ = follow::ctrl_c() => return Ok(()),
            _ = tokio::time::sleep(REFRESH) => {}
        }
    }
}
