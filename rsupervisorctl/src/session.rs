//! One connection's worth of state, as supervisorctl's `Controller`: the settings, the lazily
//! opened client, the exit status, and the dispatch of a command line to its verb (including
//! the up-check most verbs do first and the reporting of errors no verb handles).

use jsonrpsee::core::ClientError;
use rsupervisor_api::http_client::{connect_error_of, Client};
use rsupervisor_api::transport::{ConnectError, CONNECT_TIMEOUT};
use rsupervisor_api::{Fault, ProcessInfo, SupervisorRpcClient, API_VERSION};
use std::io::{BufRead, Write};
use std::time::Duration;

use crate::action::{self, Action, Line, Verb};
use crate::commands::{self, fault_of, Output};
use crate::settings::{endpoint, Settings};
use crate::{exit, output};

/// Long enough for `start` to wait out any `startsecs` and `stop` any `stopwaitsecs`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Whether the shell should go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Read the next command.
    Continue,
    /// `quit`, `exit` or end of input.
    Quit,
}

/// The controller state shared by one-shot and interactive use.
pub struct Session {
    settings: Settings,
    interactive: bool,
    client: Option<Client>,
    /// supervisorctl's `exitstatus`: set by commands, never reset.
    pub status: i32,
}

impl Session {
    /// A session that has not connected yet.
    pub fn new(settings: Settings, interactive: bool) -> Self {
        Session {
            settings,
            interactive,
            client: None,
            status: exit::OK,
        }
    }

    /// The settings in use (the shell reads the prompt and history file).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Namespecs and group names for tab completion, from the daemon if already connected.
    pub async fn process_infos(&self) -> Vec<rsupervisor_api::ProcessInfo> {
        match &self.client {
            Some(client) => client.get_all_process_info().await.unwrap_or_default(),
            None => Vec::new(),
        }
    }

    /// Runs one command line.
    pub async fn execute(&mut self, line: &str) -> Flow {
        let mut out = Output::terminal(self.settings.json);
        out.status = self.status;
        let flow = self.dispatch(line, &mut out).await;
        self.status = out.status;
        flow
    }

    async fn dispatch(&mut self, line: &str, out: &mut Output) -> Flow {
        let (verb, rest) = match action::split_line(line) {
            Line::Empty => return Flow::Continue,
            Line::Unknown(line) => {
                out.line(output::unknown_syntax(&line));
                out.status = exit::GENERIC;
                return Flow::Continue;
            }
            Line::Verb(verb, rest) => (verb, rest),
        };
        let mut args: Vec<String> = rest.split_whitespace().map(str::to_owned).collect();
        if verb.supports_json() && args.iter().any(|arg| arg == "--json") {
            args.retain(|arg| arg != "--json");
            out.json = true;
        }
        let parsed = action::parse(verb, args);
        let upcheck_first = matches!(
            verb,
            Verb::Status
                | Verb::Start
                | Verb::Stop
                | Verb::Restart
                | Verb::Signal
                | Verb::Pid
                | Verb::Tail
                | Verb::Maintail
                | Verb::Clear
                | Verb::Reset
                | Verb::Fg
                | Verb::Env
                | Verb::Scale
                | Verb::Run
                | Verb::Schedule
                | Verb::Top
        ) || (verb == Verb::Version && parsed.is_ok());
        // `status` of the whole table, the command run most (by people, scripts and
        // monitoring): the up-check and the table in one round trip.
        if let Ok(Action::Status(names)) = &parsed {
            if commands::status::reads_whole_table(names) {
                if let Some(all) = self.upcheck_with_table(out).await {
                    commands::status::show(out, all, names);
                }
                return Flow::Continue;
            }
        }
        if upcheck_first && !self.upcheck(out, verb == Verb::Status).await {
            return Flow::Continue;
        }
        match parsed {
            Ok(action) => self.run(action, out).await,
            Err(error) => {
                out.line(&error.message);
                if let Some(text) = error.help.and_then(|verb| output::help_text(verb.name())) {
                    out.line(text);
                }
                out.status = error.status;
                Flow::Continue
            }
        }
    }

