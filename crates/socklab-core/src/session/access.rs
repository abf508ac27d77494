//! Who may talk to a server: `--allow` and `--deny` ranges, decided the way ncat decides
//! them. A denied address never gets in; when any allow range is given, only addresses in
//! one get in; with no ranges at all, everyone does.
//!
//! Deny wins over allow so that "everyone in the lab but the printer" reads as it is meant:
//! `--allow 10.0.0.0/24 --deny 10.0.0.9`. The order of the flags does not matter, unlike
//! firewall rule lists, because nobody should have to think about it at a debugging console.

use std::fmt::Write;
use std::net::IpAddr;

use crate::addr::Addr;
use crate::cidr::IpNet;

/// The ranges a server lets in or keeps out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessPolicy {
    pub allow: Vec<IpNet>,
    pub deny: Vec<IpNet>,
}

/// How many ranges a refusal lists before "…": a reason is one log line.
const LISTED: usize = 4;

impl AccessPolicy {
    pub fn new(allow: Vec<IpNet>, deny: Vec<IpNet>) -> AccessPolicy {
        AccessPolicy { allow, deny }
    }

    /// No ranges: everyone gets in and nothing needs checking.
    pub fn is_open(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }

    /// `None` when `ip` may come in; otherwise why not, in words for the log.
    ///
    /// A dual-stack socket reports IPv4 peers as `::ffff:a.b.c.d`; they are checked as the
    /// IPv4 address they are, so IPv4 ranges apply to them.
    pub fn refusal(&self, ip: IpAddr) -> Option<String> {
        if self.is_open() {
            return None;
        }
        let ip = ip.to_canonical();
        if let Some(net) = self.deny.iter().find(|n| n.contains(&ip)) {
            return Some(format!("{ip} is denied by --deny {net}"));
        }
        if self.allow.is_empty() || self.allow.iter().any(|n| n.contains(&ip)) {
            return None;
        }
        let mut ranges = String::new();
        for (i, net) in self.allow.iter().take(LISTED).enumerate() {
            if i > 0 {
                ranges.push_str(", ");
            }
            let _ = write!(ranges, "{net}");
        }
        if self.allow.len() > LISTED {
            let _ = write!(ranges, ", … {} more", self.allow.len() - LISTED);
        }
        Some(format!("{ip} is not in any --allow range ({ranges})"))
    }

    /// As [`AccessPolicy::refusal`], for a peer's address. Unix sockets have no IP to
    /// check; a face refuses ranges for them up front, so here they pass.
    pub fn refusal_of(&self, addr: &Addr) -> Option<String> {
        addr.ip().and_then(|a| self.refusal(a.ip()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cidr::parse_cidr;

    fn policy(allow: &[&str], deny: &[&str]) -> AccessPolicy {
        let nets = |v: &[&str]| v.iter().map(|t| parse_cidr(t).expect("range")).collect();
        AccessPolicy::new(nets(allow), nets(deny))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn open_lets_everyone_in() {
        let p = policy(&[], &[]);
        assert!(p.is_open());
        assert_eq!(p.refusal(ip("203.0.113.9")), None);
    }

    #[test]
    fn allow_only_lets_those_in() {
        let p = policy(&["127.0.0.1", "::1"], &[]);
        assert_eq!(p.refusal(ip("127.0.0.1")), None);
        assert_eq!(p.refusal(ip("::1")), None);
        assert_eq!(
            p.refusal(ip("127.0.0.2")).as_deref(),
            Some("127.0.0.2 is not in any --allow range (127.0.0.1/32, ::1/128)")
        );
    }

    #[test]
    fn deny_wins_over_allow() {
        let p = policy(&["127.0.0.0/8"], &["127.0.0.3"]);
        assert_eq!(p.refusal(ip("127.0.0.2")), None);
        assert_eq!(
            p.refusal(ip("127.0.0.3")).as_deref(),
            Some("127.0.0.3 is denied by --deny 127.0.0.3/32")
        );
    }

    #[test]
    fn deny_only_lets_the_rest_in() {
        let p = policy(&[], &["10.0.0.0/8"]);
        assert_eq!(p.refusal(ip("192.168.1.1")), None);
        assert!(p.refusal(ip("10.9.9.9")).is_some());
    }

    #[test]
    fn mapped_peers_match_ipv4_ranges() {
        let p = policy(&["127.0.0.2"], &["127.0.0.3"]);
        assert_eq!(p.refusal(ip("::ffff:127.0.0.2")), None);
        assert_eq!(
            p.refusal(ip("::ffff:127.0.0.3")).as_deref(),
            Some("127.0.0.3 is denied by --deny 127.0.0.3/32")
        );
        // An IPv4 range says nothing about IPv6 peers, and the other way round.
        assert!(p.refusal(ip("::1")).is_some());
        let v6 = policy(&["::/0"], &[]);
        assert!(v6.refusal(ip("127.0.0.1")).is_some());
    }

    #[test]
    fn long_allow_lists_are_cut_in_the_reason() {
        let p = policy(
            &["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"],
            &[],
        );
        let why = p.refusal(ip("10.0.0.9")).expect("refused");
        assert!(why.ends_with("10.0.0.4/32, … 1 more)"), "{why}");
    }

    #[test]
    fn unix_peers_have_nothing_to_check() {
        let p = policy(&["127.0.0.1"], &[]);
        assert_eq!(p.refusal_of(&Addr::unnamed()), None);
        let a = Addr::canonical("127.0.0.5:9".parse().expect("addr"));
        assert!(p.refusal_of(&a).is_some());
    }
}
