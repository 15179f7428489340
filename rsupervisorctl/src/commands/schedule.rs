//! `schedule [name...]`: the scheduled programs with their schedule and next runs (an
//! rsupervisor addition). The times are shown in each schedule's own time zone.

use jsonrpsee::core::ClientError;
use rsupervisor_api::{ProcessInfo, ScheduleInfo, SupervisorRpcClient};

use super::Output;
use crate::action::split_namespec;
use crate::{exit, output};

/// Prints every scheduled program (or the named ones).
pub async fn run<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    names: &[String],
) -> Result<(), ClientError> {
    let all = client.get_all_process_info().await?;
    let mut chosen: Vec<(&ProcessInfo, &ScheduleInfo)> = Vec::new();
    for name in names {
        let (group, process) = split_namespec(name);
        let found: Vec<&ProcessInfo> = all
            .iter()
            .filter(|info| info.group == group && process.as_ref().is_none_or(|p| *p == info.name))
            .collect();
        if found.is_empty() {
            out.problem(output::error_line(name, "no such process"));
            out.status = exit::GENERIC;
        }
        for info in found {
            match &info.schedule {
                Some(schedule) => chosen.push((info, schedule)),
                None => {
                    out.problem(output::error_line(
                        &info.namespec(),
                        "not a scheduled program",
                    ));
                    out.status = exit::GENERIC;
                }
            }
        }
    }
    if names.is_empty() {
        chosen = all
            .iter()
            .filter_map(|info| info.schedule.as_ref().map(|s| (info, s)))
            .collect();
    }
    if out.json {
        let list: Vec<serde_json::Value> = chosen
            .iter()
            .map(|(info, schedule)| {
                let mut value = serde_json::to_value(schedule).unwrap_or_default();
                if let Some(object) = value.as_object_mut() {
                    object.insert("namespec".into(), info.namespec().into());
                }
                value
            })
            .collect();
        out.json_value(&serde_json::Value::Array(list));
        return Ok(());
    }
    let rows: Vec<[String; 4]> = chosen
        .iter()
        .map(|(info, schedule)| {
            [
                info.namespec(),
                schedule.schedule.clone(),
                schedule.timezone.clone(),
                next_runs(schedule, info.now),
            ]
        })
        .collect();
    if rows.is_empty() {
        if names.is_empty() {
            out.line("no scheduled programs (see the schedule key of [program:x])");
        }
        return Ok(());
    }
    let header = ["NAME", "SCHEDULE", "TIME ZONE", "NEXT RUNS"].map(String::from);
    let mut widths = [0; 3];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        out.line(format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        ));
    }
    Ok(())
}

/// `12:45:00 (in 0:03:12), 13:00:00, 13:15:00`, or why there is none.
fn next_runs(schedule: &ScheduleInfo, now: i64) -> String {
    if schedule.paused {
        return "paused until start".to_owned();
    }
    if schedule.next_runs.is_empty() {
        return if schedule.schedule == "@reboot" {
            "at daemon start".to_owned()
        } else {
            "none".to_owned()
        };
    }
    let zone = match schedule.timezone.as_str() {
        "local" => jiff::tz::TimeZone::system(),
        name => jiff::tz::TimeZone::get(name).unwrap_or(jiff::tz::TimeZone::UTC),
    };
    // The first one is the next run itself, jitter included.
    let mut times = schedule.next_runs.clone();
    if schedule.next_run > 0 {
        times[0] = schedule.next_run;
    }
    times
        .iter()
        .enumerate()
        .map(|(index, at)| {
            let text = show_time(*at, now, &zone);
            if index == 0 {
                let left = (*at - now).max(0);
                format!("{text} (in {})", uptime(left))
            } else {
                text
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn show_time(at: i64, now: i64, zone: &jiff::tz::TimeZone) -> String {
    let (Ok(at), Ok(now)) = (
        jiff::Timestamp::from_second(at),
        jiff::Timestamp::from_second(now),
    ) else {
        return at.to_string();
    };
    let at = at.to_zoned(zone.clone());
    if at.date() == now.to_zoned(zone.clone()).date() {
        at.strftime("%H:%M:%S").to_string()
    } else {
        at.strftime("%Y-%m-%d %H:%M:%S").to_string()
    }
}

fn uptime(seconds: i64) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    let clock = format!("{}:{:02}:{:02}", rest / 3600, (rest % 3600) / 60, rest % 60);
    match days {
        0 => clock,
        1 => format!("1 day, {clock}"),
        n => format!("{n} days, {clock}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::mock::{info, MockClient};
    use rsupervisor_api::ProcessState::*;

    #[tokio::test]
    async fn table_of_jobs_only() {
        let mut job = info("job", "job", Exited, 0);
        job.now = 1_796_205_600; // 2026-12-02T10:00:00Z
        job.schedule = Some(ScheduleInfo {
            schedule: "*/15 * * * *".into(),
            timezone: "UTC".into(),
            next_run: 1_796_206_500,
            next_runs: vec![1_796_206_500, 1_796_207_400, 1_796_294_400],
            ..ScheduleInfo::default()
        });
        let mut paused = info("nightly", "nightly", Stopped, 0);
        paused.schedule = Some(ScheduleInfo {
            schedule: "@daily".into(),
            timezone: "Europe/Berlin".into(),
            paused: true,
            ..ScheduleInfo::default()
        });
        let plain = info("web", "web", Running, 10);
        let client = MockClient::new()
            .ok(
                "getAllProcessInfo",
                vec![job.clone(), paused.clone(), plain.clone()],
            )
            .ok("getAllProcessInfo", vec![job, paused, plain]);
        let mut out = Output::captured();
        run(&client, &mut out, &[]).await.expect("ok");
        assert_eq!(
            out.stdout_text(),
            "NAME     SCHEDULE      TIME ZONE      NEXT RUNS\n\
             job      */15 * * * *  UTC            10:15:00 (in 0:15:00), 10:30:00, 2026-12-03 10:40:00\n\
             nightly  @daily        Europe/Berlin  paused until start\n"
        );
        let mut out = Output::captured();
        run(&client, &mut out, &["web".into()]).await.expect("ok");
        assert_eq!(out.stdout_text(), "web: ERROR (not a scheduled program)\n");
        assert_eq!(out.status, exit::GENERIC);
    }
}
