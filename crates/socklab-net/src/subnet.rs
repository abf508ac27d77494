//! `socklab subnet`: the seed's lesson on IP addresses and masks, as a calculator.
//!
//! The tutorial explains that two hosts can talk directly only when their addresses share
//! the network part, and that the mask says which bits that is (its 192.168.1.1 and
//! 192.168.1.2 example). So besides the usual figures (network, broadcast, host range) the
//! report answers "are these addresses in the same network?" for any extra addresses given.
//!
//! /31 and /32 follow RFC 3021 and common practice: a /31 is a point-to-point link whose two
//! addresses are both hosts and that has no broadcast address; a /32 is one host.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Serialize;

use crate::error::{Error, Result};

/// What the calculator was asked: a network, and addresses to test against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The address as given (it need not be the network address).
    pub address: IpAddr,
    pub prefix: u8,
    pub others: Vec<IpAddr>,
}

/// Reads the command's arguments: `CIDR [IP...]`, `IP/MASK [IP...]` or `IP MASK [IP...]`.
///
/// In the third form the second argument is a mask only because the first has no prefix;
/// with a prefix, every argument after the first is an address to test.
pub fn parse_args<S: AsRef<str>>(args: &[S]) -> Result<Query> {
    let Some(first) = args.first().map(AsRef::as_ref) else {
        return Err(Error::Subnet {
            input: String::new(),
            reason: "nothing given".into(),
        });
    };
    let (address, prefix, rest) = match first.split_once('/') {
        Some((ip, mask)) => {
            let address = parse_ip(ip, first)?;
            (address, parse_mask(mask, address, first)?, &args[1..])
        }
        None => {
            let address = parse_ip(first, first)?;
            let Some(mask) = args.get(1).map(AsRef::as_ref) else {
                return Err(Error::Subnet {
                    input: first.into(),
                    reason: "no prefix length or mask".into(),
                });
            };
            (address, parse_mask(mask, address, mask)?, &args[2..])
        }
    };
    let others = rest
        .iter()
        .map(|a| {
            let a = a.as_ref();
            a.trim().parse::<IpAddr>().map_err(|_| Error::Address {
                input: a.into(),
                expected: "an IPv4 or IPv6 address to test, such as 192.168.1.2 or fe80::1",
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Query {
        address,
        prefix,
        others,
    })
}

fn parse_ip(text: &str, whole: &str) -> Result<IpAddr> {
    text.trim().parse::<IpAddr>().map_err(|_| Error::Subnet {
        input: whole.into(),
        reason: format!("'{text}' is not an IPv4 or IPv6 address"),
    })
}

/// A prefix length (`24`) or a mask (`255.255.255.0`): the parser `listen --allow` uses
/// too, so both take the same forms and refuse bad ones in the same words.
fn parse_mask(text: &str, address: IpAddr, whole: &str) -> Result<u8> {
    socklab_core::cidr::parse_prefix(text, address).map_err(|reason| Error::Subnet {
        input: whole.into(),
        reason,
    })
}

/// Everything the calculator says about one network. Addresses are strings so that the
/// JSON reads as a person writes them; the address count is a string because a /0 of IPv6
/// has 2^128 addresses, one more than any integer type holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `ipv4` or `ipv6`.
    pub version: &'static str,
    /// The address as given.
    pub address: String,
    /// `network/prefix`.
    pub cidr: String,
    pub network: String,
    pub prefix: u8,
    pub netmask: String,
    /// The inverted mask (Cisco ACLs use it); IPv4 only.
    pub wildcard: Option<String>,
    /// None for IPv6 (which has none) and for /31 and /32.
    pub broadcast: Option<String>,
    pub first_host: String,
    pub last_host: String,
    /// Usable host addresses: all addresses less network and broadcast for IPv4 up to /30.
    pub hosts: String,
    /// Every address in the network.
    pub addresses: String,
    /// The historic class of an IPv4 address (A to E); None for IPv6.
    pub class: Option<char>,
    /// What the network is: private, loopback, link-local, multicast ... (may be empty).
    pub kinds: Vec<&'static str>,
    /// The answers for the extra addresses, in the order given.
    pub checks: Vec<Check>,
}

/// Is an address in the network?
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub address: String,
    pub same_network: bool,
    /// Why not, when it is not (another network, or another IP version).
    pub note: Option<String>,
}

/// Computes the report. Never fails: the query was validated by [`parse_args`].
pub fn calculate(query: &Query) -> Report {
    let net = match query.address {
        IpAddr::V4(a) => IpNet::V4(Ipv4Net::new_assert(a, query.prefix.min(32))),
        IpAddr::V6(a) => IpNet::V6(Ipv6Net::new_assert(a, query.prefix.min(128))),
    };
    let mut report = match net {
        IpNet::V4(n) => v4(query.address, n),
        IpNet::V6(n) => v6(query.address, n),
    };
    report.checks = query.others.iter().map(|ip| check(&net, *ip)).collect();
    report
}

fn v4(address: IpAddr, net: Ipv4Net) -> Report {
    let network = net.network();
    let size = 1u64 << (32 - u32::from(net.prefix_len()));
    let last = net.broadcast();
    let (first_host, last_host, hosts, broadcast) = match net.prefix_len() {
        32 => (network, network, 1, None),
        31 => (network, last, 2, None),
        _ => (
            Ipv4Addr::from(u32::from(network) + 1),
            Ipv4Addr::from(u32::from(last) - 1),
            size - 2,
            Some(last.to_string()),
        ),
    };
    Report {
        version: "ipv4",
        address: address.to_string(),
        cidr: net.trunc().to_string(),
        network: network.to_string(),
        prefix: net.prefix_len(),
        netmask: net.netmask().to_string(),
        wildcard: Some(net.hostmask().to_string()),
        broadcast,
        first_host: first_host.to_string(),
        last_host: last_host.to_string(),
        hosts: hosts.to_string(),
        addresses: size.to_string(),
        class: Some(class(network)),
        kinds: kinds_v4(&net),
        checks: Vec::new(),
    }
}

fn v6(address: IpAddr, net: Ipv6Net) -> Report {
    let addresses = match net.prefix_len() {
        0 => "340282366920938463463374607431768211456".to_string(),
        p => (1u128 << (128 - u32::from(p))).to_string(),
    };
    Report {
        version: "ipv6",
        address: address.to_string(),
        cidr: net.trunc().to_string(),
        network: net.network().to_string(),
        prefix: net.prefix_len(),
        netmask: net.netmask().to_string(),
        wildcard: None,
        broadcast: None,
        first_host: net.network().to_string(),
        last_host: net.broadcast().to_string(),
        hosts: addresses.clone(),
        addresses,
        class: None,
        kinds: kinds_v6(&net),
        checks: Vec::new(),
    }
}

/// Classful addressing (RFC 791), long replaced by CIDR but still what tutorials teach.
fn class(a: Ipv4Addr) -> char {
    match a.octets()[0] {
        0..=127 => 'A',
        128..=191 => 'B',
        192..=223 => 'C',
        224..=239 => 'D',
        _ => 'E',
    }
}

/// The special ranges a network lies wholly inside of.
fn kinds_v4(net: &Ipv4Net) -> Vec<&'static str> {
    const RANGES: &[(&str, [u8; 4], u8)] = &[
        ("private", [10, 0, 0, 0], 8),
        ("private", [172, 16, 0, 0], 12),
        ("private", [192, 168, 0, 0], 16),
        ("loopback", [127, 0, 0, 0], 8),
        ("link-local", [169, 254, 0, 0], 16),
        ("multicast", [224, 0, 0, 0], 4),
        ("shared (carrier-grade NAT)", [100, 64, 0, 0], 10),
        ("documentation", [192, 0, 2, 0], 24),
        ("documentation", [198, 51, 100, 0], 24),
        ("documentation", [203, 0, 113, 0], 24),
        ("benchmarking", [198, 18, 0, 0], 15),
        ("this network", [0, 0, 0, 0], 8),
        ("reserved", [240, 0, 0, 0], 4),
    ];
    let mut kinds = Vec::new();
    for (name, addr, prefix) in RANGES {
        let range = Ipv4Net::new_assert(Ipv4Addr::from(*addr), *prefix);
        if range.contains(net) && !kinds.contains(name) {
            kinds.push(*name);
        }
    }
    if kinds.is_empty() && net.prefix_len() >= 4 {
        kinds.push("public");
    }
    kinds
}

