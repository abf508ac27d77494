//! `socklab subnet` as a user runs it. The arithmetic itself is checked against python's
//! ipaddress module in socklab-net's tests; here: the three input forms, the seed's
//! "same network?" example, the JSON document and every bad input.

use serde_json::Value;

use crate::support::{run, text, usage_error};

#[test]
fn the_seeds_two_hosts_are_in_one_network_and_a_third_is_not() {
    let out = run(
        &[
            "subnet",
            "192.168.1.1",
            "255.255.255.0",
            "192.168.1.2",
            "192.168.2.1",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = text(&out.stdout);
    for line in [
        "Network     192.168.1.0/24",
        "Netmask     255.255.255.0 = /24",
        "Wildcard    0.0.0.255",
        "Broadcast   192.168.1.255",
        "First host  192.168.1.1",
        "Last host   192.168.1.254",
        "Hosts       254",
        "Kind        private",
        "192.168.1.2  in 192.168.1.0/24",
        "192.168.2.1  not in 192.168.1.0/24 (in 192.168.2.0/24)",
    ] {
        assert!(t.contains(line), "{line:?} not in:\n{t}");
    }
}

#[test]
fn json_has_the_documented_fields_in_all_three_forms() {
    let mut docs = Vec::new();
    for args in [
        &[
            "subnet",
            "10.20.30.40/255.255.252.0",
            "10.20.31.1",
            "--json",
        ][..],
        &["subnet", "10.20.30.40/22", "10.20.31.1", "--json"],
        &[
            "subnet",
            "10.20.30.40",
            "255.255.252.0",
            "10.20.31.1",
            "--json",
        ],
    ] {
        let out = run(args, b"");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
        docs.push(v);
    }
    assert_eq!(docs[0], docs[1]);
    assert_eq!(docs[1], docs[2]);
    let v = &docs[0];
    assert_eq!(v["version"], "ipv4");
    assert_eq!(v["cidr"], "10.20.28.0/22");
    assert_eq!(v["network"], "10.20.28.0");
    assert_eq!(v["prefix"], 22);
    assert_eq!(v["netmask"], "255.255.252.0");
    assert_eq!(v["wildcard"], "0.0.3.255");
    assert_eq!(v["broadcast"], "10.20.31.255");
    assert_eq!(v["first_host"], "10.20.28.1");
    assert_eq!(v["last_host"], "10.20.31.254");
    assert_eq!(v["hosts"], "1022");
    assert_eq!(v["addresses"], "1024");
    assert_eq!(v["class"], "A");
    assert_eq!(v["kinds"][0], "private");
    assert_eq!(v["checks"][0]["address"], "10.20.31.1");
    assert_eq!(v["checks"][0]["same_network"], true);
}

#[test]
fn ipv6_has_no_broadcast_and_a_big_count() {
    let out = run(&["subnet", "fe80::1/10", "--json"], b"");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["broadcast"], Value::Null);
    assert_eq!(v["addresses"], "332306998946228968225951765070086144");
    assert_eq!(v["kinds"][0], "link-local");
    let out = run(&["subnet", "fe80::1/10"], b"");
    assert!(text(&out.stdout).contains("IPv6 has no broadcast"));
}

#[test]
fn bad_networks_and_addresses_exit_2_and_say_why() {
    for (args, needles) in [
        (
            &["subnet", "10.0.0.1", "255.0.255.0"][..],
            &["255.0.255.0", "not contiguous"][..],
        ),
        (&["subnet", "10.0.0.1/255.255.0.255"], &["not contiguous"]),
        (&["subnet", "10.0.0.1/33"], &["more than 32"]),
        (&["subnet", "fd00::/200"], &["more than 128"]),
        (
            &["subnet", "10.0.0/8"],
            &["'10.0.0' is not an IPv4 or IPv6 address"],
        ),
        (
            &["subnet", "10.0.0.1"],
            &["no prefix length or mask", "expected CIDR"],
        ),
        (
            &["subnet", "10.0.0.1/8", "10.0.0.300"],
            &["bad address '10.0.0.300'"],
        ),
        (
            &["subnet", "host.example/24"],
            &["not an IPv4 or IPv6 address"],
        ),
    ] {
        let out = run(args, b"");
        usage_error(&out, needles);
    }
    // No arguments at all is clap's usage error.
    let out = run(&["subnet"], b"");
    assert_eq!(out.status.code(), Some(2));
}
