//! The host a toolbox command talks to, as people type it: `example.com`, `127.0.0.1:80`,
//! `::1`, `[::1]:7788`. `ping` takes an optional port, `scan` none (its ports come
//! separately), and both resolve a name once, up front, so they can say which address
//! they measure.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv6Addr};

use socklab_core::endpoint::{Host, HostPort};

use crate::error::{Error, Result};

const WITH_PORT: &str = "HOST, HOST:PORT, an IPv6 address or [IPv6]:PORT";
const HOST_ONLY: &str = "HOST, an IP address or [IPv6]";

/// A host and, for a TCP ping, a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host as typed, without brackets.
    pub host: String,
    /// Set when the host is an address rather than a name.
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
}

impl Target {
    /// `HOST` or `HOST:PORT`; the port, when given, is 1-65535.
    pub fn parse(input: &str) -> Result<Target> {
        parse(input, WITH_PORT)
    }

    /// A host without a port (`scan` takes its ports as a separate argument).
    pub fn parse_host(input: &str) -> Result<Target> {
        let target = parse(input, HOST_ONLY)?;
        if let Some(port) = target.port {
            return Err(Error::Target {
                input: input.to_string(),
                reason: format!(
                    "the ports go in their own argument, as in: socklab scan {} {port}",
                    target.host_display()
                ),
                expected: HOST_ONLY,
            });
        }
        Ok(target)
    }

    /// The host as people write it in an address: IPv6 in brackets.
    pub fn host_display(&self) -> String {
        match self.ip {
            Some(IpAddr::V6(ip)) => format!("[{ip}]"),
            _ => self.host.clone(),
        }
    }

    /// The one address to talk to: the address itself, or the first answer of the system
    /// resolver (getaddrinfo, so /etc/hosts applies), as ping and tcping do.
    pub async fn resolve(&self) -> Result<IpAddr> {
        if let Some(ip) = self.ip {
            return Ok(ip);
        }
        let found = socklab_core::transport::tcp::resolve(&HostPort {
            host: Host::Name(self.host.clone()),
            port: self.port.unwrap_or(0),
        })
        .await?;
        // resolve() never returns an empty list (that is its "no addresses" error), but a
        // user's input must not be able to panic us, so say so rather than index.
        found.first().map(|a| a.ip()).ok_or_else(|| {
            Error::Core(socklab_core::Error::Resolve {
                host: self.host.clone(),
                reason: "the name has no addresses".into(),
            })
        })
    }
}

/// `host:port` (IPv6 in brackets), or the bare host when there is no port.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host_display()),
            None => f.write_str(&self.host),
        }
    }
}

fn parse(input: &str, expected: &'static str) -> Result<Target> {
    let bad = |reason: String| Error::Target {
        input: input.to_string(),
        reason,
        expected,
    };
    let s = input.trim();
    if s.is_empty() {
        return Err(bad("it is empty".into()));
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or_else(|| bad("an IPv6 address opened with '[' is not closed with ']'".into()))?;
        let ip: Ipv6Addr = inside
            .parse()
            .map_err(|_| bad(format!("'{inside}' is not an IPv6 address")))?;
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(p) => Some(parse_port(p).map_err(bad)?),
                None => return Err(bad(format!("unexpected '{after}' after ']'"))),
            },
        };
        return Ok(Target {
            host: ip.to_string(),
            ip: Some(IpAddr::V6(ip)),
            port,
        });
    }
    match s.matches(':').count() {
        0 => host_only(s).map_err(bad),
        1 => {
            // One colon: HOST:PORT (an IPv6 address has at least two).
            let (host, port) = s.split_once(':').unwrap_or((s, ""));
            if host.is_empty() {
                return Err(bad("there is no host before ':'".into()));
            }
            let mut target = host_only(host).map_err(bad)?;
            target.port = Some(parse_port(port).map_err(bad)?);
            Ok(target)
        }
        _ => match s.parse::<Ipv6Addr>() {
            Ok(ip) => Ok(Target {
                host: ip.to_string(),
                ip: Some(IpAddr::V6(ip)),
                port: None,
            }),
            Err(_) => Err(bad(
                "it has more than one ':' but is not an IPv6 address (an IPv6 address with a port is written [::1]:80)"
                    .into(),
            )),
        },
    }
}

