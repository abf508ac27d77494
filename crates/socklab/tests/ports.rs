//! `socklab ports`: the built-in table, lookups by number, name and word, the merge with a
//! services file (through SOCKLAB_SERVICES, the documented override of /etc/services),
//! and grep's convention of exit 1 when nothing matched.

use serde_json::Value;

use crate::support::*;

fn ports(args: &[&str], services: Option<&std::path::Path>) -> std::process::Output {
    let mut cmd = socklab();
    cmd.arg("ports").args(args);
    if let Some(path) = services {
        cmd.env("SOCKLAB_SERVICES", path);
    }
    cmd.output().expect("run socklab ports")
}

fn json(out: &std::process::Output) -> Vec<Value> {
    serde_json::from_slice::<Vec<Value>>(&out.stdout)
        .unwrap_or_else(|e| panic!("not a JSON array ({e}): {}", text(&out.stdout)))
}

fn entry(v: &Value) -> (u64, &str, &str) {
    (
        v["port"].as_u64().unwrap(),
        v["protocol"].as_str().unwrap(),
        v["name"].as_str().unwrap(),
    )
}

#[test]
fn by_number_name_and_word() {
    let out = ports(&["redis", "--json"], None);
    assert_eq!(out.status.code(), Some(0));
    let found = json(&out);
    assert_eq!(entry(&found[0]), (6379, "tcp", "redis"));
    assert_eq!(found[0]["source"], "builtin");
    assert!(!found[0]["description"].as_str().unwrap().is_empty());

    let found = json(&ports(&["69", "--json"], None));
    assert!(
        found.iter().any(|e| entry(e) == (69, "udp", "tftp")),
        "{found:?}"
    );
    assert!(found.iter().all(|e| e["port"] == 69));

    let found = json(&ports(&["53/udp", "--json"], None));
    assert!(
        found
            .iter()
            .all(|e| entry(e).0 == 53 && entry(e).1 == "udp"),
        "{found:?}"
    );
    assert!(!found.is_empty());

    // A word: every match has it in its name, an alias or its description.
    let found = json(&ports(&["scada", "--json"], None));
    for want in [(2404, "tcp", "iec-104"), (20000, "tcp", "dnp3")] {
        assert!(
            found.iter().any(|e| entry(e) == want),
            "{want:?} not in {found:?}"
        );
    }
    for e in &found {
        let hay = format!("{} {} {}", e["name"], e["aliases"], e["description"]).to_lowercase();
        assert!(hay.contains("scada"), "{e}");
    }

    let out = ports(&["6379"], None);
    let t = text(&out.stdout);
    assert!(t.lines().next().unwrap().contains("PORT"), "{t}");
    assert!(
        t.lines()
            .any(|l| l.contains("6379/tcp") && l.contains("redis")),
        "{t}"
    );
}

#[test]
fn no_query_lists_the_builtin_table() {
    let out = ports(&["--json"], None);
    assert_eq!(out.status.code(), Some(0));
    let all = json(&out);
    assert!(all.len() > 100, "{}", all.len());
    assert!(all.iter().all(|e| e["source"] == "builtin"));
    let keys: Vec<_> = all.iter().map(entry).collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "sorted, no duplicates"
    );
    for want in [
        (3306, "tcp", "mysql"),
        (5432, "tcp", "postgresql"),
        (27017, "tcp", "mongodb"),
        (1883, "tcp", "mqtt"),
        (502, "tcp", "modbus"),
        (5683, "udp", "coap"),
        (47808, "udp", "bacnet"),
        (161, "udp", "snmp"),
    ] {
        assert!(keys.contains(&want), "{want:?}");
    }
    let t = text(&ports(&[], None).stdout);
    assert_eq!(
        t.lines().count(),
        all.len() + 1,
        "a header and a row per entry"
    );
}

#[test]
fn a_services_file_is_merged() {
    let dir = TempDir::new("ports-services");
    let path = dir.path("services");
    std::fs::write(
        &path,
        "# test services\n\
         socklab-test\t45678/tcp\tsltest\t# socklab test entry\n\
         www-test 80/tcp\n\
         sctp-only 45679/sctp\n\
         junk line here\n",
    )
    .unwrap();
    let found = json(&ports(&["socklab-test", "--json"], Some(&path)));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(entry(&found[0]), (45678, "tcp", "socklab-test"));
    assert_eq!(found[0]["source"], "etc-services");
    assert_eq!(found[0]["description"], "socklab test entry");
    assert_eq!(found[0]["aliases"], serde_json::json!(["sltest"]));
    // By alias and by number too.
    assert_eq!(json(&ports(&["sltest", "--json"], Some(&path))), found);
    assert_eq!(json(&ports(&["45678", "--json"], Some(&path))), found);
    // A name the file gives a built-in port becomes an alias of the built-in entry.
    let http = json(&ports(&["www-test", "--json"], Some(&path)));
    assert_eq!(entry(&http[0]), (80, "tcp", "http"));
    assert_eq!(http[0]["source"], "builtin");
    // Without the file, the entry is unknown.
    let missing = dir.path("missing");
    let out = ports(&["socklab-test"], Some(&missing));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn nothing_matched_exits_1_like_grep() {
    let out = ports(&["no-such-service-xyz"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("no well-known port matches 'no-such-service-xyz'"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
    let out = ports(&["no-such-service-xyz", "--json"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(json(&out).is_empty());
}

#[test]
fn bad_queries_exit_2() {
    usage_error(
        &ports(&["70000"], None),
        &["bad query '70000'", "out of range 0-65535"],
    );
    usage_error(
        &ports(&["80/sctp"], None),
        &["unknown protocol 'sctp'", "tcp or udp"],
    );
    usage_error(&ports(&["/udp"], None), &["empty"]);
}
