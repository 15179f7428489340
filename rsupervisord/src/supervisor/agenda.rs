//! The actor's agenda: everything waiting for the supervisor actor, kept in lanes and handed
//! out in fair turns.
//!
//! Children can make work faster than the actor can do it. In a crash storm hundreds of
//! programs exit every second and each exit asks for a respawn, which costs a fork; a log
//! flood or a mass start does the same with other work. If the actor did that work as it
//! arrived, a `status` request or a SIGTERM would wait behind all of it, and the work itself
//! would keep making more (each respawn exits again before the loop is done).
//!
//! So the actor files what arrives into lanes here and works in turns. A turn takes, in this
//! order: every pending daemon signal, up to [`Quotas::commands`] control requests, one round
//! of reaping (up to [`Quotas::reaps`] children), up to [`Quotas::events`] timers, and up to
//! [`Quotas::spawns`] queued spawns. Work a turn causes goes to the back of its lane for a
//! later turn. Whatever piles up in one lane, every other lane is served within one turn, and
//! a turn's cost is bounded by the quotas: a request never waits behind more than one batch.
//!
//! Every control surface (the JSON-RPC socket today, XML-RPC and HTTP as they land) reaches
//! the actor through the one commands lane, so all of them share this guarantee.
//!
//! The agenda is plain data, generic over what it holds, so its fairness is tested without a
//! runtime.

use std::collections::VecDeque;

/// How much of each lane one turn takes. Signals are always taken whole (there are few).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Control requests per turn.
    pub commands: usize,
    /// Children reaped per turn.
    pub reaps: usize,
    /// Timer and other events per turn.
    pub events: usize,
    /// Spawns per turn: the expensive lane (each is a fork and an exec).
    pub spawns: usize,
}

impl Quotas {
    /// The actor's quotas. A spawn costs about a millisecond, everything else microseconds,
    /// so a full turn stays within a few tens of milliseconds.
    pub const ACTOR: Quotas = Quotas {
        commands: 64,
        reaps: 256,
        events: 256,
        spawns: 16,
    };
}

/// One turn's work, in the order the actor must do it.
#[derive(Debug, PartialEq, Eq)]
pub struct Turn<S, C, E, P> {
    /// Daemon signals (shutdown, reload, reopen), oldest first.
    pub signals: Vec<S>,
    /// Control requests, oldest first.
    pub commands: Vec<C>,
    /// Reap up to this many exited children (0: none this turn).
    pub reaps: usize,
    /// Timers and other events, oldest first.
    pub events: Vec<E>,
    /// Spawns, oldest first.
    pub spawns: Vec<P>,
}

/// The lanes: signals `S`, commands `C`, events `E`, spawns `P`, and whether children wait
/// to be reaped.
#[derive(Debug)]
pub struct Agenda<S, C, E, P> {
    quotas: Quotas,
    signals: VecDeque<S>,
    commands: VecDeque<C>,
    reap: bool,
    events: VecDeque<E>,
    spawns: VecDeque<P>,
}

impl<S, C, E, P> Agenda<S, C, E, P> {
    /// An empty agenda with these quotas (each at least 1).
    pub fn new(quotas: Quotas) -> Self {
        Agenda {
            quotas: Quotas {
                commands: quotas.commands.max(1),
                reaps: quotas.reaps.max(1),
                events: quotas.events.max(1),
                spawns: quotas.spawns.max(1),
            },
            signals: VecDeque::new(),
            commands: VecDeque::new(),
            reap: false,
            events: VecDeque::new(),
            spawns: VecDeque::new(),
        }
    }

    /// Files a daemon signal.
    pub fn push_signal(&mut self, signal: S) {
        self.signals.push_back(signal);
    }

    /// Files a control request.
    pub fn push_command(&mut self, command: C) {
        self.commands.push_back(command);
    }

    /// Notes that children may wait to be reaped (SIGCHLD, or a reap round that hit its
    /// quota). Repeated notes before the next turn are one.
    pub fn want_reap(&mut self) {
        self.reap = true;
    }

    /// Files a timer or other event.
    pub fn push_event(&mut self, event: E) {
        self.events.push_back(event);
    }

    /// Queues a spawn.
    pub fn push_spawn(&mut self, spawn: P) {
        self.spawns.push_back(spawn);
    }

    /// Nothing is waiting: the actor may sleep until a message arrives.
    pub fn is_empty(&self) -> bool {
        self.signals.is_empty()
            && self.commands.is_empty()
            && !self.reap
            && self.events.is_empty()
            && self.spawns.is_empty()
    }