fn host_only(host: &str) -> std::result::Result<Target, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(Target {
            host: ip.to_string(),
            ip: Some(ip),
            port: None,
        });
    }
    let name_like = host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if !name_like {
        return Err(format!("'{host}' is neither an IP address nor a host name"));
    }
    Ok(Target {
        host: host.to_string(),
        ip: None,
        port: None,
    })
}

fn parse_port(s: &str) -> std::result::Result<u16, String> {
    if s.is_empty() {
        return Err("the port after ':' is empty".into());
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("port '{s}' is not a number in 1-65535"));
    }
    match s.parse::<u32>() {
        Ok(0) => Err("port 0 cannot be connected to; expected 1-65535".into()),
        Ok(p) if p <= 65535 => Ok(p as u16),
        _ => Err(format!("port {s} is out of range 1-65535")),
    }
}

/// An I/O error in the words ping and scan print after an address: "refused", "host
/// unreachable" rather than "Connection refused (os error 111)".
pub fn io_words(e: &io::Error) -> String {
    use io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "refused".into(),
        K::ConnectionReset => "reset".into(),
        K::HostUnreachable => "host unreachable".into(),
        K::NetworkUnreachable => "network unreachable".into(),
        K::NetworkDown => "network down".into(),
        K::AddrNotAvailable => "no local address can reach it".into(),
        K::TimedOut => "timed out".into(),
        K::PermissionDenied => "not permitted (a firewall rule?)".into(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(i) => text[..i].to_lowercase(),
                None => text,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> Target {
        Target::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"))
    }

    fn err(input: &str) -> String {
        match Target::parse(input) {
            Err(e) => {
                assert!(e.is_usage(), "{input}: {e}");
                e.to_string()
            }
            Ok(t) => panic!("{input} parsed as {t:?}"),
        }
    }

    #[test]
    fn hosts_with_and_without_ports() {
        assert_eq!(ok("127.0.0.1:7788").port, Some(7788));
        assert_eq!(ok("127.0.0.1").port, None);
        assert_eq!(ok("localhost:80").ip, None);
        assert_eq!(ok("localhost").host, "localhost");
        let v6 = ok("[::1]:7788");
        assert_eq!(v6.ip, Some("::1".parse().unwrap()));
        assert_eq!(v6.port, Some(7788));
        assert_eq!(v6.to_string(), "[::1]:7788");
        assert_eq!(ok("::1").port, None);
        assert_eq!(ok("[::1]").port, None);
        assert_eq!(ok("fe80::1").to_string(), "fe80::1");
        assert_eq!(ok("[::1]").to_string(), "::1");
    }

    #[test]
    fn malformed_targets_say_what_was_wrong() {
        assert!(err("host:80:junk").contains("more than one ':'"));
        assert!(err("host:70000").contains("out of range 1-65535"));
        assert!(err("host:0").contains("port 0"));
        assert!(err("host:").contains("empty"));
        assert!(err(":80").contains("no host"));
        assert!(err("host:http").contains("not a number"));
        assert!(err("[::1").contains("not closed"));
        assert!(err("[::1]80").contains("after ']'"));
        assert!(err("[1.2.3.4]:80").contains("not an IPv6 address"));
        assert!(err("a b").contains("neither"));
        assert!(err("").contains("empty"));
    }

    #[test]
    fn scan_hosts_refuse_a_port() {
        let e = Target::parse_host("127.0.0.1:80").unwrap_err().to_string();
        assert!(e.contains("socklab scan 127.0.0.1 80"), "{e}");
        assert!(Target::parse_host("::1").is_ok());
    }

    #[test]
    fn io_errors_in_plain_words() {
        let e = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(io_words(&e), "refused");
        let e = io::Error::from_raw_os_error(113); // EHOSTUNREACH
        assert_eq!(io_words(&e), "host unreachable");
    }
}
