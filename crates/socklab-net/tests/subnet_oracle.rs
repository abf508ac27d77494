//! The subnet calculator against python3's ipaddress module, on thousands of random
//! networks, masks (contiguous or not) and addresses, IPv4 and IPv6.
//!
//! The seed is printed; set SUBNET_SEED to replay a failure.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::{Command, Stdio};

use serde_json::Value;
use socklab_net::subnet;

const ORACLE: &str = r#"
import ipaddress, json, sys
RFC1918 = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
ULA = ipaddress.ip_network("fc00::/7")
for line in sys.stdin:
    case = json.loads(line)
    try:
        net = ipaddress.ip_network(case["network"], strict=False)
    except ValueError:
        print(json.dumps({"error": True}))
        continue
    v4 = net.version == 4
    p = net.prefixlen
    n = net.num_addresses
    if v4 and p <= 30:
        first, last, hosts = net.network_address + 1, net.broadcast_address - 1, n - 2
    elif v4 and p == 31:
        first, last, hosts = net.network_address, net.broadcast_address, 2
    elif v4:
        first, last, hosts = net.network_address, net.network_address, 1
    else:
        first, last, hosts = net.network_address, net.broadcast_address, n
    private = any(net.subnet_of(r) for r in RFC1918) if v4 else net.subnet_of(ULA)
    print(json.dumps({
        "error": False,
        "cidr": str(net),
        "network": str(net.network_address),
        "prefix": p,
        "netmask": str(net.netmask),
        "wildcard": str(net.hostmask) if v4 else None,
        "broadcast": str(net.broadcast_address) if v4 and p <= 30 else None,
        "first_host": str(first),
        "last_host": str(last),
        "hosts": str(hosts),
        "addresses": str(n),
        "loopback": net.is_loopback,
        "link_local": net.is_link_local,
        "multicast": net.is_multicast,
        "private": private,
        "checks": [ipaddress.ip_address(o) in net for o in case["others"]],
    }))
"#;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: enough randomness for test inputs, and replayable from the seed.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A prefix length, with the edges (0, 1, /31, /32, /127, /128) over-represented.
fn prefix(rng: &mut Rng, max: u8) -> u8 {
    match rng.below(6) {
        0 => [0, 1, max - 2, max - 1, max][rng.below(5) as usize],
        _ => rng.below(u64::from(max) + 1) as u8,
    }
}

/// An address in the network (by keeping its top bits) or anywhere.
fn v4_near(rng: &mut Rng, base: u32, prefix: u8) -> Ipv4Addr {
    let r = rng.next() as u32;
    if rng.below(2) == 0 && prefix > 0 {
        let keep = u32::MAX << (32 - u32::from(prefix));
        Ipv4Addr::from((base & keep) | (r & !keep))
    } else {
        Ipv4Addr::from(r)
    }
}

fn v6_near(rng: &mut Rng, base: u128, prefix: u8) -> Ipv6Addr {
    let r = (u128::from(rng.next()) << 64) | u128::from(rng.next());
    if rng.below(2) == 0 && prefix > 0 {
        let keep = u128::MAX << (128 - u32::from(prefix));
        Ipv6Addr::from((base & keep) | (r & !keep))
    } else {
        Ipv6Addr::from(r)
    }
}

/// One case: the arguments socklab takes, and the network python is given.
fn case(rng: &mut Rng) -> (Vec<String>, String, Vec<String>) {
    let mut others = Vec::new();
    match rng.below(10) {
        // IPv4 CIDR
        0..=3 => {
            let base = rng.next() as u32;
            let p = prefix(rng, 32);
            for _ in 0..rng.below(4) {
                others.push(v4_near(rng, base, p).to_string());
            }
            let net = format!("{}/{p}", Ipv4Addr::from(base));
            let mut args = vec![net.clone()];
            args.extend(others.iter().cloned());
            (args, net, others)
        }
        // IPv4 with a dotted mask: contiguous mostly, sometimes not; both spellings.
        4..=6 => {
            let base = Ipv4Addr::from(rng.next() as u32);
            let mask = if rng.below(4) == 0 {
                Ipv4Addr::from(rng.next() as u32)
            } else {
                let p = prefix(rng, 32);
                Ipv4Addr::from(u32::MAX.checked_shl(32 - u32::from(p)).unwrap_or(0))
            };
            let net = format!("{base}/{mask}");
            let args = if rng.below(2) == 0 {
                vec![net.clone()]
            } else {
                vec![base.to_string(), mask.to_string()]
            };
            (args, net, others)
        }
        // IPv6 CIDR
        _ => {
            let base = (u128::from(rng.next()) << 64) | u128::from(rng.next());
            let base = match rng.below(4) {
                // Sometimes in the special ranges, so those kinds get exercised.
                0 => (0xfe80u128 << 112) | (base >> 64),
                1 => (0xfd00u128 << 112) | (base >> 16),
                2 => (0xff02u128 << 112) | (base >> 16),
                _ => base,
            };
            let p = prefix(rng, 128);
            for _ in 0..rng.below(4) {
                others.push(v6_near(rng, base, p).to_string());
            }
            let net = format!("{}/{p}", Ipv6Addr::from(base));
            let mut args = vec![net.clone()];
            args.extend(others.iter().cloned());
            (args, net, others)
        }
    }
}

