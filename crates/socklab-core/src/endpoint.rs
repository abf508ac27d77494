//! Endpoints as people type them: `127.0.0.1:7788`, `tcp://[::1]:80`, `example.com:6379`,
//! and for `listen` a bare `7788` meaning every interface (the seed's `('', 7788)`).
//!
//! The other schemes of the command-line contract (`udp://`, `tls://`, `unix:`, `unixgram:`)
//! are parsed here too, so that a user who types one gets a precise answer from the
//! transport layer instead of "bad endpoint".

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use crate::error::{Error, Result};

const CONNECT_FORMS: &str =
    "HOST:PORT, [IPv6]:PORT, tcp://HOST:PORT, udp://HOST:PORT, tls://HOST:PORT, unix:PATH or unixgram:PATH";
const LISTEN_FORMS: &str =
    "PORT, HOST:PORT, [IPv6]:PORT, tcp://HOST:PORT, udp://..., tls://..., unix:PATH or unixgram:PATH";

/// Which transport an endpoint names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    Tcp,
    Udp,
    Tls,
    Unix,
    UnixGram,
}

impl Scheme {
    /// Datagram transports keep message boundaries and have no connection to close.
    pub fn is_datagram(self) -> bool {
        matches!(self, Scheme::Udp | Scheme::UnixGram)
    }

    pub fn name(self) -> &'static str {
        match self {
            Scheme::Tcp => "tcp",
            Scheme::Udp => "udp",
            Scheme::Tls => "tls",
            Scheme::Unix => "unix",
            Scheme::UnixGram => "unixgram",
        }
    }
}

/// The host part: an address, a name to resolve, or (listen only) every interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
    /// A bare `PORT` for listen: IPv4 and IPv6 on every interface.
    Any,
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
            Host::Ip(ip) => write!(f, "{ip}"),
            Host::Name(name) => f.write_str(name),
            Host::Any => f.write_str("*"),
        }
    }
}

/// A network endpoint: host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    pub host: Host,
    pub port: u16,
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// What the user asked to connect to or listen on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// tcp, udp or tls.
    Net { scheme: Scheme, addr: HostPort },
    /// unix or unixgram: a filesystem path (or `@name`, Linux abstract).
    Path { scheme: Scheme, path: String },
}

impl Endpoint {
    pub fn scheme(&self) -> Scheme {
        match self {
            Endpoint::Net { scheme, .. } | Endpoint::Path { scheme, .. } => *scheme,
        }
    }

    /// Parse an endpoint to connect to: host and a port in 1-65535 are required.
    pub fn parse_connect(input: &str) -> Result<Endpoint> {
        parse(input, false)
    }

    /// Parse an endpoint to listen on: a bare `PORT` means every interface, port 0 means
    /// "pick a free one".
    pub fn parse_listen(input: &str) -> Result<Endpoint> {
        parse(input, true)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Net {
                scheme: Scheme::Tcp,
                addr,
            } => write!(f, "{addr}"),
            Endpoint::Net { scheme, addr } => write!(f, "{}://{addr}", scheme.name()),
            Endpoint::Path { scheme, path } => write!(f, "{}:{path}", scheme.name()),
        }
    }
}

fn parse(input: &str, listen: bool) -> Result<Endpoint> {
    let expected = if listen { LISTEN_FORMS } else { CONNECT_FORMS };
    let bad = |reason: String| Error::Endpoint {
        input: input.to_string(),
        reason,
        expected,
    };
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(bad("it is empty".into()));
    }
    for (prefix, scheme) in [("unixgram:", Scheme::UnixGram), ("unix:", Scheme::Unix)] {
        if let Some(path) = trimmed.strip_prefix(prefix) {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(bad("the socket path is empty".into()));
            }
            return Ok(Endpoint::Path {
                scheme,
                path: path.to_string(),
            });
        }
    }
    let (scheme, rest) = match trimmed.split_once("://") {
        Some(("tcp", rest)) => (Scheme::Tcp, rest),
        Some(("udp", rest)) => (Scheme::Udp, rest),
        Some(("tls", rest)) | Some(("ssl", rest)) => (Scheme::Tls, rest),
        Some((other, _)) => return Err(bad(format!("unknown scheme '{other}://'"))),
        None => (Scheme::Tcp, trimmed),
    };
    let addr = parse_host_port(rest, listen).map_err(bad)?;
    Ok(Endpoint::Net { scheme, addr })
}

