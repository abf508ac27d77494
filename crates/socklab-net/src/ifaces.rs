//! `socklab ifaces`: what ipconfig and `ip addr` tell, in the tutorial's terms.
//!
//! The report answers the questions a person setting up a device asks: which addresses does
//! this machine have (to tell the device), what is each network's mask (in both the /24 and
//! the 255.255.255.0 form, since devices' setup pages want the dotted one), and where is
//! the default gateway. netdev reads it all from the kernel (netlink on Linux); finding the
//! default interface makes it connect a UDP socket, which sends nothing.

use std::net::{IpAddr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};
use serde::Serialize;

/// Every interface, and the default gateways.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub interfaces: Vec<Interface>,
    pub gateways: Vec<Gateway>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    /// The kernel's operational state: `up`, `down`, `unknown` (loopback and some virtual
    /// links say unknown while working), `dormant` ...
    pub state: &'static str,
    /// up, running, loopback, broadcast, multicast, point-to-point.
    pub flags: Vec<&'static str>,
    /// The hardware address, lowercase with colons; None when the link has none.
    pub mac: Option<String>,
    pub mtu: Option<u32>,
    /// Ethernet, loopback, wireless, tunnel ... as netdev names it.
    pub kind: String,
    /// The interface the system sends to the internet through.
    pub default: bool,
    pub ipv4: Vec<Ipv4>,
    pub ipv6: Vec<Ipv6>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ipv4 {
    pub address: String,
    pub prefix: u8,
    /// The prefix as a dotted mask: 255.255.255.0.
    pub netmask: String,
    /// The network in CIDR form: 192.168.1.0/24.
    pub network: String,
    /// None for /31 and /32.
    pub broadcast: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ipv6 {
    pub address: String,
    pub prefix: u8,
    /// `host` (::1), `link` (fe80::/10, valid on this link only), or `global`, as `ip addr`
    /// says them.
    pub scope: &'static str,
}

/// A default route: where packets for anywhere else go.
#[derive(Debug, Clone, Serialize)]
pub struct Gateway {
    pub interface: String,
    pub address: String,
    /// `ipv4` or `ipv6`.
    pub family: &'static str,
    /// The gateway's MAC address when the neighbour table knows it.
    pub mac: Option<String>,
}

/// Reads the interfaces now. `only` keeps the named interface (none: all of them).
pub fn list(only: Option<&str>) -> crate::Result<Report> {
    let mut all = netdev::get_interfaces();
    all.sort_by_key(|i| i.index);
    if let Some(name) = only {
        if !all.iter().any(|i| i.name == name) {
            let known: Vec<&str> = all.iter().map(|i| i.name.as_str()).collect();
            return Err(crate::Error::NoSuchInterface {
                name: name.into(),
                known: known.join(", "),
            });
        }
        all.retain(|i| i.name == name);
    }
    let mut gateways = Vec::new();
    for iface in &all {
        if let Some(gw) = &iface.gateway {
            let mac = Some(gw.mac_addr)
                .filter(|m| m.octets() != [0; 6])
                .map(|m| m.to_string().to_lowercase());
            let addrs = gw.ipv4.iter().map(|a| IpAddr::V4(*a));
            for addr in addrs.chain(gw.ipv6.iter().map(|a| IpAddr::V6(*a))) {
                gateways.push(Gateway {
                    interface: iface.name.clone(),
                    address: addr.to_string(),
                    family: if addr.is_ipv4() { "ipv4" } else { "ipv6" },
                    mac: mac.clone(),
                });
            }
        }
    }
    let interfaces = all.iter().map(interface).collect();
    Ok(Report {
        interfaces,
        gateways,
    })
}

fn interface(i: &netdev::Interface) -> Interface {
    let mut flags = Vec::new();
    for (on, name) in [
        (i.is_up(), "up"),
        (i.is_running(), "running"),
        (i.is_loopback(), "loopback"),
        (i.is_broadcast(), "broadcast"),
        (i.is_multicast(), "multicast"),
        (i.is_point_to_point(), "point-to-point"),
    ] {
        if on {
            flags.push(name);
        }
    }
    Interface {
        name: i.name.clone(),
        index: i.index,
        state: state(i.oper_state),
        flags,
        mac: i
            .mac_addr
            .filter(|m| m.octets() != [0; 6] || i.is_loopback())
            .map(|m| m.to_string().to_lowercase()),
        mtu: i.mtu,
        kind: i.if_type.name().to_lowercase(),
        default: i.default,
        ipv4: i.ipv4.iter().map(ipv4).collect(),
        ipv6: i.ipv6.iter().map(ipv6).collect(),
    }
}

fn state(s: netdev::interface::state::OperState) -> &'static str {
    use netdev::interface::state::OperState as S;
    match s {
        S::Up => "up",
        S::Down => "down",
        S::LowerLayerDown => "lowerlayerdown",
        S::Dormant => "dormant",
        S::Testing => "testing",
        S::NotPresent => "notpresent",
        S::Unknown => "unknown",
    }
}

fn ipv4(net: &Ipv4Net) -> Ipv4 {
    Ipv4 {
        address: net.addr().to_string(),
        prefix: net.prefix_len(),
        netmask: net.netmask().to_string(),
        network: net.trunc().to_string(),
        broadcast: (net.prefix_len() <= 30).then(|| net.broadcast().to_string()),
    }
}

fn ipv6(net: &Ipv6Net) -> Ipv6 {
    Ipv6 {
        address: net.addr().to_string(),
        prefix: net.prefix_len(),
        scope: scope(net.addr()),
    }
}

/// The scope `ip addr` prints. Unique local (fc00::/7) addresses are "global" there too:
/// scope is about where an address is valid, not whether it is routed on the internet.
pub fn scope(a: Ipv6Addr) -> &'static str {
    if a.is_loopback() {
        "host"
    } else if (a.segments()[0] & 0xffc0) == 0xfe80 {
        "link"
    } else {
        "global"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_listed_with_both_families() {
        let r = list(Some("lo")).expect("every Linux machine has lo");
        let lo = &r.interfaces[0];
        assert!(lo.flags.contains(&"loopback"));
        let v4 = lo
            .ipv4
            .iter()
            .find(|a| a.address == "127.0.0.1")
            .expect("127.0.0.1");
        assert_eq!((v4.prefix, v4.netmask.as_str()), (8, "255.0.0.0"));
        assert_eq!(v4.broadcast.as_deref(), Some("127.255.255.255"));
    }

    #[test]
    fn an_unknown_name_lists_the_known_ones() {
        let err = list(Some("nosuch0")).expect_err("no such interface");
        assert!(err.is_usage());
        assert!(err.to_string().contains("lo"), "{err}");
    }

    #[test]
    fn scopes_as_ip_addr_says_them() {
        assert_eq!(scope(Ipv6Addr::LOCALHOST), "host");
        assert_eq!(scope("fe80::1".parse().expect("v6")), "link");
        assert_eq!(scope("febf::1".parse().expect("v6")), "link");
        assert_eq!(scope("fd00::1".parse().expect("v6")), "global");
    }
}
