//! `--server HOST[:PORT]`: which DNS server to ask instead of the system's.

use std::net::{IpAddr, Ipv6Addr};

use socklab_core::endpoint::{Host, HostPort};

use super::name::Target;
use crate::error::{Error, Result};

/// The DNS port (RFC 1035 4.2).
pub const DNS_PORT: u16 = 53;

/// `192.0.2.53`, `127.0.0.1:5353`, `::1`, `[::1]:5353`, `ns.example.test[:PORT]`; the port
/// is 53 when not given. A bare IPv6 address takes no port, since its colons would be
/// ambiguous.
pub fn parse_server(input: &str) -> Result<HostPort> {
    let bad = |reason: String| Error::DnsServer {
        input: input.to_string(),
        reason,
    };
    if input.is_empty() {
        return Err(bad("it is empty".into()));
    }
    if let Ok(ip) = input.parse::<IpAddr>() {
        return Ok(HostPort {
            host: Host::Ip(ip),
            port: DNS_PORT,
        });
    }
    let (host, port) = if let Some(rest) = input.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or_else(|| bad("'[' without a closing ']'".into()))?;
        let ip: Ipv6Addr = inside
            .parse()
            .map_err(|_| bad(format!("'{inside}' is not an IPv6 address")))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| bad(format!("'{after}' after ']'; expected ':PORT'")))?,
            ),
        };
        (Host::Ip(IpAddr::V6(ip)), port)
    } else {
        let (host, port) = match input.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (input, None),
        };
        if host.contains(':') {
            return Err(bad(
                "an IPv6 address with a port needs brackets, as in [2001:db8::53]:5353".into(),
            ));
        }
        if host.is_empty() {
            return Err(bad("no host before ':'".into()));
        }
        let host = match host.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => match Target::parse(host) {
                Ok(_) => Host::Name(host.to_string()),
                Err(Error::DnsName { reason, .. }) => {
                    return Err(bad(format!("'{host}' is not a host name: {reason}")))
                }
                Err(e) => return Err(e),
            },
        };
        (host, port)
    };
    let port = match port {
        None => DNS_PORT,
        Some(p) => parse_port(p).map_err(bad)?,
    };
    Ok(HostPort { host, port })
}

fn parse_port(p: &str) -> std::result::Result<u16, String> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{p}' is not a port number"));
    }
    match p.parse::<u32>() {
        Ok(n @ 1..=65535) => Ok(n as u16),
        _ => Err(format!("port {p} is out of range 1-65535")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        parse_server(s).unwrap().to_string()
    }

    fn reason(s: &str) -> String {
        match parse_server(s) {
            Err(Error::DnsServer { reason, .. }) => reason,
            other => panic!("{s:?} gave {other:?}"),
        }
    }

    #[test]
    fn hosts_with_and_without_ports() {
        assert_eq!(ok("192.0.2.53"), "192.0.2.53:53");
        assert_eq!(ok("127.0.0.1:5353"), "127.0.0.1:5353");
        assert_eq!(ok("::1"), "[::1]:53");
        assert_eq!(ok("[::1]"), "[::1]:53");
        assert_eq!(ok("[2001:db8::53]:5300"), "[2001:db8::53]:5300");
        assert_eq!(ok("ns.example.test"), "ns.example.test:53");
        assert_eq!(ok("localhost:5353"), "localhost:5353");
    }

    #[test]
    fn bad_servers_say_why() {
        assert!(reason("").contains("empty"));
        assert!(reason("127.0.0.1:70000").contains("port 70000 is out of range 1-65535"));
        assert!(reason("127.0.0.1:0").contains("port 0 is out of range"));
        assert!(reason("127.0.0.1:dns").contains("'dns' is not a port number"));
        assert!(reason("127.0.0.1:").contains("'' is not a port number"));
        assert!(reason(":53").contains("no host"));
        assert!(reason("2001:db8::53:5353x").contains("brackets"));
        assert!(reason("[::1").contains("closing ']'"));
        assert!(reason("[1.2.3.4]:53").contains("not an IPv6 address"));
        assert!(reason("[::1]5353").contains("expected ':PORT'"));
        assert!(reason("bad host:53").contains("not a host name"));
        assert!(reason("udp://1.1.1.1").contains("is not a port number"));
    }
}