fn kinds_v6(net: &Ipv6Net) -> Vec<&'static str> {
    const RANGES: &[(&str, Ipv6Addr, u8)] = &[
        ("loopback", Ipv6Addr::LOCALHOST, 128),
        ("unspecified", Ipv6Addr::UNSPECIFIED, 128),
        (
            "unique local (private)",
            Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
            7,
        ),
        ("link-local", Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),
        ("multicast", Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),
        (
            "documentation",
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
            32,
        ),
        (
            "IPv4-mapped",
            Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0),
            96,
        ),
        (
            "global unicast",
            Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0),
            3,
        ),
    ];
    let mut kinds = Vec::new();
    for (name, addr, prefix) in RANGES {
        let range = Ipv6Net::new_assert(*addr, *prefix);
        if range.contains(net) {
            kinds.push(*name);
        }
    }
    // Documentation addresses are in 2000::/3 too; say only the more telling name.
    if kinds.contains(&"documentation") {
        kinds.retain(|k| *k != "global unicast");
    }
    kinds
}

fn check(net: &IpNet, ip: IpAddr) -> Check {
    let (same_network, note) = match (net, ip) {
        (IpNet::V4(n), IpAddr::V4(a)) if n.contains(&a) => (true, None),
        (IpNet::V6(n), IpAddr::V6(a)) if n.contains(&a) => (true, None),
        (IpNet::V4(n), IpAddr::V4(a)) => {
            let theirs = Ipv4Net::new_assert(a, n.prefix_len()).trunc();
            (false, Some(format!("in {theirs}")))
        }
        (IpNet::V6(n), IpAddr::V6(a)) => {
            let theirs = Ipv6Net::new_assert(a, n.prefix_len()).trunc();
            (false, Some(format!("in {theirs}")))
        }
        (IpNet::V4(_), IpAddr::V6(_)) => (false, Some("an IPv6 address".into())),
        (IpNet::V6(_), IpAddr::V4(_)) => (false, Some("an IPv4 address".into())),
    };
    Check {
        address: ip.to_string(),
        same_network,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(args: &[&str]) -> Report {
        calculate(&parse_args(args).expect("valid"))
    }

    #[test]
    fn the_seeds_example_two_hosts_one_network() {
        let r = report(&["192.168.1.1", "255.255.255.0", "192.168.1.2", "192.168.2.1"]);
        assert_eq!(r.cidr, "192.168.1.0/24");
        assert_eq!(r.broadcast.as_deref(), Some("192.168.1.255"));
        assert_eq!(r.hosts, "254");
        assert_eq!(r.class, Some('C'));
        assert_eq!(r.kinds, ["private"]);
        assert!(r.checks[0].same_network);
        assert!(!r.checks[1].same_network);
        assert_eq!(r.checks[1].note.as_deref(), Some("in 192.168.2.0/24"));
    }

    #[test]
    fn three_forms_agree() {
        let a = report(&["10.1.2.3/255.255.0.0"]);
        let b = report(&["10.1.2.3/16"]);
        let c = report(&["10.1.2.3", "255.255.0.0"]);
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a.wildcard.as_deref(), Some("0.0.255.255"));
    }

    #[test]
    fn point_to_point_and_single_host() {
        let r = report(&["10.0.0.1/31"]);
        assert_eq!(
            (r.first_host.as_str(), r.last_host.as_str()),
            ("10.0.0.0", "10.0.0.1")
        );
        assert_eq!((r.hosts.as_str(), r.broadcast), ("2", None));
        let r = report(&["10.0.0.1/32"]);
        assert_eq!((r.first_host.as_str(), r.hosts.as_str()), ("10.0.0.1", "1"));
        let r = report(&["0.0.0.0/0"]);
        assert_eq!(r.addresses, "4294967296");
    }

    #[test]
    fn ipv6_counts_do_not_overflow() {
        assert_eq!(
            report(&["::/0"]).addresses,
            "340282366920938463463374607431768211456"
        );
        let r = report(&["2001:db8::1/64", "2001:db8::ffff", "10.0.0.1"]);
        assert_eq!(r.network, "2001:db8::");
        assert_eq!(r.last_host, "2001:db8::ffff:ffff:ffff:ffff");
        assert_eq!(r.addresses, "18446744073709551616");
        assert_eq!(r.kinds, ["documentation"]);
        assert!(r.checks[0].same_network);
        assert_eq!(r.checks[1].note.as_deref(), Some("an IPv4 address"));
    }

    #[test]
    fn bad_input_says_what_was_wrong() {
        for (args, needle) in [
            (&["255.0.255.0"][..], "no prefix length or mask"),
            (&["10.0.0.1", "255.0.255.0"], "not contiguous"),
            (&["10.0.0.1/255.0.255.0"], "not contiguous"),
            (&["10.0.0.1/33"], "more than 32"),
            (&["::1/129"], "more than 128"),
            (&["10.0.0.256/8"], "not an IPv4 or IPv6 address"),
            (&["10.0.0.1/8", "bogus"], "'bogus'"),
            (&["10.0.0.1/ffff::"], "neither a prefix length"),
            (&["10.0.0.1/-1"], "neither a prefix length"),
        ] {
            let err = parse_args(args).expect_err("bad input");
            assert!(err.is_usage(), "{err}");
            assert!(err.to_string().contains(needle), "{args:?}: {err}");
        }
    }
}
