//! `socklab ports`: well-known ports by number, by name or by a word.
//!
//! A built-in table (`ports/table.rs`) answers the same on every machine and carries
//! short descriptions and the industrial protocols that /etc/services lacks; the system's
//! /etc/services, where there is one, adds everything else it names and lends its names
//! to the built-in rows as aliases (so `www` finds http). [`service_name`] is what `scan`
//! shows beside an open port.

mod table;

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use serde::Serialize;

use crate::{Error, Result};

/// Where [`Catalog::system`] reads the services file from: this environment variable when
/// it is set and not empty, else /etc/services. Meant for tests (a file with a known
/// entry) and for systems that keep the file elsewhere.
pub const SERVICES_ENV: &str = "SOCKLAB_SERVICES";
const ETC_SERVICES: &str = "/etc/services";
/// /etc/services is about 13 KB; a file this large is not one, and is not read further.
const MAX_SERVICES_FILE: u64 = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }

    /// `tcp` or `udp`, in any case.
    pub fn parse(s: &str) -> Option<Protocol> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Some(Protocol::Tcp),
            "udp" => Some(Protocol::Udp),
            _ => None,
        }
    }
}

/// Where an entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Builtin,
    EtcServices,
}

/// One service on one port and protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub port: u16,
    pub protocol: Protocol,
    pub name: String,
    /// Other names it goes by (the built-in ones, and those /etc/services uses).
    pub aliases: Vec<String>,
    /// Empty for /etc/services entries without a comment.
    pub description: String,
    pub source: Source,
}

/// A row of the built-in table, in a form that can be a `const`.
pub(crate) struct Row {
    port: u16,
    protocol: Protocol,
    name: &'static str,
    aliases: &'static [&'static str],
    description: &'static str,
}

impl Row {
    const fn new(
        port: u16,
        protocol: Protocol,
        name: &'static str,
        aliases: &'static [&'static str],
        description: &'static str,
    ) -> Row {
        Row {
            port,
            protocol,
            name,
            aliases,
            description,
        }
    }

    fn service(&self) -> Service {
        Service {
            port: self.port,
            protocol: self.protocol,
            name: self.name.to_string(),
            aliases: self.aliases.iter().map(|a| a.to_string()).collect(),
            description: self.description.to_string(),
            source: Source::Builtin,
        }
    }
}

/// A query as `socklab ports` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Port(u16),
    /// Lower case: a name, an alias or a word of a description.
    Word(String),
}

impl Query {
    /// `6379`, `redis`, `time server`, optionally with `/tcp` or `/udp` after it.
    pub fn parse(input: &str) -> Result<(Query, Option<Protocol>)> {
        let bad = |reason: String| Error::PortQuery {
            input: input.to_string(),
            reason,
        };
        let mut s = input.trim();
        let mut protocol = None;
        if let Some((rest, proto)) = s.rsplit_once('/') {
            protocol =
                Some(Protocol::parse(proto.trim()).ok_or_else(|| {
                    bad(format!("unknown protocol '{proto}'; expected tcp or udp"))
                })?);
            s = rest.trim();
        }
        if s.is_empty() {
            return Err(bad("it is empty".into()));
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return match s.parse::<u32>() {
                Ok(p) if p <= 65535 => Ok((Query::Port(p as u16), protocol)),
                _ => Err(bad(format!("port {s} is out of range 0-65535"))),
            };
        }
        Ok((Query::Word(s.to_lowercase()), protocol))
    }
}

/// The built-in table, optionally merged with a services file.
#[derive(Debug, Clone)]
pub struct Catalog {
    services: Vec<Service>,
}

impl Catalog {
    /// The built-in table alone.
    pub fn builtin() -> Catalog {
        Catalog {
            services: table::TABLE.iter().map(Row::service).collect(),
        }
    }

    /// The built-in table merged with the text of a services file (see [`parse_services`]).
    pub fn with_services(text: &str) -> Catalog {
        let mut catalog = Catalog::builtin();
        catalog.merge(parse_services(text));
        catalog
    }