fn parse_host_port(s: &str, listen: bool) -> std::result::Result<HostPort, String> {
    if s.is_empty() {
        return Err("the address is empty".into());
    }
    // A bare port: every interface, like the seed's ('', 7788).
    if s.bytes().all(|b| b.is_ascii_digit()) {
        if !listen {
            return Err(format!(
                "'{s}' has no host; to connect to this machine write 127.0.0.1:{s}"
            ));
        }
        let port = parse_port(s, listen)?;
        return Ok(HostPort {
            host: Host::Any,
            port,
        });
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (ip, after) = rest
            .split_once(']')
            .ok_or_else(|| "an IPv6 address opened with '[' is not closed with ']'".to_string())?;
        let port = after
            .strip_prefix(':')
            .ok_or_else(|| format!("no port after [{ip}]"))?;
        if let Some((_, zone)) = ip.split_once('%') {
            // Dropping the zone would aim a link-local address at no interface (the kernel
            // answers EINVAL); carrying it is not built yet, so say so up front.
            return Err(format!(
                "zone ids such as '%{zone}' are not supported; expected an IPv6 address without '%' (a global or ULA address instead of a link-local one)"
            ));
        }
        let ip: Ipv6Addr = ip
            .parse()
            .map_err(|_| format!("'{ip}' is not an IPv6 address"))?;
        (Host::Ip(IpAddr::V6(ip)), port)
    } else {
        let (host, port) = s
            .rsplit_once(':')
            .ok_or_else(|| "no port; add ':PORT'".to_string())?;
        if host.contains(':') {
            return Err(format!(
                "an IPv6 address needs brackets around it, as in [{host}]:{port}"
            ));
        }
        let host = if host.is_empty() || host == "*" {
            if !listen {
                return Err("no host before ':'".into());
            }
            Host::Any
        } else if let Ok(ip) = host.parse::<IpAddr>() {
            Host::Ip(ip)
        } else {
            check_name(host)?;
            Host::Name(host.to_string())
        };
        (host, port)
    };
    let port = parse_port(port, listen)?;
    Ok(HostPort { host, port })
}

fn parse_port(s: &str, listen: bool) -> std::result::Result<u16, String> {
    let range = if listen { "0-65535" } else { "1-65535" };
    if s.is_empty() {
        return Err("the port is empty".into());
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("port '{s}' is not a number in {range}"));
    }
    match s.parse::<u32>() {
        Ok(0) if !listen => {
            Err("port 0 is only for listen (pick any free port); expected 1-65535".into())
        }
        Ok(p) if p <= 65535 => Ok(p as u16),
        _ => Err(format!("port {s} is out of range {range}")),
    }
}

fn check_name(host: &str) -> std::result::Result<(), String> {
    let ok = host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(format!("'{host}' is neither an IP address nor a host name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(input: &str) -> HostPort {
        match Endpoint::parse_connect(input) {
            Ok(Endpoint::Net { addr, .. }) => addr,
            other => panic!("{input}: {other:?}"),
        }
    }

    #[test]
    fn connect_forms() {
        assert_eq!(net("127.0.0.1:7788").to_string(), "127.0.0.1:7788");
        assert_eq!(net("tcp://[::1]:80").to_string(), "[::1]:80");
        assert_eq!(
            net("localhost:6379").host,
            Host::Name("localhost".to_string())
        );
        assert_eq!(
            Endpoint::parse_connect("udp://1.2.3.4:5")
                .map(|e| e.scheme())
                .ok(),
            Some(Scheme::Udp)
        );
        assert_eq!(
            Endpoint::parse_connect("unix:/tmp/s").ok(),
            Some(Endpoint::Path {
                scheme: Scheme::Unix,
                path: "/tmp/s".into()
            })
        );
    }

    #[test]
    fn listen_forms() {
        let any = Endpoint::parse_listen("7788").ok();
        assert_eq!(
            any,
            Some(Endpoint::Net {
                scheme: Scheme::Tcp,
                addr: HostPort {
                    host: Host::Any,
                    port: 7788
                }
            })
        );
        assert!(Endpoint::parse_listen("0").is_ok());
        assert!(Endpoint::parse_listen(":9000").is_ok());
        assert!(Endpoint::parse_listen("[::]:9000").is_ok());
    }

    fn err(input: &str, listen: bool) -> String {
        let r = if listen {
            Endpoint::parse_listen(input)
        } else {
            Endpoint::parse_connect(input)
        };
        match r {
            Err(e) => e.to_string(),
            Ok(ok) => panic!("{input} parsed as {ok:?}"),
        }
    }

    #[test]
    fn bad_endpoints_say_what_was_expected() {
        assert!(err("127.0.0.1:70000", false).contains("out of range 1-65535"));
        assert!(err("127.0.0.1:0", false).contains("only for listen"));
        assert!(err("70000", true).contains("out of range 0-65535"));
        assert!(err("127.0.0.1", false).contains("no port"));
        assert!(err("7788", false).contains("127.0.0.1:7788"));
        assert!(err("::1:80", false).contains("[::1]:80"));
        assert!(err("host:abc", false).contains("not a number"));
        assert!(err("ftp://x:1", false).contains("unknown scheme"));
        assert!(err("[::1:80", false).contains("not closed"));
        assert!(err("bad host!:80", false).contains("neither an IP address"));
        assert!(err("", false).contains("empty"));
        assert!(err("x:", false).contains("expected HOST:PORT"));
        assert!(err("[fe80::1%eth0]:80", false).contains("'%eth0' are not supported"));
        assert!(err("udp://[fe80::1%2]:80", true).contains("'%2' are not supported"));
    }
}
