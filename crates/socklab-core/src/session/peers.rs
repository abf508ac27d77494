//! A face's view of who is connected, folded from events alone. Faces keep their own copy
//! (`/list`, `/stats`, a TUI client list) instead of asking the engine, so the engine never
//! waits on a face to answer a question.

use std::collections::BTreeMap;

use super::event::{Event, EventKind, PeerId};

/// Counters for one peer, or for the whole session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub chunks_in: u64,
    pub chunks_out: u64,
}

#[derive(Debug, Clone)]
pub struct PeerStats {
    pub addr: super::event::Addr,
    pub since: jiff::Timestamp,
    pub counts: Counts,
}

/// Connected peers and totals, kept current by [`PeerTable::apply`].
#[derive(Debug, Default)]
pub struct PeerTable {
    pub peers: BTreeMap<PeerId, PeerStats>,
    pub totals: Counts,
    /// Every peer that ever connected, including the ones gone.
    pub served: u64,
    pub started: Option<jiff::Timestamp>,
}

impl PeerTable {
    pub fn apply(&mut self, ev: &Event) {
        self.started.get_or_insert(ev.time);
        match &ev.kind {
            EventKind::Connected { peer, .. } => {
                self.served += 1;
                self.peers.insert(
                    peer.id,
                    PeerStats {
                        addr: peer.addr.clone(),
                        since: ev.time,
                        counts: Counts::default(),
                    },
                );
            }
            EventKind::Received { peer, data } => {
                self.totals.bytes_in += data.len as u64;
                self.totals.chunks_in += 1;
                if let Some(p) = self.peers.get_mut(&peer.id) {
                    p.counts.bytes_in += data.len as u64;
                    p.counts.chunks_in += 1;
                }
            }
            EventKind::Sent { peer, data } => {
                self.totals.bytes_out += data.len as u64;
                self.totals.chunks_out += 1;
                if let Some(p) = self.peers.get_mut(&peer.id) {
                    p.counts.bytes_out += data.len as u64;
                    p.counts.chunks_out += 1;
                }
            }
            EventKind::Closed { peer, .. } => {
                self.peers.remove(&peer.id);
            }
            _ => {}
        }
    }
}