    async fn run(&mut self, action: Action, out: &mut Output) -> Flow {
        match action {
            Action::Quit => {
                out.line("");
                return Flow::Quit;
            }
            Action::Help(topic) => help(out, topic.as_deref()),
            Action::Open(url) => self.open(out, &url).await,
            Action::Reload
                if !self.confirm("Really restart the remote supervisord process y/N? ") => {}
            Action::Shutdown
                if !self.confirm("Really shut the remote supervisord process down y/N? ") => {}
            Action::Shutdown => match self.connect().await {
                Ok(client) => match commands::shutdown::run(client, out).await {
                    // Refused credentials: reported as when the WebSocket handshake refused them.
                    Err(error) if connect_error_of(&error).is_some() => {
                        let reason = connect_error_of(&error).map(connect_reason);
                        let url = &self.settings.serverurl;
                        out.line(format!(
                            "ERROR: {url} {} (already shut down?)",
                            reason.unwrap_or_default()
                        ));
                        out.status = exit::GENERIC;
                        self.client = None;
                    }
                    result => self.report(out, result),
                },
                Err(error) => {
                    let url = &self.settings.serverurl;
                    match error {
                        Unreachable::Connect(error) => out.line(format!(
                            "ERROR: {url} {} (already shut down?)",
                            connect_reason(&error)
                        )),
                        Unreachable::Url(message) => out.error(message),
                    }
                    out.status = exit::GENERIC;
                }
            },
            action => {
                let client = match self.connect().await {
                    Ok(client) => client,
                    Err(error) => {
                        self.report_unreachable(out, error, false);
                        return Flow::Continue;
                    }
                };
                let result = run_verb(client, out, action).await;
                self.report(out, result);
            }
        }
        Flow::Continue
    }