    /// The built-in table merged with the services file of this system (see
    /// [`SERVICES_ENV`]), read once; without one, the built-in table alone.
    pub fn system() -> &'static Catalog {
        static SYSTEM: OnceLock<Catalog> = OnceLock::new();
        SYSTEM.get_or_init(|| {
            let path = std::env::var_os(SERVICES_ENV)
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| ETC_SERVICES.into());
            match read_services(Path::new(&path)) {
                Some(text) => Catalog::with_services(&text),
                None => Catalog::builtin(),
            }
        })
    }

    /// Every entry, sorted by port, protocol and name.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The built-in rows (with the aliases /etc/services lent them).
    pub fn builtin_services(&self) -> Vec<Service> {
        self.services
            .iter()
            .filter(|s| s.source == Source::Builtin)
            .cloned()
            .collect()
    }

    /// Entries for a [`Query`]: a port gives its entries; a word gives the entries it names
    /// exactly (name or alias) first, then those whose name, aliases or description
    /// contain it. Empty when nothing matches.
    pub fn lookup(&self, query: &str) -> Result<Vec<Service>> {
        let (query, protocol) = Query::parse(query)?;
        let wanted = |s: &&Service| protocol.is_none_or(|p| s.protocol == p);
        let found = match query {
            Query::Port(port) => self
                .services
                .iter()
                .filter(wanted)
                .filter(|s| s.port == port)
                .cloned()
                .collect(),
            Query::Word(word) => {
                let names = |s: &Service| {
                    std::iter::once(s.name.to_lowercase())
                        .chain(s.aliases.iter().map(|a| a.to_lowercase()))
                        .collect::<Vec<_>>()
                };
                let (mut exact, mut partial) = (Vec::new(), Vec::new());
                for s in self.services.iter().filter(wanted) {
                    let names = names(s);
                    if names.contains(&word) {
                        exact.push(s.clone());
                    } else if names.iter().any(|n| n.contains(&word))
                        || s.description.to_lowercase().contains(&word)
                    {
                        partial.push(s.clone());
                    }
                }
                exact.append(&mut partial);
                exact
            }
        };
        Ok(found)
    }

    /// The name of the service on a port, if the catalog knows one.
    pub fn service_name(&self, port: u16, protocol: Protocol) -> Option<&str> {
        // Sorted by port: a binary search finds the first entry of the port.
        let start = self.services.partition_point(|s| s.port < port);
        self.services[start..]
            .iter()
            .take_while(|s| s.port == port)
            .find(|s| s.protocol == protocol)
            .map(|s| s.name.as_str())
    }

    /// Adds what a services file knows: its names become aliases of the built-in entry
    /// for the same port and protocol; entries for other ports are added (several lines
    /// for one port and protocol become one entry with aliases).
    fn merge(&mut self, extra: Vec<Service>) {
        let mut at: HashMap<(u16, Protocol), usize> = HashMap::new();
        for (i, s) in self.services.iter().enumerate() {
            at.entry((s.port, s.protocol)).or_insert(i);
        }
        for e in extra {
            match at.get(&(e.port, e.protocol)) {
                Some(&i) => {
                    let target = &mut self.services[i];
                    for name in std::iter::once(e.name).chain(e.aliases) {
                        let known = target.name.eq_ignore_ascii_case(&name)
                            || target.aliases.iter().any(|a| a.eq_ignore_ascii_case(&name));
                        if !known {
                            target.aliases.push(name);
                        }
                    }
                    if target.description.is_empty() {
                        target.description = e.description;
                    }
                }
                None => {
                    at.insert((e.port, e.protocol), self.services.len());
                    self.services.push(e);
                }
            }
        }
        self.services
            .sort_by(|a, b| (a.port, a.protocol, &a.name).cmp(&(b.port, b.protocol, &b.name)));
    }
}

