//! `listen --broker`: what one client sends, every other client receives (ncat's
//! `--broker`), for thousands of clients.
//!
//! The reader of the client that sent the data hands it to every other member straight
//! from its own task: no central task to become the bottleneck, and a chunk is one shared
//! [`Bytes`] however many clients it goes to. Each member's queue is unbounded in count but
//! bounded in bytes ([`BACKLOG_LIMIT`]): a burst of many small messages from many clients
//! at once always fits, while a client that stops reading has what is meant for it dropped
//! (and said so) instead of stalling everyone who speaks after it, which is what awaiting
//! its queue would do.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use tokio::sync::mpsc;

use super::event::PeerId;

/// How much may wait for one client before what follows is dropped for it. The memory is
/// shared between clients (one chunk, many references), so this bounds how far behind a
/// client may fall, not what each costs.
pub(crate) const BACKLOG_LIMIT: usize = 4 * 1024 * 1024;

/// The clients of a broker session.
#[derive(Default)]
pub(crate) struct Hub {
    members: RwLock<HashMap<PeerId, Member>>,
}

struct Member {
    tx: mpsc::UnboundedSender<Bytes>,
    backlog: Arc<Backlog>,
}

/// One member's queue as both ends see it.
#[derive(Default)]
pub(crate) struct Backlog {
    /// Bytes queued and not yet written.
    queued: AtomicUsize,
    /// Bytes dropped since the member last caught up.
    dropped: AtomicU64,
    /// A drop has been reported and the member has not caught up since.
    behind: AtomicBool,
}

/// What a member's writer takes its share from.
pub(crate) struct Inbox {
    rx: mpsc::UnboundedReceiver<Bytes>,
    backlog: Arc<Backlog>,
}

/// Something worth telling the console about a member's queue.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lag {
    /// Its queue is full: data for it is being dropped from now on.
    Dropping { to: PeerId },
    /// It caught up; this much was dropped for it meanwhile.
    CaughtUp { dropped: u64 },
}

impl Hub {
    pub fn join(&self, id: PeerId) -> Inbox {
        let (tx, rx) = mpsc::unbounded_channel();
        let backlog = Arc::new(Backlog::default());
        let member = Member {
            tx,
            backlog: backlog.clone(),
        };
        self.write().insert(id, member);
        Inbox { rx, backlog }
    }

    pub fn leave(&self, id: PeerId) {
        self.write().remove(&id);
    }

    /// Queue `bytes` for every member but `from`; the members whose queue just became full.
    pub fn fan_out(&self, from: PeerId, bytes: &Bytes) -> Vec<Lag> {
        let mut lagging = Vec::new();
        let members = self.members.read().unwrap_or_else(|e| e.into_inner());
        for (&id, member) in members.iter() {
            if id == from {
                continue;
            }
            let backlog = &member.backlog;
            let queued = backlog.queued.load(Ordering::Relaxed);
            if queued + bytes.len() > BACKLOG_LIMIT {
                backlog
                    .dropped
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                if !backlog.behind.swap(true, Ordering::Relaxed) {
                    lagging.push(Lag::Dropping { to: id });
                }
                continue;
            }
            backlog.queued.fetch_add(bytes.len(), Ordering::Relaxed);
            // A member whose writer has ended is about to leave; what it misses is moot.
            let _ = member.tx.send(bytes.clone());
        }
        lagging
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<PeerId, Member>> {
        self.members.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inbox {
    pub async fn recv(&mut self) -> Option<Bytes> {
        self.rx.recv().await
    }

    /// `bytes` (taken from [`Inbox::recv`]) are written: they no longer count against the
    /// limit. Says so once when a member that had data dropped has emptied its queue.
    pub fn written(&self, bytes: &Bytes) -> Option<Lag> {
        let left = self
            .backlog
            .queued
            .fetch_sub(bytes.len(), Ordering::Relaxed)
            - bytes.len();
        if left == 0 && self.backlog.behind.swap(false, Ordering::Relaxed) {
            let dropped = self.backlog.dropped.swap(0, Ordering::Relaxed);
            return Some(Lag::CaughtUp { dropped });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn everyone_but_the_sender_gets_each_chunk_once() {
        let hub = Hub::default();
        let mut inboxes: Vec<_> = (1..=3).map(|id| hub.join(id)).collect();
        assert!(hub.fan_out(2, &Bytes::from_static(b"hi")).is_empty());
        let got1 = inboxes[0].recv().await.unwrap();
        let got3 = inboxes[2].recv().await.unwrap();
        assert_eq!((&got1[..], &got3[..]), (&b"hi"[..], &b"hi"[..]));
        assert!(inboxes[1].rx.try_recv().is_err());
        assert!(inboxes[0].rx.try_recv().is_err());
        assert_eq!(inboxes[0].written(&got1), None);
        hub.leave(3);
        hub.fan_out(1, &Bytes::from_static(b"x"));
        assert!(
            inboxes[2].recv().await.is_none(),
            "a member that left gets nothing"
        );
    }

    #[tokio::test]
    async fn a_member_that_falls_behind_is_skipped_then_told_what_it_missed() {
        let hub = Hub::default();
        let mut slow = hub.join(1);
        let _sender = hub.join(2);
        let big = Bytes::from(vec![0u8; BACKLOG_LIMIT]);
        assert!(hub.fan_out(2, &big).is_empty());
        let small = Bytes::from_static(b"abc");
        assert_eq!(hub.fan_out(2, &small), vec![Lag::Dropping { to: 1 }]);
        // Reported once per episode, counted every time.
        assert!(hub.fan_out(2, &small).is_empty());
        let got = slow.recv().await.unwrap();
        assert_eq!(slow.written(&got), Some(Lag::CaughtUp { dropped: 6 }));
        assert!(hub.fan_out(2, &small).is_empty());
        let got = slow.recv().await.unwrap();
        assert_eq!(&got[..], b"abc");
        assert_eq!(slow.written(&got), None);
    }
}