    async fn open(&mut self, out: &mut Output, url: &str) {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme.to_lowercase());
        if !matches!(scheme.as_deref(), Some("unix" | "http")) {
            out.line("ERROR: url must be http:// or unix://");
            out.status = exit::GENERIC;
            return;
        }
        self.settings.serverurl = url.to_owned();
        self.client = None;
        if self.upcheck(out, true).await {
            if let Some(client) = &self.client {
                let result = commands::status::run(client, out, &[], true).await;
                self.report(out, result);
            }
        }
    }

    fn confirm(&self, question: &str) -> bool {
        if !self.interactive {
            return true;
        }
        print!("{question}");
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        answer.trim_start().to_lowercase().starts_with('y')
    }

    async fn connect(&mut self) -> Result<&Client, Unreachable> {
        if let Some(client) = &self.client {
            if !client.is_connected().await {
                self.client = None;
            }
        }
        if self.client.is_none() {
            let endpoint = endpoint(&self.settings.serverurl).map_err(Unreachable::Url)?;
            let credentials = match (&self.settings.username, &self.settings.password) {
                (Some(user), Some(password)) => Some((user.as_str(), password.as_str())),
                _ => None,
            };
            let client = Client::connect(&endpoint, REQUEST_TIMEOUT, credentials)
                .await
                .map_err(Unreachable::Connect)?;
            self.client = Some(client);
        }
        self.client.as_ref().ok_or(Unreachable::Url(String::new()))
    }

    fn report_unreachable(&self, out: &mut Output, error: Unreachable, for_status: bool) {
        match error {
            Unreachable::Url(message) => {
                out.error(message);
                out.status = exit::INVALID_ARGS;
            }
            Unreachable::Connect(error) => {
                out.problem(format!(
                    "{} {}",
                    self.settings.serverurl,
                    connect_reason(&error)
                ));
                out.status = exit::for_connect_error(&error);
            }
        }
        if for_status {
            out.status = exit::status_after_upcheck_failure(out.status);
        }
    }

    /// supervisorctl's `upcheck`: connect and compare API versions. Prints why on failure.
    async fn upcheck(&mut self, out: &mut Output, for_status: bool) -> bool {
        // A daemon that accepts connections but never answers (stuck, or stopped with
        // SIGSTOP) must not hang the ctl: the version is answered without the actor.
        let answer = match self.connect().await {
            Ok(client) => tokio::time::timeout(CONNECT_TIMEOUT, client.get_version()).await,
            Err(error) => {
                self.report_unreachable(out, error, for_status);
                return false;
            }
        };
        self.judge_upcheck(out, answer, for_status)
    }

    /// The up-check and `status`'s table in one round trip ([`Client::version_then`]:
    /// `getVersion` and `getAllProcessInfo` pipelined on one connection). The version is
    /// judged as soon as it arrives, within [`CONNECT_TIMEOUT`] as the up-check alone, and
    /// the table is read only if it passed. The table, or `None` once why not is printed.
    async fn upcheck_with_table(&mut self, out: &mut Output) -> Option<Vec<ProcessInfo>> {
        let answer = match self.connect().await {
            Ok(client) => {
                let both = client.version_then("supervisor.getAllProcessInfo");
                tokio::time::timeout(CONNECT_TIMEOUT, both).await
            }
            Err(error) => {
                self.report_unreachable(out, error, true);
                return None;
            }
        };
        let (version, table) = match answer {
            Ok(Ok((version, table))) => (Ok(version), Some(table)),
            Ok(Err(error)) => (Ok(Err(error)), None),
            Err(elapsed) => (Err(elapsed), None),
        };
        if !self.judge_upcheck(out, version, true) {
            return None;
        }
        let client = self.client.as_ref()?;
        match table?.answer(client).await {
            Ok(table) => Some(table),
            Err(error) => {
                self.report(out, Err(error));
                None
            }
        }
    }

    /// The up-check's verdict on the version answer (or its absence within
    /// [`CONNECT_TIMEOUT`]); prints why it failed.
    fn judge_upcheck(
        &mut self,
        out: &mut Output,
        answer: Result<Result<String, ClientError>, tokio::time::error::Elapsed>,
        for_status: bool,
    ) -> bool {
        let result = match answer {
            Ok(Err(error)) if connect_error_of(&error).is_some() => {
                let connect = connect_error_of(&error).cloned();
                self.client = None;
                if let Some(connect) = connect {
                    self.report_unreachable(out, Unreachable::Connect(connect), for_status);
                }
                return false;
            }
            Ok(result) => result,
            Err(_) => {
                let url = &self.settings.serverurl;
                self.client = None;
                self.report_unreachable(
                    out,
                    Unreachable::Connect(ConnectError::Other {
                        path: url.into(),
                        message: format!(
                            "no answer within {} s (is rsupervisord stuck?)",
                            CONNECT_TIMEOUT.as_secs()
                        ),
                    }),
                    for_status,
                );
                return false;
            }
        };
        let ok = match result {
            Ok(version) if version == API_VERSION => true,
            Ok(version) => {
                out.problem(format!(
                    "Sorry, this version of supervisorctl expects to talk to a server with API \
                     version {API_VERSION}, but the remote version is {version}."
                ));
                out.status = exit::NOT_INSTALLED;
                false
            }
            Err(error) if fault_of(&error).is_some_and(|f| f.fault == Fault::UnknownMethod) => {
                out.problem(
                    "Sorry, supervisord responded but did not recognize the supervisor namespace \
                     commands that supervisorctl uses to control it.  Please check that the \
                     [rpcinterface:supervisor] section is enabled in the configuration file \
                     (see sample.conf).",
                );
                out.status = exit::UNIMPLEMENTED_FEATURE;
                false
            }
            Err(error) => {
                self.report(out, Err(error));
                false
            }
        };
        if !ok && for_status {
            out.status = exit::status_after_upcheck_failure(out.status);
        }
        ok
    }

    /// Prints an error no verb handled and sets status 1; a lost connection is dropped so the
    /// next command reconnects.
    fn report(&mut self, out: &mut Output, result: Result<(), ClientError>) {
        let Err(error) = result else { return };
        if let Some(connect) = connect_error_of(&error).cloned() {
            // Refused credentials, or a new connection that could not be made.
            self.client = None;
            self.report_unreachable(out, Unreachable::Connect(connect), false);
            return;
        }
        out.status = exit::GENERIC;
        if let Some(fault) = fault_of(&error) {
            out.problem(format!("error: {fault}"));
            return;
        }
        let url = &self.settings.serverurl;
        match error {
            ClientError::RequestTimeout => {
                out.error(format!(
                    "rsupervisorctl: rsupervisord at {url} did not answer in time"
                ));
            }
            ClientError::RestartNeeded(_) | ClientError::Transport(_) => {
                out.error(format!(
                    "rsupervisorctl: lost the connection to rsupervisord at {url} (daemon \
                     stopped or restarting?)"
                ));
                self.client = None;
            }
            other => out.error(format!(
                "rsupervisorctl: unexpected answer from {url}: {other}"
            )),
        }
    }
}

/// Why no client could be had.
enum Unreachable {
    /// The URL cannot be used (not `unix://`); the message is complete.
    Url(String),
    /// The socket could not be connected.
    Connect(ConnectError),
}

/// The end of supervisorctl's message, after the URL: `no such file`, `refused connection`.
fn connect_reason(error: &ConnectError) -> String {
    match error {
        ConnectError::NoSuchFile { .. } => "no such file".to_owned(),
        ConnectError::Refused { .. } => "refused connection".to_owned(),
        ConnectError::PermissionDenied { .. } => {
            "permission denied (check [unix_http_server] chmod/chown)".to_owned()
        }
        ConnectError::Other { message, .. } => message.clone(),
    }
}

fn help(out: &mut Output, topic: Option<&str>) {
    match topic {
        None => {
            out.raw(&output::help_index());
        }
        Some(topic) => match output::help_text(topic) {
            Some(text) => out.line(text),
            None => out.line(output::no_help(topic)),
        },
    }
}