/// Reads services-file text (`name port/protocol [aliases...] [# comment]`) the way
/// getservent does, but forgiving: blank lines, comments, CRLF, tabs or spaces, and lines
/// it cannot read (no port, a port over 65535, a protocol other than tcp and udp, such as
/// sctp or ddp) are skipped. The comment after an entry becomes its description.
pub fn parse_services(text: &str) -> Vec<Service> {
    let mut out = Vec::new();
    for line in text.lines() {
        let (data, comment) = line.split_once('#').unwrap_or((line, ""));
        let mut fields = data.split_whitespace();
        let (Some(name), Some(port_proto)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some((port, proto)) = port_proto.split_once('/') else {
            continue;
        };
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let (Ok(port), Some(protocol)) = (port.parse::<u16>(), Protocol::parse(proto)) else {
            continue;
        };
        out.push(Service {
            port,
            protocol,
            name: name.to_string(),
            aliases: fields.map(str::to_string).collect(),
            description: comment.trim().to_string(),
            source: Source::EtcServices,
        });
    }
    out
}

/// The file as text (bytes that are not UTF-8 replaced), or `None` when it cannot be read.
fn read_services(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_SERVICES_FILE).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// [`Catalog::lookup`] on the system catalog.
pub fn lookup(query: &str) -> Result<Vec<Service>> {
    Catalog::system().lookup(query)
}

/// [`Catalog::service_name`] on the system catalog.
pub fn service_name(port: u16, protocol: Protocol) -> Option<&'static str> {
    Catalog::system().service_name(port, protocol)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(found: &[Service]) -> Vec<String> {
        found
            .iter()
            .map(|s| format!("{}/{} {}", s.port, s.protocol.name(), s.name))
            .collect()
    }

    #[test]
    fn the_table_is_sorted_without_duplicates() {
        let t = table::TABLE;
        for pair in t.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            assert!(
                (a.port, a.protocol, a.name) < (b.port, b.protocol, b.name),
                "{}/{} {} must come before {}/{} {}, and only once",
                a.port,
                a.protocol.name(),
                a.name,
                b.port,
                b.protocol.name(),
                b.name
            );
        }
        for r in t {
            assert!(
                !r.name.is_empty() && !r.description.is_empty(),
                "{}",
                r.port
            );
            assert!(r.name.bytes().all(|b| !b.is_ascii_whitespace()));
            assert!(!r.aliases.contains(&r.name), "{}", r.name);
        }
    }

    #[test]
    fn the_table_has_what_the_issue_asks_for() {
        let c = Catalog::builtin();
        for (port, proto, name) in [
            (3306, Protocol::Tcp, "mysql"),
            (6379, Protocol::Tcp, "redis"),
            (5432, Protocol::Tcp, "postgresql"),
            (27017, Protocol::Tcp, "mongodb"),
            (1883, Protocol::Tcp, "mqtt"),
            (8883, Protocol::Tcp, "secure-mqtt"),
            (502, Protocol::Tcp, "modbus"),
            (5683, Protocol::Udp, "coap"),
            (4840, Protocol::Tcp, "opc-ua"),
            (102, Protocol::Tcp, "iso-tsap"),
            (47808, Protocol::Udp, "bacnet"),
            (20000, Protocol::Tcp, "dnp3"),
            (44818, Protocol::Tcp, "ethernet-ip"),
            (514, Protocol::Udp, "syslog"),
            (161, Protocol::Udp, "snmp"),
            (162, Protocol::Udp, "snmp-trap"),
            (123, Protocol::Udp, "ntp"),
            (69, Protocol::Udp, "tftp"),
            (67, Protocol::Udp, "bootps"),
            (68, Protocol::Udp, "bootpc"),
            (5353, Protocol::Udp, "mdns"),
            (22, Protocol::Tcp, "ssh"),
            (80, Protocol::Tcp, "http"),
            (443, Protocol::Tcp, "https"),
        ] {
            assert_eq!(c.service_name(port, proto), Some(name), "{port}");
        }
        assert_eq!(c.service_name(6379, Protocol::Udp), None);
        assert_eq!(c.service_name(65000, Protocol::Tcp), None);
    }

    #[test]
    fn lookup_by_number_name_alias_and_word() {
        let c = Catalog::builtin();
        assert_eq!(names(&c.lookup("redis").unwrap()), ["6379/tcp redis"]);
        assert_eq!(names(&c.lookup("69").unwrap()), ["69/udp tftp"]);
        assert_eq!(names(&c.lookup("REDIS").unwrap()), ["6379/tcp redis"]);
        assert_eq!(
            names(&c.lookup("postgres").unwrap()),
            ["5432/tcp postgresql"]
        );
        assert_eq!(
            names(&c.lookup("53").unwrap()),
            ["53/tcp domain", "53/udp domain"]
        );
        assert_eq!(names(&c.lookup("53/udp").unwrap()), ["53/udp domain"]);
        assert_eq!(names(&c.lookup("s7").unwrap()), ["102/tcp iso-tsap"]);
        // Exact names first, then words found in names and descriptions.
        let snmp = names(&c.lookup("snmp").unwrap());
        assert_eq!(snmp, ["161/udp snmp", "162/udp snmp-trap"]);
        let mqtt = names(&c.lookup("mqtt").unwrap());
        assert_eq!(mqtt, ["1883/tcp mqtt", "8883/tcp secure-mqtt"]);
        let scada = names(&c.lookup("scada").unwrap());
        assert!(scada.contains(&"2404/tcp iec-104".to_string()), "{scada:?}");
        assert!(scada.contains(&"20000/udp dnp3".to_string()), "{scada:?}");
        assert!(c.lookup("no-such-service-here").unwrap().is_empty());
        assert!(c.lookup("0").unwrap().is_empty());
    }

    #[test]
    fn bad_queries_are_usage_errors() {
        let c = Catalog::builtin();
        for (q, needle) in [
            ("70000", "out of range 0-65535"),
            ("99999999999999999999", "out of range"),
            ("80/sctp", "unknown protocol 'sctp'"),
            ("/tcp", "empty"),
            ("  ", "empty"),
        ] {
            let e = c.lookup(q).unwrap_err();
            assert!(e.is_usage(), "{q}: {e}");
            assert!(e.to_string().contains(needle), "{q}: {e}");
        }
    }

    #[test]
    fn services_files_are_read_forgivingly() {
        let text = "# a comment line\r\n\
                    \n\
                    www-http\t80/tcp\t\thttp www   # World Wide Web HTTP\r\n\
                    gadget  7777/udp  gizmo\n\
                    gadget  7777/tcp\n\
                    widget 7777/udp\n\
                    sctpsvc 9999/sctp\n\
                    broken 70000/tcp\n\
                    noport tcp\n\
                    half /tcp\n\
                    spaced   8888 / tcp\n\
                    \u{fffd}odd 6666/TCP # \u{4e2d}\u{6587}\n";
        let parsed = parse_services(text);
        assert_eq!(
            names(&parsed),
            [
                "80/tcp www-http",
                "7777/udp gadget",
                "7777/tcp gadget",
                "7777/udp widget",
                "6666/tcp \u{fffd}odd"
            ]
        );
        assert_eq!(parsed[0].aliases, ["http", "www"]);
        assert_eq!(parsed[0].description, "World Wide Web HTTP");
        assert_eq!(parsed[4].description, "\u{4e2d}\u{6587}");

        let c = Catalog::with_services(text);
        // A built-in row keeps its name and gains the file's names as aliases.
        let http = c.lookup("80/tcp").unwrap();
        assert_eq!(http.len(), 1);
        assert_eq!(http[0].source, Source::Builtin);
        assert_eq!(http[0].name, "http");
        assert!(http[0].aliases.contains(&"www-http".to_string()));
        assert_eq!(names(&c.lookup("www-http").unwrap()), ["80/tcp http"]);
        // Unknown ports are added; two lines for one port and protocol become one entry.
        let gadget = c.lookup("7777/udp").unwrap();
        assert_eq!(names(&gadget), ["7777/udp gadget"]);
        assert_eq!(gadget[0].aliases, ["gizmo", "widget"]);
        assert_eq!(gadget[0].source, Source::EtcServices);
        assert_eq!(c.service_name(7777, Protocol::Tcp), Some("gadget"));
        // Still sorted.
        let s = c.services();
        assert!(s
            .windows(2)
            .all(|w| (w[0].port, w[0].protocol) <= (w[1].port, w[1].protocol)));
    }

    #[test]
    fn the_real_etc_services_parses_if_present() {
        if let Some(text) = read_services(Path::new(ETC_SERVICES)) {
            let parsed = parse_services(&text);
            // Every entry line of the real file has a tcp or udp port, apart from the
            // sctp/ddp ones: nearly all lines must survive.
            let entries = text
                .lines()
                .filter(|l| {
                    let d = l.split('#').next().unwrap_or("");
                    d.contains("/tcp") || d.contains("/udp")
                })
                .count();
            assert_eq!(parsed.len(), entries);
        }
    }
}
