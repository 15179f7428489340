//! `LogHub`: where log writers tell log followers that a file changed.
//!
//! Writers (child-output pumps, the main log) report every write and every replacement of
//! the live file; followers (`tail -f`, `maintail -f`) await those reports instead of
//! polling. The hub holds one [`tokio::sync::watch`] channel per *followed* path, created
//! lazily by the first follower and dropped again once no follower is left, so writers of
//! unfollowed logs pay for one map lookup per chunk and nothing else.
//!
//! Paths are compared as given (no canonicalisation, since a followed file may not exist
//! yet): writers and followers must use the same spelling, which the supervisor guarantees
//! by taking both from the process config.
//!
//! Closing a path (or the whole hub at daemon stop) drops its sender; every follower then
//! drains what is left in the file and ends.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

/// The latest facts about one log path, as published to followers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogState {
    /// Length of the live file after the last reported write.
    pub len: u64,
    /// How many times the live file was replaced (rotated, truncated, reopened, cleared)
    /// since the first follower subscribed.
    pub replacements: u64,
}

/// Shared meeting point between log writers and followers. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct LogHub {
    inner: Arc<Mutex<HubState>>,
}

#[derive(Debug, Default)]
struct HubState {
    // A std Mutex, not a tokio one or an actor: the map is tiny, every critical section is a
    // hash lookup plus a non-blocking `watch` send, and it is never held across `.await`.
    // Writers call into the hub from synchronous code (the main log), so an async lock or
    // a channel round-trip would only add cost.
    followed: HashMap<PathBuf, watch::Sender<LogState>>,
    /// Set by [`LogHub::close_all`]: new subscriptions end immediately.
    shut: bool,
}

/// A follower's subscription to one path. `changed()` fails once the path is closed.
pub(crate) type Subscription = watch::Receiver<LogState>;

impl LogHub {
    /// A new, empty hub.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, HubState> {
        // A panic while holding the lock cannot leave the map inconsistent (each operation
        // is a single insert/remove/send), so a poisoned lock is safe to keep using.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reports that the live file at `path` is now `new_len` bytes long after a write.
    pub fn written(&self, path: &Path, new_len: u64) {
        self.notify(path, |state| state.len = new_len);
    }

    /// Reports that the live file at `path` was replaced or truncated (rotation,
    /// `reopen`, `clear`). Followers finish the old file and continue in the new one.
    pub fn rotated(&self, path: &Path) {
        self.notify(path, |state| {
            state.len = 0;
            state.replacements += 1;
        });
    }

    fn notify(&self, path: &Path, update: impl FnOnce(&mut LogState)) {
        let mut state = self.state();
        let Some(sender) = state.followed.get(path) else {
            return;
        };
        if sender.receiver_count() == 0 {
            // Every follower went away; forget the path until someone follows it again.
            state.followed.remove(path);
            return;
        }
        sender.send_modify(update);
    }

    /// Ends every follower of `path` (its program group was removed).
    pub fn close(&self, path: &Path) {
        self.state().followed.remove(path);
    }

    /// Ends every follower of every path and refuses new ones (daemon stop).
    pub fn close_all(&self) {
        let mut state = self.state();
        state.shut = true;
        state.followed.clear();
    }

    /// Subscribes to changes of `path`. The returned receiver has seen the current state,
    /// so subscribe *before* reading the file to avoid missing a write.
    pub(crate) fn subscribe(&self, path: &Path) -> Subscription {
        let mut state = self.state();
        if state.shut {
            // Dropping the sender at once makes `changed()` fail: the follower ends.
            let (_sender, receiver) = watch::channel(LogState::default());
            return receiver;
        }
        match state.followed.get(path) {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = watch::channel(LogState::default());
                state.followed.insert(path.to_path_buf(), sender);
                receiver
            }
        }
    }

    #[cfg(test)]
    fn followed_paths(&self) -> usize {
        self.state().followed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_see_writes_and_rotations() {
        let hub = LogHub::new();
        let path = Path::new("/tmp/a.log");
        let mut subscription = hub.subscribe(path);
        hub.written(path, 10);
        subscription.changed().await.expect("open");
        assert_eq!(
            *subscription.borrow_and_update(),
            LogState {
                len: 10,
                replacements: 0
            }
        );
        hub.rotated(path);
        subscription.changed().await.expect("open");
        assert_eq!(subscription.borrow_and_update().replacements, 1);
    }

    #[tokio::test]
    async fn close_and_close_all_end_subscriptions() {
        let hub = LogHub::new();
        let mut first = hub.subscribe(Path::new("a"));
        let mut second = hub.subscribe(Path::new("b"));
        hub.close(Path::new("a"));
        assert!(first.changed().await.is_err());
        hub.close_all();
        assert!(second.changed().await.is_err());
        let mut late = hub.subscribe(Path::new("c"));
        assert!(late.changed().await.is_err());
    }

    #[test]
    fn unfollowed_paths_are_forgotten() {
        let hub = LogHub::new();
        hub.written(Path::new("never-followed"), 1);
        assert_eq!(hub.followed_paths(), 0);
        let subscription = hub.subscribe(Path::new("x"));
        assert_eq!(hub.followed_paths(), 1);
        drop(subscription);
        hub.written(Path::new("x"), 5);
        assert_eq!(hub.followed_paths(), 0);
    }
}