/// Runs a verb that needs nothing but the client.
async fn run_verb<C: SupervisorRpcClient + Sync>(
    client: &C,
    out: &mut Output,
    action: Action,
) -> Result<(), ClientError> {
    match action {
        Action::Add(groups) => commands::add::run(client, out, &groups).await,
        Action::Avail => commands::avail::run(client, out).await,
        Action::Clear(targets) => commands::clear::run(client, out, &targets).await,
        Action::Reset(targets) => commands::reset::run(client, out, &targets).await,
        Action::Fg(name) => commands::fg::run(client, out, &name).await,
        Action::Env(name) => commands::env::run(client, out, &name).await,
        Action::Scale(name, count) => commands::scale::run(client, out, &name, count).await,
        Action::Run(names) => commands::run::run(client, out, &names).await,
        Action::Schedule(names) => commands::schedule::run(client, out, &names).await,
        Action::Top(names) => commands::top::run(client, out, &names).await,
        Action::Maintail(mode) => commands::maintail::run(client, out, mode).await,
        Action::Audit(request) => commands::audit::run(client, out, request).await,
        Action::Pid(targets) => commands::pid::run(client, out, targets.as_ref()).await,
        Action::Reload => commands::reload::run(client, out).await,
        Action::Remove(groups) => commands::remove::run(client, out, &groups).await,
        Action::Reread => commands::reread::run(client, out).await,
        Action::Restart(targets) => commands::restart::run(client, out, &targets).await,
        Action::Shutdown => commands::shutdown::run(client, out).await,
        Action::Signal { signal, targets } => {
            commands::signal::run(client, out, &signal, &targets).await
        }
        Action::Start(targets) => commands::start::run(client, out, &targets).await,
        Action::StartNoDeps(targets) => commands::start::run_no_deps(client, out, &targets).await,
        Action::StopNoDeps(targets) => commands::stop::run_no_deps(client, out, &targets).await,
        Action::Graph { dot } => commands::graph::run(client, out, dot).await,
        Action::Status(names) => commands::status::run(client, out, &names, false).await,
        Action::Stop(targets) => commands::stop::run(client, out, &targets).await,
        Action::Tail {
            name,
            channel,
            mode,
        } => commands::tail::run(client, out, &name, channel, mode).await,
        Action::Update(groups) => commands::update::run(client, out, &groups).await,
        Action::Version => commands::version::run(client, out).await,
        // Handled by the session itself.
        Action::Quit | Action::Help(_) | Action::Open(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn session(url: &str) -> Session {
        Session::new(
            Settings {
                serverurl: url.to_owned(),
                ..Settings::default()
            },
            false,
        )
    }

    #[tokio::test]
    async fn missing_socket_exits_7_and_4_for_status() {
        let url = "unix:///nonexistent/rsupervisor-test.sock";
        let mut s = session(url);
        s.execute("start web").await;
        assert_eq!(s.status, 7);
        let mut s = session(url);
        s.execute("status").await;
        assert_eq!(s.status, 4);
        let mut s = session(url);
        s.execute("shutdown").await;
        assert_eq!(s.status, 1);
    }

    #[tokio::test]
    async fn unknown_syntax_and_help_need_no_daemon() {
        let mut s = session("unix:///nonexistent/x.sock");
        s.execute("foo bar").await;
        assert_eq!(s.status, 1);
        let mut s = session("unix:///nonexistent/x.sock");
        s.execute("help start").await;
        assert_eq!(s.status, 0);
        assert_eq!(s.execute("quit").await, Flow::Quit);
    }

    #[tokio::test]
    async fn usage_errors_of_arg_first_verbs() {
        let mut s = session("unix:///nonexistent/x.sock");
        s.execute("reread now").await;
        assert_eq!(s.status, 1);
        let mut s = session("https://localhost:9001");
        s.execute("avail").await;
        assert_eq!(s.status, 2);
    }

    /// A request the daemon stand-in was sent.
    #[derive(Debug, Clone)]
    struct Seen {
        /// The connection it came on, counted from 1.
        connection: usize,
        /// How many answers had gone out on that connection when it arrived: 0 for both of
        /// two pipelined requests.
        answered_before: usize,
        body: serde_json::Value,
    }

    /// A daemon stand-in on a unix socket: answers each POST with `answer(body)` and keeps
    /// every request it was sent ([`Seen`]). It holds the first answer on a connection for
    /// up to a second in case a pipelined request follows.
    async fn fake_daemon(
        answer: fn(&serde_json::Value) -> serde_json::Value,
    ) -> (tempfile::TempDir, Arc<Mutex<Vec<Seen>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let dir = tempfile::tempdir().expect("temp dir");
        let listener =
            tokio::net::UnixListener::bind(dir.path().join("sock")).expect("bind the socket");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let requests = seen.clone();
        tokio::spawn(async move {
            let mut connection = 0;
            while let Ok((mut stream, _)) = listener.accept().await {
                connection += 1;
                let requests = requests.clone();
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut pending = Vec::new();
                    let mut waited = false;
                    let mut answered = 0;
                    loop {
                        while let Some((body, used)) = one_request(&buffer) {
                            buffer.drain(..used);
                            pending.push((body, answered));
                        }
                        let mut chunk = [0u8; 4096];
                        if pending.is_empty() {
                            match stream.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                            }
                            continue;
                        }
                        if pending.len() == 1 && !waited {
                            // The first request alone so far: give the second a moment.
                            waited = true;
                            let wait = Duration::from_secs(1);
                            if let Ok(Ok(n)) =
                                tokio::time::timeout(wait, stream.read(&mut chunk)).await
                            {
                                buffer.extend_from_slice(&chunk[..n]);
                                continue;
                            }
                        }
                        for (body, answered_before) in pending.drain(..) {
                            let reply = answer(&body).to_string();
                            requests.lock().expect("lock").push(Seen {
                                connection,
                                answered_before,
                                body,
                            });
                            answered += 1;
                            let wire = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                                 content-length: {}\r\n\r\n{reply}",
                                reply.len()
                            );
                            if stream.write_all(wire.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (dir, seen)
    }

    /// The first complete POST in `buffer`: its JSON body and how many bytes it took.
    fn one_request(buffer: &[u8]) -> Option<(serde_json::Value, usize)> {
        let end = buffer.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&buffer[..end]).to_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .and_then(|value| value.trim().parse().ok())?;
        let body = buffer.get(end + 4..end + 4 + length)?;
        Some((serde_json::from_slice(body).ok()?, end + 4 + length))
    }

    /// The daemon stand-in's answer to one call, with `version` as the API version.
    fn answer_with(body: &serde_json::Value, version: &str) -> serde_json::Value {
        let result = match body["method"].as_str() {
            Some("supervisor.getVersion") => serde_json::json!(version),
            Some("supervisor.getAllProcessInfo") => serde_json::to_value(vec![
                commands::mock::info("web", "web", rsupervisor_api::ProcessState::Running, 42),
                commands::mock::info("web", "db", rsupervisor_api::ProcessState::Stopped, 0),
            ])
            .expect("table"),
            other => panic!("unexpected call {other:?}"),
        };
        serde_json::json!({"jsonrpc": "2.0", "id": body["id"], "result": result})
    }

    #[tokio::test]
    async fn status_pipelines_the_upcheck_and_the_table_in_one_round_trip() {
        let (dir, seen) = fake_daemon(|body| answer_with(body, API_VERSION)).await;
        let mut s = session(&format!("unix://{}/sock", dir.path().display()));
        let mut out = Output::captured();
        s.dispatch("status", &mut out).await;
        let seen = seen.lock().expect("lock").clone();
        let calls: Vec<(usize, usize, &str)> = seen
            .iter()
            .map(|r| {
                (
                    r.connection,
                    r.answered_before,
                    r.body["method"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            calls,
            [
                (1, 0, "supervisor.getVersion"),
                (1, 0, "supervisor.getAllProcessInfo")
            ],
            "both requests on one connection, sent before any answer"
        );
        let table = out.stdout_text();
        assert!(
            table.starts_with("web ") && table.contains("RUNNING   pid 42"),
            "{table}"
        );
        assert!(
            table.contains("web:db") && table.contains("STOPPED"),
            "{table}"
        );
        assert_eq!(out.status, exit::STATUS_NOT_RUNNING);
    }

    #[tokio::test]
    async fn a_version_mismatch_shows_no_table() {
        let (dir, _seen) = fake_daemon(|body| answer_with(body, "2.0")).await;
        let mut s = session(&format!("unix://{}/sock", dir.path().display()));
        let mut out = Output::captured();
        s.dispatch("status", &mut out).await;
        assert!(
            !out.stdout_text().contains("RUNNING"),
            "{}",
            out.stdout_text()
        );
        let said = format!("{}{}", out.stdout_text(), out.stderr_text());
        assert!(said.contains("but the remote version is 2.0"), "{said}");
        assert_eq!(
            out.status,
            exit::status_after_upcheck_failure(exit::NOT_INSTALLED)
        );
    }
}
