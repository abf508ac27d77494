//! The received pane's history: a ring with a limit, so an hour of traffic keeps memory flat.

use std::collections::VecDeque;

use bytes::Bytes;
use socklab_core::session::{Direction, PeerId};

/// What one history entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// Bytes that went over the wire, with their text in the session encoding.
    Data {
        dir: Direction,
        peer: PeerId,
        bytes: Bytes,
        text: String,
    },
    /// Something that happened (connected, closed), shown dimmed.
    Info(String),
    /// Something that failed, shown in red.
    Error(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub time: jiff::Timestamp,
    pub kind: EntryKind,
}

/// The default number of entries kept.
pub const DEFAULT_LIMIT: usize = 100_000;

/// A bounded history: pushing past the limit drops the oldest entry.
#[derive(Debug, Clone)]
pub struct Scrollback {
    entries: VecDeque<Entry>,
    limit: usize,
    /// Entries dropped off the front since the start, so a paused view can stay put.
    dropped: u64,
}

impl Scrollback {
    /// A limit of 0 is taken as 1: the latest entry is always shown.
    pub fn new(limit: usize) -> Scrollback {
        Scrollback {
            entries: VecDeque::new(),
            limit: limit.max(1),
            dropped: 0,
        }
    }

    pub fn push(&mut self, entry: Entry) {
        if self.entries.len() == self.limit {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(entry);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Entries from the newest backwards.
    pub fn iter_rev(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().rev()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(n: usize) -> Entry {
        Entry {
            time: jiff::Timestamp::UNIX_EPOCH,
            kind: EntryKind::Info(n.to_string()),
        }
    }

    fn texts(s: &Scrollback) -> Vec<String> {
        s.iter()
            .map(|e| match &e.kind {
                EntryKind::Info(t) => t.clone(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn keeps_the_newest_up_to_the_limit() {
        let mut s = Scrollback::new(3);
        for n in 0..10 {
            s.push(info(n));
            assert!(s.len() <= 3);
        }
        assert_eq!(texts(&s), ["7", "8", "9"]);
        assert_eq!(s.dropped(), 7);
        assert_eq!(
            s.iter_rev().next().map(|e| e.kind.clone()),
            Some(EntryKind::Info("9".into()))
        );
    }

    #[test]
    fn under_the_limit_nothing_is_dropped() {
        let mut s = Scrollback::new(DEFAULT_LIMIT);
        for n in 0..1000 {
            s.push(info(n));
        }
        assert_eq!(s.len(), 1000);
        assert_eq!(s.dropped(), 0);
        assert_eq!(texts(&s).first().map(String::as_str), Some("0"));
    }

    #[test]
    fn a_zero_limit_still_keeps_the_latest() {
        let mut s = Scrollback::new(0);
        s.push(info(1));
        s.push(info(2));
        assert_eq!(texts(&s), ["2"]);
        s.clear();
        assert!(s.is_empty());
    }
}
