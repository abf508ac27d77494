//! Two hosts on one machine: a pair of network namespaces joined by a veth cable, for what
//! loopback cannot show (broadcast, multicast between hosts, interface choice). Nothing in
//! them can reach the outside network: each namespace holds only `lo` and its veth end, and
//! the addresses are from 198.18.0.0/24 (RFC 2544's benchmarking range) and a ULA prefix.

use std::ffi::OsStr;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::{require, DEADLINE};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Two network namespaces joined by a veth pair: `a` has 198.18.0.1/24 and fd00:50c::1/64,
/// `b` 198.18.0.2/24 and fd00:50c::2/64; `lo` and the veth ends are up, multicast is on, and
/// each has a route for 224.0.0.0/4 on its veth end (without one, joining or sending to an
/// IPv4 group with no interface given fails with ENODEV/ENETUNREACH: a namespace has no
/// default route). IPv6 duplicate address detection is off, so the addresses (link-local
/// included) are usable at once rather than "tentative" for a second or two.
///
/// Dropping it deletes both namespaces, which removes the veth pair; processes still running
/// inside keep their namespace alive until they exit (the [`super::Proc`]s of a test are
/// dropped before the `TwoHosts` declared ahead of them).
pub struct TwoHosts {
    pub a: String,
    pub b: String,
    pub a_ip: Ipv4Addr,
    pub b_ip: Ipv4Addr,
    pub a_ip6: Ipv6Addr,
    pub b_ip6: Ipv6Addr,
    /// The subnet's broadcast address, 198.18.0.255.
    pub broadcast: Ipv4Addr,
    /// The veth end inside `a` and inside `b`.
    pub a_if: String,
    pub b_if: String,
}

impl TwoHosts {
    /// Build the two hosts, or panic saying what is missing: the tests that need them must
    /// fail, never skip, where namespaces cannot be made.
    pub fn new() -> TwoHosts {
        require("ip", "iproute2");
        if !is_root() {
            panic!("the network namespace tests need root (ip netns add); run the tests as root, e.g. in the CI container or with sudo");
        }
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        // Interface names are at most 15 bytes: "sl-" + pid (at most 7 digits) + "-" + n + a/b.
        let tag = format!("sl-{pid}-{n}");
        let hosts = TwoHosts {
            a: format!("{tag}-a"),
            b: format!("{tag}-b"),
            a_ip: Ipv4Addr::new(198, 18, 0, 1),
            b_ip: Ipv4Addr::new(198, 18, 0, 2),
            a_ip6: "fd00:50c::1".parse().expect("ULA"),
            b_ip6: "fd00:50c::2".parse().expect("ULA"),
            broadcast: Ipv4Addr::new(198, 18, 0, 255),
            a_if: format!("{tag}a"),
            b_if: format!("{tag}b"),
        };
        assert!(
            hosts.a_if.len() <= 15,
            "interface name {} too long",
            hosts.a_if
        );
        // A namespace of a dead earlier process with the same pid would make `add` fail.
        hosts.delete();
        for ns in [&hosts.a, &hosts.b] {
            ip(&["netns", "add", ns]);
            // Set before the veth exists: new interfaces take the namespace's defaults.
            let sysctl = Command::new("ip")
                .args(["netns", "exec", ns, "sysctl", "-q", "-w"])
                .args([
                    "net.ipv6.conf.all.accept_dad=0",
                    "net.ipv6.conf.default.accept_dad=0",
                ])
                .output();
            check(&format!("sysctl in {ns}"), sysctl);
        }
        ip(&[
            "link",
            "add",
            &hosts.a_if,
            "netns",
            &hosts.a,
            "type",
            "veth",
            "peer",
            "name",
            &hosts.b_if,
            "netns",
            &hosts.b,
        ]);
        for (ns, dev, v4, v6) in [
            (&hosts.a, &hosts.a_if, hosts.a_ip, hosts.a_ip6),
            (&hosts.b, &hosts.b_if, hosts.b_ip, hosts.b_ip6),
        ] {
            ip(&["-n", ns, "link", "set", "lo", "up"]);
            let v4 = format!("{v4}/24");
            ip(&["-n", ns, "addr", "add", &v4, "broadcast", "+", "dev", dev]);
            let v6 = format!("{v6}/64");
            ip(&["-n", ns, "-6", "addr", "add", &v6, "dev", dev, "nodad"]);
            ip(&["-n", ns, "link", "set", dev, "multicast", "on", "up"]);
            ip(&["-n", ns, "route", "add", "224.0.0.0/4", "dev", dev]);
        }
        hosts.wait_ready();
        hosts
    }

    /// `ip netns exec NS program`: the program runs inside the namespace (ip execs it, so
    /// the child's pid is the program's and killing it kills the program).
    pub fn cmd(&self, ns: &str, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns]).arg(program);
        c
    }

    /// The fe80:: address of a namespace's veth end (for scoped IPv6 tests).
    pub fn link_local(&self, ns: &str) -> Ipv6Addr {
        let dev = self.dev(ns);
        let out = ip(&[
            "-n", ns, "-6", "-o", "addr", "show", "dev", dev, "scope", "link",
        ]);
        out.split_whitespace()
            .skip_while(|w| *w != "inet6")
            .nth(1)
            .and_then(|a| a.split('/').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no link-local address on {dev} in {ns}: {out}"))
    }

    /// The veth end inside `ns`.
    pub fn dev(&self, ns: &str) -> &str {
        if ns == self.a {
            &self.a_if
        } else if ns == self.b {
            &self.b_if
        } else {
            panic!("{ns} is neither {} nor {}", self.a, self.b)
        }
    }

    /// Until the link is up on both ends and the link-local addresses exist. The veth
    /// carrier comes up at once, but the kernel attaches the transmit queue in its
    /// link-watch work a moment later, and drops what is sent before that; the operational
    /// state turns "UP" in the same step, so that is what is waited for.
    fn wait_ready(&self) {
        let end = Instant::now() + DEADLINE;
        for ns in [&self.a, &self.b] {
            let dev = self.dev(ns);
            loop {
                let link = ip(&["-n", ns, "-o", "link", "show", "dev", dev]);
                let addr = ip(&[
                    "-n", ns, "-6", "-o", "addr", "show", "dev", dev, "scope", "link",
                ]);
                if link.contains("state UP") && addr.contains("fe80") && !addr.contains("tentative")
                {
                    break;
                }
                if Instant::now() > end {
                    panic!("{dev} in {ns} did not come up within {DEADLINE:?}: {link} / {addr}");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    fn delete(&self) {
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Drop for TwoHosts {
    fn drop(&mut self) {
        self.delete();
    }
}

/// Run `ip ARGS`, panic with its stderr on failure, return its stdout.
fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output();
    check(&format!("ip {}", args.join(" ")), out)
}

fn check(what: &str, out: std::io::Result<Output>) -> String {
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => panic!(
            "`{what}` failed ({}): {}",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!("cannot run `{what}`: {e}"),
    }
}

/// Effective uid 0, from /proc (no libc in the test crate).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}
