//! The web dashboard in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`, driven over WebDriver): the page loads the process table, a click on
//! stop stops the program, and a line the program writes appears in the live log tail.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use rsupervisor_e2e::{wait_state, wait_until, Daemon, TestDir};
use serde_json::json;

use crate::support::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a port of its own, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(dir: &TestDir) -> Driver {
        for path in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(path).exists(),
                "{path} is missing: install Debian's chromium and chromium-driver \
                 (tests/run-all.sh does)"
            );
        }
        let port = free_port();
        let log = std::fs::File::create(dir.path("chromedriver.log")).expect("driver log");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start chromedriver");
        wait_until(DEADLINE, "chromedriver to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())
        });
        Driver { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` in the browser until it gives `Some`, for at most [`DEADLINE`].
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn text_of(client: &Client, css: &str) -> Option<String> {
    client.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

#[test]
fn the_dashboard_shows_stops_and_tails_in_a_real_browser() {
    let dir = TestDir::new();
    let http_port = free_port();
    dir.config(&format!(
        "[inet_http_server]\nport=127.0.0.1:{http_port}\n\n\
         [program:web]\ncommand={{fixture}} --sleep\nstartsecs=0\n\n\
         [program:talk]\ncommand={{fixture}} --echo-stdin\nstartsecs=0\n"
    ));
    let daemon = Daemon::start(&dir);
    wait_state(&daemon, "web", "RUNNING", DEADLINE);
    wait_state(&daemon, "talk", "RUNNING", DEADLINE);
    let driver = Driver::start(&dir);
    let profile = tempfile::tempdir().expect("browser profile dir");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=412,915",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("a WebDriver session in headless Chromium");

        let page = format!("http://127.0.0.1:{http_port}/");
        client.goto(&page).await.expect("load the dashboard");
        let started = Instant::now();
        eventually("web RUNNING on the page", || async {
            text_of(&client, ".proc[data-name='web'] .state")
                .await
                .filter(|state| state == "RUNNING")
        })
        .await;
        let first_paint = started.elapsed();

        // A click on stop stops the program.
        client
            .find(Locator::Css(
                ".proc[data-name='web'] .buttons button:nth-child(2)",
            ))
            .await
            .expect("web's stop button")
            .click()
            .await
            .expect("click stop");
        wait_state(&daemon, "web", "STOPPED", DEADLINE);
        eventually(
            "web STOPPED on the page (through the event stream)",
            || async {
                text_of(&client, ".proc[data-name='web'] .state")
                    .await
                    .filter(|state| state == "STOPPED")
            },
        )
        .await;

        // A line the program writes appears in the live tail.
        client
            .find(Locator::Css(".proc[data-name='talk'] .name"))
            .await
            .expect("talk's name")
            .click()
            .await
            .expect("open the tail");
        eventually("the tail to open", || async {
            text_of(&client, "#tail-title")
                .await
                .filter(|t| t.starts_with("talk"))
        })
        .await;
        // Whether the line is written before or after the page's follow connects, it shows:
        // a follow starts with the end of what the log already holds.
        daemon.rpc_ok(
            "supervisor.sendProcessStdin",
            json!(["talk", "seen-in-browser-31337\n"]),
        );
        eventually("the line in the tail", || async {
            text_of(&client, "#tail-text")
                .await
                .filter(|text| text.contains("seen-in-browser-31337"))
        })
        .await;
        client.close().await.expect("close the session");
        eprintln!("dashboard: first paint with RUNNING state after {first_paint:?}");
    });
}
