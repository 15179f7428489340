//! `update [all|group...]`: reread the configuration and apply it. Unlike supervisorctl, a
//! changed group is updated in place by the daemon (`updateProcessGroup`), which restarts only
//! the processes whose settings changed; settings that need a daemon restart are reported.

use jsonrpsee::core::ClientError;
use rsupervisor_api::{Fault, SupervisorRpcClient};
use std::collections::BTreeSet;

use super::{fault_of, reread::reload_config, Output};
use crate::{exit, output};

fn report_fault(out: &mut Output, group: &str, error: ClientError) -> Result<(), ClientError> {
    let fault = fault_of(&error).ok_or(error)?;
    out.line(format!("{group}: ERROR ({fault})"));
    out.status = exit::GENERIC;
    Ok(())
}

/// Applies the configuration to `groups` (every group when empty).
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    groups: &[String],
) -> Result<(), ClientError> {
    let Some(result) = reload_config(client, out, "ERROR: already shutting down").await? else {
        return Ok(());
    };
    for entry in &result.needs_restart {
        out.line(output::needs_restart_line(entry));
    }
    let wanted: BTreeSet<&str> = groups.iter().map(String::as_str).collect();
    if !wanted.is_empty() {
        let mut known: BTreeSet<String> = client
            .get_all_process_info()
            .await?
            .into_iter()
            .map(|info| info.group)
            .collect();
        known.extend(result.added.iter().cloned());
        for group in &wanted {
            if !known.contains(*group) {
                out.line(format!("ERROR: no such group: {group}"));
                out.status = exit::GENERIC;
            }
        }
    }
    let selected = |group: &String| wanted.is_empty() || wanted.contains(group.as_str());

    for group in result.removed.iter().filter(|g| selected(g)) {
        let results = match client.stop_process_group(group.clone(), Some(true)).await {
            Ok(results) => results,
            Err(error) => {
                report_fault(out, group, error)?;
                continue;
            }
        };
        out.line(format!("{group}: stopped"));
        if results.iter().any(|r| r.status == Fault::Failed.code()) {
            out.line(format!("{group}: has problems; not removing"));
            out.status = exit::GENERIC;
            continue;
        }
        match client.remove_process_group(group.clone()).await {
            Ok(_) => out.line(format!("{group}: removed process group")),
            Err(error) => report_fault(out, group, error)?,
        }
    }
    for group in result.changed.iter().filter(|g| selected(g)) {
        match client.update_process_group(group.clone()).await {
            Ok(outcome) => {
                if !outcome.stopped.is_empty() {
                    out.line(format!("{group}: stopped"));
                }
                out.line(format!("{group}: updated process group"));
            }
            Err(error) => report_fault(out, group, error)?,
        }
    }
    for group in result.added.iter().filter(|g| selected(g)) {
        match client.add_process_group(group.clone()).await {
            Ok(_) => out.line(format!("{group}: added process group")),
            Err(error) => report_fault(out, group, error)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::{info, result, MockClient};
    use rsupervisor_api::{ProcessState, ReloadResult, UpdateOutcome};

    fn reload() -> ReloadResult {
        ReloadResult {
            added: vec!["new".into()],
            changed: vec!["web".into(), "cron".into()],
            removed: vec!["old".into()],
            changed_processes: vec!["web:web".into()],
            needs_restart: vec!["unix_http_server:file".into()],
        }
    }

    fn outcome(group: &str, stopped: &[&str]) -> UpdateOutcome {
        UpdateOutcome {
            group: group.into(),
            action: "updated".into(),
            stopped: stopped.iter().map(|s| s.to_string()).collect(),
            started: stopped.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[tokio::test]
    async fn applies_every_change_in_order() {
        let client = MockClient::new()
            .ok("reloadConfig", reload())
            .ok(
                "stopProcessGroup",
                vec![result("old", "old", Fault::Success)],
            )
            .ok("removeProcessGroup", true)
            .ok("updateProcessGroup", outcome("web", &["web"]))
            .ok("updateProcessGroup", outcome("cron", &[]))
            .ok("addProcessGroup", true);
        let mut out = Output::captured();
        run(&client, &mut out, &[]).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "unix_http_server:file: changed (restart rsupervisord to apply)\n\
             old: stopped\nold: removed process group\n\
             web: stopped\nweb: updated process group\n\
             cron: updated process group\n\
             new: added process group\n"
        );
        assert_eq!(out.status, 0);
    }

    #[tokio::test]
    async fn limited_to_named_groups_with_unknown_names() {
        let client = MockClient::new()
            .ok(
                "reloadConfig",
                ReloadResult {
                    needs_restart: vec![],
                    ..reload()
                },
            )
            .ok(
                "getAllProcessInfo",
                vec![info("web", "web", ProcessState::Running, 3)],
            )
            .ok("updateProcessGroup", outcome("web", &["web"]));
        let mut out = Output::captured();
        run(&client, &mut out, &["web".to_owned(), "nosuch".to_owned()])
            .await
            .expect("ok");
        assert_eq!(
            out.stdout_text(),
            "ERROR: no such group: nosuch\nweb: stopped\nweb: updated process group\n"
        );
        assert_eq!(out.status, 1);
    }

    #[tokio::test]
    async fn failed_stop_keeps_the_group() {
        let client = MockClient::new()
            .ok(
                "reloadConfig",
                ReloadResult {
                    removed: vec!["old".into()],
                    ..Default::default()
                },
            )
            .ok(
                "stopProcessGroup",
                vec![result("old", "old", Fault::Failed)],
            );
        let mut out = Output::captured();
        run(&client, &mut out, &[]).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "old: stopped\nold: has problems; not removing\n"
        );
        assert_eq!(out.status, 1);
    }

    #[tokio::test]
    async fn nothing_to_do_prints_nothing() {
        let client = MockClient::new().ok("reloadConfig", ReloadResult::default());
        let mut out = Output::captured();
        run(&client, &mut out, &[]).await.expect("ok");
        assert_eq!(out.stdout_text(), "");
    }

    #[tokio::test]
    async fn cant_reread() {
        let client = MockClient::new().fault("reloadConfig", Fault::CantReread, "bad");
        let mut out = Output::captured();
        run(&client, &mut out, &[]).await.expect("ok");
        assert_eq!(out.stdout_text(), "ERROR: CANT_REREAD: bad\n");
        assert_eq!(out.status, 1);
    }
}