#[test]
fn matches_python_ipaddress_on_random_networks() {
    let seed = std::env::var("SUBNET_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    eprintln!("SUBNET_SEED={seed}");
    let mut rng = Rng(seed);
    let cases: Vec<_> = (0..5000).map(|_| case(&mut rng)).collect();

    let mut python = Command::new("python3")
        .args(["-c", ORACLE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed as the oracle: apt-get install python3");
    let mut stdin = python.stdin.take().expect("stdin");
    let input: String = cases
        .iter()
        .map(|(_, net, others)| {
            serde_json::json!({"network": net, "others": others}).to_string() + "\n"
        })
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = python.wait_with_output().expect("python3 ran");
    writer.join().expect("writer").expect("wrote the cases");
    assert!(out.status.success(), "the oracle failed");
    let answers: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("oracle JSON"))
        .collect();
    assert_eq!(answers.len(), cases.len());

    let mut errors = 0;
    for ((args, net, _), want) in cases.iter().zip(&answers) {
        let got = subnet::parse_args(args);
        if want["error"] == true {
            errors += 1;
            let err = got.expect_err(&format!(
                "{args:?} should be refused, as python refuses {net}"
            ));
            assert!(err.is_usage(), "{err}");
            continue;
        }
        let query = got.unwrap_or_else(|e| panic!("{args:?} refused: {e}"));
        let r = subnet::calculate(&query);
        let ctx = format!("{args:?} (SUBNET_SEED={seed})");
        assert_eq!(r.cidr, want["cidr"], "{ctx}");
        assert_eq!(r.network, want["network"], "{ctx}");
        assert_eq!(u64::from(r.prefix), want["prefix"], "{ctx}");
        assert_eq!(r.netmask, want["netmask"], "{ctx}");
        assert_eq!(serde_json::json!(r.wildcard), want["wildcard"], "{ctx}");
        assert_eq!(serde_json::json!(r.broadcast), want["broadcast"], "{ctx}");
        assert_eq!(r.first_host, want["first_host"], "{ctx}");
        assert_eq!(r.last_host, want["last_host"], "{ctx}");
        assert_eq!(r.hosts, want["hosts"], "{ctx}");
        assert_eq!(r.addresses, want["addresses"], "{ctx}");
        let has = |k: &str| r.kinds.iter().any(|x| x.starts_with(k));
        assert_eq!(has("loopback"), want["loopback"], "{ctx}: {:?}", r.kinds);
        assert_eq!(
            has("link-local"),
            want["link_local"],
            "{ctx}: {:?}",
            r.kinds
        );
        assert_eq!(has("multicast"), want["multicast"], "{ctx}: {:?}", r.kinds);
        let private = has("private") || has("unique local");
        assert_eq!(private, want["private"], "{ctx}: {:?}", r.kinds);
        let checks: Vec<bool> = r.checks.iter().map(|c| c.same_network).collect();
        assert_eq!(serde_json::json!(checks), want["checks"], "{ctx}");
        // Same-network answers agree with the addresses' own parse.
        for c in &r.checks {
            assert!(c.address.parse::<IpAddr>().is_ok());
        }
    }
    // The generator must have produced both kinds, or the test proves less than it says.
    assert!(errors > 50, "only {errors} non-contiguous masks generated");
    assert!(errors < cases.len() / 4);
}
