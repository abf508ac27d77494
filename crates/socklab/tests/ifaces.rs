//! `socklab ifaces` against iproute2's own view of the same kernel: `ip -j addr` and
//! `ip -j route`, on this machine and in a network namespace whose addresses and default
//! routes the test sets itself.

use std::process::Command;

use serde_json::Value;

use crate::support::netns::TwoHosts;
use crate::support::{require, run, text, usage_error};

fn json(out: &std::process::Output, what: &str) -> Value {
    assert!(out.status.success(), "{what} failed: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what}: not JSON: {e}"))
}

/// `ip ARGS` inside `ns` (or here), as JSON.
fn ip(ns: Option<&str>, args: &[&str]) -> Value {
    require("ip", "iproute2");
    let mut cmd = match ns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, "ip"]);
            c
        }
        None => Command::new("ip"),
    };
    let out = cmd.arg("-j").args(args).output().expect("ip runs");
    json(&out, &format!("ip -j {}", args.join(" ")))
}

/// Every interface, address and default gateway socklab reports is the one iproute2
/// reports, and none is missing.
fn agree(socklab: &Value, addr: &Value, routes: &[Value]) {
    let ours = socklab["interfaces"].as_array().expect("interfaces");
    let theirs = addr.as_array().expect("ip addr list");
    let names = |v: &[Value], key: &str| -> Vec<String> {
        v.iter()
            .map(|i| i[key].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let mut a = names(ours, "name");
    let mut b = names(theirs, "ifname");
    a.sort();
    b.sort();
    assert_eq!(a, b, "interface names");

    for link in theirs {
        let name = link["ifname"].as_str().expect("ifname");
        let me = ours
            .iter()
            .find(|i| i["name"] == name)
            .expect("listed above");
        assert_eq!(me["index"], link["ifindex"], "{name}: index");
        assert_eq!(me["mtu"], link["mtu"], "{name}: mtu");
        let state = link["operstate"].as_str().unwrap_or("").to_lowercase();
        assert_eq!(me["state"], state.as_str(), "{name}: state");
        if let Some(mac) = link["address"].as_str() {
            if mac != "00:00:00:00:00:00" || name == "lo" {
                assert_eq!(me["mac"], mac, "{name}: mac");
            }
        }
        let up = link["flags"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x == "UP"));
        let our_flags = me["flags"].as_array().expect("flags");
        assert_eq!(our_flags.iter().any(|f| f == "up"), up, "{name}: up flag");

        let mut want4 = Vec::new();
        let mut want6 = Vec::new();
        for a in link["addr_info"].as_array().into_iter().flatten() {
            let local = a["local"].as_str().expect("local").to_string();
            let prefix = a["prefixlen"].as_u64().expect("prefixlen");
            match a["family"].as_str() {
                Some("inet") => {
                    let bcast = a["broadcast"].as_str().map(str::to_string);
                    want4.push((local, prefix, bcast));
                }
                Some("inet6") => {
                    want6.push((local, prefix, a["scope"].as_str().unwrap_or("").to_string()))
                }
                _ => {}
            }
        }
        let mut got4: Vec<_> = me["ipv4"]
            .as_array()
            .expect("ipv4")
            .iter()
            .map(|a| {
                (
                    a["address"].as_str().unwrap_or("").to_string(),
                    a["prefix"].as_u64().unwrap_or(99),
                    a["broadcast"].as_str().map(str::to_string),
                )
            })
            .collect();
        let mut got6: Vec<_> = me["ipv6"]
            .as_array()
            .expect("ipv6")
            .iter()
            .map(|a| {
                (
                    a["address"].as_str().unwrap_or("").to_string(),
                    a["prefix"].as_u64().unwrap_or(999),
                    a["scope"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        for list in [&mut want4, &mut got4] {
            list.sort();
        }
        want6.sort();
        got6.sort();
        // ip prints a broadcast only when one was configured; where it did, ours matches.
        for (w, g) in want4.iter().zip(&got4) {
            assert_eq!((&w.0, w.1), (&g.0, g.1), "{name}: ipv4");
            if w.2.is_some() {
                assert_eq!(w.2, g.2, "{name}: broadcast of {}", w.0);
            }
        }
        assert_eq!(want4.len(), got4.len(), "{name}: ipv4 count");
        assert_eq!(want6, got6, "{name}: ipv6");
    }

    let mut want_gw: Vec<(String, String)> = routes
        .iter()
        .flat_map(|r| r.as_array().cloned().unwrap_or_default())
        .filter(|r| r["dst"] == "default" && r["gateway"].is_string())
        .map(|r| {
            (
                r["gateway"].as_str().unwrap_or("").to_string(),
                r["dev"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut got_gw: Vec<(String, String)> = socklab["gateways"]
        .as_array()
        .expect("gateways")
        .iter()
        .map(|g| {
            (
                g["address"].as_str().unwrap_or("").to_string(),
                g["interface"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    want_gw.sort();
    got_gw.sort();
    assert_eq!(got_gw, want_gw, "default gateways");
}

#[test]
fn agrees_with_ip_addr_and_ip_route_on_this_machine() {
    let ours = json(&run(&["ifaces", "--json"], b""), "socklab ifaces --json");
    let addr = ip(None, &["addr"]);
    let routes = [ip(None, &["-4", "route"]), ip(None, &["-6", "route"])];
    agree(&ours, &addr, &routes);
}

#[test]
fn agrees_with_ip_in_a_namespace_with_known_addresses_and_gateways() {
    let net = TwoHosts::new();
    for args in [
        vec!["route", "add", "default", "via", "198.18.0.2"],
        vec!["-6", "route", "add", "default", "via", "fd00:50c::2"],
    ] {
        let st = Command::new("ip")
            .args(["netns", "exec", &net.a, "ip"])
            .args(&args)
            .status()
            .expect("ip runs");
        assert!(st.success(), "ip {}", args.join(" "));
    }
    let out = net
        .cmd(&net.a, env!("CARGO_BIN_EXE_socklab"))
        .args(["ifaces", "--json"])
        .output()
        .expect("socklab runs in the namespace");
    let ours = json(&out, "socklab ifaces --json in the namespace");
    let addr = ip(Some(&net.a), &["addr"]);
    let routes = [
        ip(Some(&net.a), &["-4", "route"]),
        ip(Some(&net.a), &["-6", "route"]),
    ];
    agree(&ours, &addr, &routes);

    // And what the test itself set up, spelled out.
    let veth = ours["interfaces"]
        .as_array()
        .and_then(|l| l.iter().find(|i| i["name"] == net.a_if.as_str()))
        .expect("the veth end");
    let v4 = &veth["ipv4"][0];
    assert_eq!(v4["address"], "198.18.0.1");
    assert_eq!(v4["netmask"], "255.255.255.0");
    assert_eq!(v4["network"], "198.18.0.0/24");
    assert_eq!(v4["broadcast"], "198.18.0.255");
    assert_eq!(veth["default"], true);
    let gws: Vec<&str> = ours["gateways"]
        .as_array()
        .expect("gateways")
        .iter()
        .filter_map(|g| g["address"].as_str())
        .collect();
    assert!(
        gws.contains(&"198.18.0.2") && gws.contains(&"fd00:50c::2"),
        "{gws:?}"
    );

    // The table says the same things in words.
    let out = net
        .cmd(&net.a, env!("CARGO_BIN_EXE_socklab"))
        .arg("ifaces")
        .output()
        .expect("socklab runs");
    let table = text(&out.stdout);
    assert!(table.contains("198.18.0.1/24"), "{table}");
    assert!(table.contains("mask 255.255.255.0"), "{table}");
    assert!(table.contains("scope link"), "{table}");
    assert!(
        table.contains(&format!("default gateway 198.18.0.2 via {}", net.a_if)),
        "{table}"
    );
}

#[test]
fn one_interface_by_name_and_an_unknown_name() {
    let out = run(&["ifaces", "lo"], b"");
    assert!(out.status.success());
    let t = text(&out.stdout);
    assert!(t.starts_with("lo"), "{t}");
    assert!(
        t.contains("127.0.0.1/8") && t.contains("mask 255.0.0.0"),
        "{t}"
    );
    let out = run(&["ifaces", "nosuch0"], b"");
    usage_error(&out, &["no interface named 'nosuch0'", "lo"]);
}