    /// Takes the next turn's work off the lanes.
    pub fn next_turn(&mut self) -> Turn<S, C, E, P> {
        let reaps = if std::mem::take(&mut self.reap) {
            self.quotas.reaps
        } else {
            0
        };
        Turn {
            signals: self.signals.drain(..).collect(),
            commands: take(&mut self.commands, self.quotas.commands),
            reaps,
            events: take(&mut self.events, self.quotas.events),
            spawns: take(&mut self.spawns, self.quotas.spawns),
        }
    }
}

fn take<T>(lane: &mut VecDeque<T>, quota: usize) -> Vec<T> {
    let count = lane.len().min(quota);
    lane.drain(..count).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestAgenda = Agenda<&'static str, u32, u32, u32>;

    fn small() -> Quotas {
        Quotas {
            commands: 2,
            reaps: 10,
            events: 3,
            spawns: 4,
        }
    }

    /// The storm: any number of exits and respawns queued, then a request and a SIGTERM.
    /// Both come out in the very next turn.
    #[test]
    fn no_request_starves_behind_any_number_of_queued_exits() {
        for backlog in [0_u32, 1, 5, 1_000, 100_000] {
            let mut agenda = TestAgenda::new(Quotas::ACTOR);
            for n in 0..backlog {
                agenda.want_reap();
                agenda.push_event(n);
                agenda.push_spawn(n);
            }
            agenda.push_command(7);
            agenda.push_signal("SIGTERM");
            let turn = agenda.next_turn();
            assert_eq!(turn.commands, vec![7], "backlog {backlog}");
            assert_eq!(turn.signals, vec!["SIGTERM"], "backlog {backlog}");
            assert!(turn.spawns.len() <= Quotas::ACTOR.spawns);
            assert!(turn.events.len() <= Quotas::ACTOR.events);
        }
    }

    /// Work that a turn causes (a reaped exit asks for a respawn, which exits again) goes
    /// behind what was already waiting, so a request filed at any point is served within one
    /// turn of it being filed.
    #[test]
    fn work_made_during_a_turn_waits_for_the_next_one() {
        let mut agenda = TestAgenda::new(small());
        for n in 0..100 {
            agenda.push_spawn(n);
        }
        for round in 0..50_u32 {
            let turn = agenda.next_turn();
            assert_eq!(turn.spawns.len(), 4);
            // Every spawn of the turn "exits" and asks to be respawned.
            for spawn in turn.spawns {
                agenda.push_spawn(spawn);
            }
            agenda.want_reap();
            agenda.push_command(round);
            let next = agenda.next_turn();
            assert_eq!(next.commands, vec![round]);
            assert_eq!(next.reaps, 10);
            for spawn in next.spawns {
                agenda.push_spawn(spawn);
            }
        }
    }

    /// A flood of requests does not starve reaping, timers or spawns either.
    #[test]
    fn requests_do_not_starve_the_other_lanes() {
        let mut agenda = TestAgenda::new(small());
        for n in 0..1_000 {
            agenda.push_command(n);
        }
        agenda.push_event(1);
        agenda.push_spawn(1);
        agenda.want_reap();
        let turn = agenda.next_turn();
        assert_eq!(turn.commands, vec![0, 1]);
        assert_eq!(turn.events, vec![1]);
        assert_eq!(turn.spawns, vec![1]);
        assert_eq!(turn.reaps, 10);
    }

    #[test]
    fn lanes_are_first_in_first_out_and_drain_completely() {
        let mut agenda = TestAgenda::new(small());
        for n in 0..10 {
            agenda.push_spawn(n);
            agenda.push_command(n);
        }
        let mut spawns = Vec::new();
        let mut commands = Vec::new();
        let mut turns = 0;
        while !agenda.is_empty() {
            let turn = agenda.next_turn();
            spawns.extend(turn.spawns);
            commands.extend(turn.commands);
            turns += 1;
        }
        assert_eq!(spawns, (0..10).collect::<Vec<_>>());
        assert_eq!(commands, (0..10).collect::<Vec<_>>());
        assert_eq!(turns, 5, "ten commands at two a turn");
    }

    #[test]
    fn reap_notes_collapse_and_zero_quotas_still_make_progress() {
        let mut agenda = TestAgenda::new(Quotas {
            commands: 0,
            reaps: 0,
            events: 0,
            spawns: 0,
        });
        agenda.want_reap();
        agenda.want_reap();
        agenda.push_command(1);
        let turn = agenda.next_turn();
        assert_eq!(turn.reaps, 1);
        assert_eq!(turn.commands, vec![1]);
        assert!(agenda.is_empty());
        assert_eq!(agenda.next_turn().reaps, 0);
    }
}
