//! The system's resolvers, read from resolv.conf(5) the way glibc reads it.
//!
//! Parsed by hand rather than through hickory-resolver's `system-config`: socklab needs two
//! things from the file (the `nameserver` lines and `options timeout:`), and hickory-resolver
//! would bring its whole caching resolver along for them.

use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};

/// Where every resolver on a Unix system looks.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

/// glibc's MAXNS: further `nameserver` lines are ignored by every program on the machine,
/// so asking them would not show what the system does.
pub const MAX_NAMESERVERS: usize = 3;

/// glibc caps `options timeout:` at 30 seconds (RES_MAXRETRANS).
const MAX_TIMEOUT_SECS: u64 = 30;

/// What socklab takes from resolv.conf.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvConf {
    /// In the file's order, port 53, at most [`MAX_NAMESERVERS`].
    pub nameservers: Vec<SocketAddr>,
    /// `options timeout:N`, the time to wait for each server.
    pub timeout: Option<Duration>,
}

impl ResolvConf {
    pub fn read(path: &Path) -> Result<ResolvConf> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::DnsResolvConf {
            path: path.display().to_string(),
            source,
        })?;
        Ok(ResolvConf::parse(&text))
    }

    /// Like the C library, skips what it does not understand rather than failing: a bad
    /// line in resolv.conf is not the user's typing.
    pub fn parse(text: &str) -> ResolvConf {
        let mut conf = ResolvConf::default();
        for line in text.lines() {
            let line = line.trim_start();
            if line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => {
                    if let Some(addr) = words.next().and_then(nameserver) {
                        if conf.nameservers.len() < MAX_NAMESERVERS {
                            conf.nameservers.push(addr);
                        }
                    }
                }
                Some("options") => {
                    for option in words {
                        if let Some(secs) = option.strip_prefix("timeout:") {
                            if let Ok(secs) = secs.parse::<u64>() {
                                // glibc treats 0 as 1.
                                let secs = secs.clamp(1, MAX_TIMEOUT_SECS);
                                conf.timeout = Some(Duration::from_secs(secs));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        conf
    }
}

/// `192.0.2.53`, `2001:db8::53`, or a link-local `fe80::1%eth0` whose zone is an interface
/// name or index.
fn nameserver(word: &str) -> Option<SocketAddr> {
    if let Some((ip, zone)) = word.split_once('%') {
        let ip: Ipv6Addr = ip.parse().ok()?;
        let scope = zone.parse::<u32>().ok().or_else(|| if_index(zone))?;
        return Some(SocketAddr::V6(SocketAddrV6::new(ip, 53, 0, scope)));
    }
    let ip: IpAddr = word.parse().ok()?;
    Some(SocketAddr::new(ip, 53))
}

/// The index of an interface by name, as if_nametoindex(3) gives it, from sysfs (Linux).
fn if_index(name: &str) -> Option<u32> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return None;
    }
    let text = std::fs::read_to_string(Path::new("/sys/class/net").join(name).join("ifindex"));
    text.ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nameservers_and_timeout() {
        let conf = ResolvConf::parse(
            "# generated\n\
             search example.test\n\
             nameserver 192.0.2.53\n\
             ; a comment\n\
             nameserver 2001:db8::53   # trailing words are ignored\n\
             nameserver not-an-address\n\
             options ndots:2 timeout:3 attempts:2\n",
        );
        assert_eq!(
            conf.nameservers,
            vec![
                "192.0.2.53:53".parse::<SocketAddr>().unwrap(),
                "[2001:db8::53]:53".parse().unwrap()
            ]
        );
        assert_eq!(conf.timeout, Some(Duration::from_secs(3)));
    }

    #[test]
    fn at_most_three_servers_as_glibc() {
        let text: String = (1..=5)
            .map(|i| format!("nameserver 192.0.2.{i}\n"))
            .collect();
        let conf = ResolvConf::parse(&text);
        assert_eq!(conf.nameservers.len(), 3);
        assert_eq!(conf.nameservers[2], "192.0.2.3:53".parse().unwrap());
    }

    #[test]
    fn timeouts_are_clamped_like_glibc() {
        let conf = ResolvConf::parse("options timeout:0\n");
        assert_eq!(conf.timeout, Some(Duration::from_secs(1)));
        let conf = ResolvConf::parse("options timeout:99\n");
        assert_eq!(conf.timeout, Some(Duration::from_secs(30)));
        assert_eq!(ResolvConf::parse("").timeout, None);
    }

    #[test]
    fn link_local_servers_keep_their_zone() {
        let conf = ResolvConf::parse("nameserver fe80::1%2\nnameserver fe80::2%lo\n");
        match conf.nameservers[0] {
            SocketAddr::V6(v6) => assert_eq!(v6.scope_id(), 2),
            other => panic!("{other}"),
        }
        // The loopback interface exists on every Linux machine; its index comes from sysfs.
        let lo = if_index("lo").expect("the loopback interface has an index");
        match conf.nameservers[1] {
            SocketAddr::V6(v6) => assert_eq!(v6.scope_id(), lo),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn reads_a_file() {
        let dir = std::env::temp_dir().join(format!("socklab-resolv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("resolv.conf");
        std::fs::write(&path, "nameserver 127.0.0.53\noptions edns0 trust-ad\n").unwrap();
        let conf = ResolvConf::read(&path).unwrap();
        assert_eq!(conf.nameservers, vec!["127.0.0.53:53".parse().unwrap()]);
        std::fs::remove_dir_all(&dir).unwrap();
        let missing = ResolvConf::read(&path).unwrap_err();
        assert!(missing.to_string().contains("resolv.conf"), "{missing}");
        assert!(!missing.is_usage());
    }
}
