//! The log pipeline: everything between a child's output pipes (or the daemon's own
//! messages) and the files, followers and RPC readers.
//!
//! It lives outside the supervisor actor (DESIGN.md, "Logs stay outside the actor"): the
//! actor only keeps, per process, the [`LogHandle`]s; pumps run on their own until end of
//! file and report failures to the main log themselves.
//!
//! - [`rotate`]: [`RotatingFile`], supervisord's size-based rotation;
//! - [`handle`]: [`LogHandle`], a rotating file shared by its writer and the supervisor
//!   (reopen on SIGUSR2, clear on `clearProcessLogs`), which notifies the hub;
//! - [`hub`]: [`LogHub`], writers' change notifications for followers;
//! - [`mod@follow`]: [`Follower`], `tail -f` across rotations;
//! - [`pump`]: [`Pumps`], one task per child pipe, on a runtime of their own;
//! - [`splice`]: when and how a pump moves output to its file with `splice(2)`;
//! - [`read`]: [`read_range`] and [`tail`], the `readLog`/`tailProcessLog` semantics;
//! - [`ready`]: [`ready::ReadyWatch`], the `ready_log` line watch;
//! - [`auto`]: AUTO log names and startup cleanup;
//! - [`capture`]: capture mode's marker scanner and buffer (PROCESS_COMMUNICATION_*);
//! - [`mainlog`]: [`MainLog`], the daemon's own log;
//! - [`record`]: [`LineFramer`], the `timestamped` and `json` child log formats;
//! - [`stamp`]: [`Stamp`](stamp::Stamp), record time stamps.
//!
//! [`JoinHandle`]: tokio::task::JoinHandle

pub mod auto;
pub mod capture;
pub mod follow;
pub mod handle;
pub mod hub;
pub mod mainlog;
pub mod pump;
pub mod read;
pub mod ready;
pub mod record;
pub mod rotate;
pub mod splice;
pub mod stamp;

pub use auto::{cleanup_auto_logs, create_auto_log};
pub use follow::{follow, FollowStart, Follower};
pub use handle::LogHandle;
pub use hub::LogHub;
pub use mainlog::MainLog;
pub use pump::{LogSink, MainLogCopy, OutputEvent, OutputEvents, PumpReport, Pumps};
pub use read::{read_range, tail, ReadError, TailSlice};
pub use record::{LineFramer, Origin};
pub use rotate::{RotatingFile, WriteOutcome, MODE_AUTO, MODE_EXPLICIT};

/// One of a process's two output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl Channel {
    /// The name supervisord uses in file names and messages: `stdout` or `stderr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Stdout => "stdout",
            Channel::Stderr => "stderr",
        }
    }
}
