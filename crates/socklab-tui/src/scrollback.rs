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
/// What the kept entries may weigh at most (bytes and their text), whatever their number:
/// one entry is one read, and a fast peer's reads are up to half a megabyte each, so a
/// limit in entries alone would let 100k of them take gigabytes.
pub const BYTE_BUDGET: usize = 64 << 20;

/// A bounded history: pushing past the limit, or past the byte budget, drops the oldest
/// entries (the newest one is always kept).
#[derive(Debug, Clone)]
pub struct Scrollback {
    entries: VecDeque<Entry>,
    limit: usize,
    /// Entries dropped off the front since the start, so a paused view can stay put.
    dropped: u64,
    weight: usize,
    budget: usize,
}

impl Entry {
    /// Roughly what the entry holds in memory.
    fn weight(&self) -> usize {
        64 + match &self.kind {
            EntryKind::Data { bytes, text, .. } => bytes.len() + text.len(),
            EntryKind::Info(s) | EntryKind::Error(s) => s.len(),
        }
    }
}

impl Scrollback {
    /// A limit of 0 is taken as 1: the latest entry is always shown.
    pub fn new(limit: usize) -> Scrollback {
        Scrollback::with_budget(limit, BYTE_BUDGET)
    }

    pub fn with_budget(limit: usize, budget: usize) -> Scrollback {
        Scrollback {
            entries: VecDeque::new(),
            limit: limit.max(1),
            dropped: 0,
            weight: 0,
            budget,
        }
    }

    pub fn push(&mut self, entry: Entry) {
        self.weight += entry.weight();
        self.entries.push_back(entry);
        while self.entries.len() > 1
            && (self.entries.len() > self.limit || self.weight > self.budget)
        {
            if let Some(old) = self.entries.pop_front() {
                self.weight -= old.weight();
                self.dropped += 1;
            }
        }
    }

    /// What the kept entries weigh, for the budget.
    pub fn weight(&self) -> usize {
        self.weight
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

    /// Cleared entries count as dropped, so entry numbers are never reused.
    pub fn clear(&mut self) {
        self.dropped += self.entries.len() as u64;
        self.entries.clear();
        self.weight = 0;
    }

    /// The number of the entry at `index` (0 the oldest kept): it stays the same while
    /// older entries are dropped.
    pub fn number(&self, index: usize) -> u64 {
        self.dropped + index as u64
    }

    /// The index of entry `number`, if it is still kept.
    pub fn index_of(&self, number: u64) -> Option<usize> {
        let i = usize::try_from(number.checked_sub(self.dropped)?).ok()?;
        (i < self.entries.len()).then_some(i)
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
    fn big_entries_are_held_to_the_byte_budget() {
        let mut s = Scrollback::with_budget(1000, 10_000);
        let data = |n: usize| Entry {
            time: jiff::Timestamp::UNIX_EPOCH,
            kind: EntryKind::Data {
                dir: Direction::Received,
                peer: 1,
                bytes: Bytes::from(vec![b'x'; n]),
                text: "x".repeat(n),
            },
        };
        for _ in 0..100 {
            s.push(data(1000));
            assert!(s.weight() <= 10_000, "{}", s.weight());
        }
        assert_eq!(s.len(), 4, "2064 each: four fit in 10000");
        // One entry bigger than the whole budget is still shown, alone.
        s.push(data(50_000));
        assert_eq!(s.len(), 1);
        s.clear();
        assert_eq!(s.weight(), 0);
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

    #[test]
    fn entry_numbers_survive_drops_and_clears() {
        let mut s = Scrollback::new(3);
        for n in 0..5 {
            s.push(info(n));
        }
        assert_eq!(s.number(0), 2);
        assert_eq!(s.index_of(4), Some(2));
        assert_eq!(s.index_of(1), None, "dropped");
        assert_eq!(s.index_of(5), None, "not yet");
        s.clear();
        s.push(info(9));
        assert_eq!(s.number(0), 5, "a number is never reused");
    }
}
