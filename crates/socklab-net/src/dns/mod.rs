//! `socklab dns`: ask a DNS server a question and show the whole answer, like dig.
//!
//! Built on hickory-proto for the message format only. socklab sends each query itself
//! over a UDP socket or a TCP stream rather than through hickory-resolver, because the
//! point of the command is to show what a resolver library hides: which server answered,
//! over which transport, how long it took, and the exact response code (NXDOMAIN, SERVFAIL,
//! REFUSED) rather than a generic "lookup failed". For the same reason there is no cache,
//! no search list and no retry on SERVFAIL: one question, one server's answer.
//!
//! - Without `--server`, the nameservers of /etc/resolv.conf (at most three, as glibc uses)
//!   are asked in order; the next is tried only when one gives no answer at all.
//! - A query carries EDNS(0) with a 1232-byte UDP payload (the DNS Flag Day 2020 value) and
//!   asks for recursion, as dig does. A UDP answer with the TC bit is asked again over TCP.
//! - With no `--type`, a name is asked for A and AAAA (as `host` does) and an address for
//!   PTR. The queries of several types go out at once, so they take the time of the slowest.

mod exchange;
mod name;
mod records;
mod resolv;
mod server;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

use hickory_proto::op::{Edns, Message, Query as Question};
use hickory_proto::rr::RecordType as WireType;
use serde::{Serialize, Serializer};
use socklab_core::endpoint::HostPort;

pub use name::{Target, MAX_LABEL, MAX_NAME};
pub use records::{Answer, Fields};
pub use resolv::{ResolvConf, MAX_NAMESERVERS, RESOLV_CONF};
pub use server::{parse_server, DNS_PORT};

use crate::error::{Error, Result};
use exchange::{Failure, Reply, Request};

/// How long to wait for each server when neither `--timeout` nor resolv.conf's
/// `options timeout:` says: glibc's default (RES_TIMEOUT), and dig's.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The UDP payload size announced with EDNS(0): large enough for most answers, small
/// enough not to be fragmented on any path (DNS Flag Day 2020).
pub const EDNS_PAYLOAD: u16 = 1232;

/// The record types socklab asks for by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    A,
    Aaaa,
    Cname,
    Mx,
    Txt,
    Ns,
    Soa,
    Ptr,
    Srv,
    /// Everything the server is willing to give (many refuse, RFC 8482).
    Any,
}

impl RecordType {
    pub const ALL: [RecordType; 10] = [
        RecordType::A,
        RecordType::Aaaa,
        RecordType::Cname,
        RecordType::Mx,
        RecordType::Txt,
        RecordType::Ns,
        RecordType::Soa,
        RecordType::Ptr,
        RecordType::Srv,
        RecordType::Any,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Cname => "CNAME",
            RecordType::Mx => "MX",
            RecordType::Txt => "TXT",
            RecordType::Ns => "NS",
            RecordType::Soa => "SOA",
            RecordType::Ptr => "PTR",
            RecordType::Srv => "SRV",
            RecordType::Any => "ANY",
        }
    }

    /// Case does not matter: `mx` is MX.
    pub fn parse(input: &str) -> Result<RecordType> {
        RecordType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(input))
            .ok_or_else(|| Error::DnsType(input.to_string()))
    }

    /// "A, AAAA, CNAME ... ANY", for messages.
    pub fn known() -> String {
        RecordType::ALL.map(RecordType::as_str).join(", ")
    }

    fn wire(self) -> WireType {
        match self {
            RecordType::A => WireType::A,
            RecordType::Aaaa => WireType::AAAA,
            RecordType::Cname => WireType::CNAME,
            RecordType::Mx => WireType::MX,
            RecordType::Txt => WireType::TXT,
            RecordType::Ns => WireType::NS,
            RecordType::Soa => WireType::SOA,
            RecordType::Ptr => WireType::PTR,
            RecordType::Srv => WireType::SRV,
            RecordType::Any => WireType::ANY,
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordType {
    type Err = Error;
    fn from_str(s: &str) -> Result<RecordType> {
        RecordType::parse(s)
    }
}

impl Serialize for RecordType {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The transport a query went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Udp,
    Tcp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Udp => "udp",
            Protocol::Tcp => "tcp",
        })
    }
}

/// What to ask, and whom.
#[derive(Debug, Clone)]
pub struct Query {
    pub target: Target,
    /// Empty: A and AAAA for a name, PTR for an address.
    pub types: Vec<RecordType>,
    /// None: the nameservers of /etc/resolv.conf.
    pub server: Option<HostPort>,
    /// UDP (with TCP when the answer is truncated), or TCP only.
    pub protocol: Protocol,
    /// For each server. None: resolv.conf's `options timeout:` for its servers, else
    /// [`DEFAULT_TIMEOUT`].
    pub timeout: Option<Duration>,
}

impl Query {
    pub fn new(target: Target) -> Query {
        Query {
            target,
            types: Vec::new(),
            server: None,
            protocol: Protocol::Udp,
            timeout: None,
        }
    }

    /// The types that will be asked, in order, each once.
    pub fn effective_types(&self) -> Vec<RecordType> {
        let mut types: Vec<RecordType> = Vec::new();
        for t in &self.types {
            if !types.contains(t) {
                types.push(*t);
            }
        }
        if types.is_empty() {
            types = match self.target.reverse_of {
                Some(_) => vec![RecordType::Ptr],
                None => vec![RecordType::A, RecordType::Aaaa],
            };
        }
        types
    }
}

/// Everything the server said, for every type asked.
#[derive(Debug, Clone, Serialize)]
pub struct DnsReport {
    /// The name asked, absolute and in wire form (`a.test.`, `1.2.0.192.in-addr.arpa.`).
    pub name: String,
    /// The address typed, for a reverse lookup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverse_of: Option<IpAddr>,
    pub types: Vec<RecordType>,
    /// The server that answered the first type (the others' are under `queries`; they
    /// differ only when a server failed midway).
    pub server: SocketAddr,
    pub protocol: Protocol,
    /// The response code: `NOERROR`, or the first other code in the order of `types`.
    pub status: String,
    /// From the first query sent to the last answer.
    pub elapsed_ms: f64,
    /// The answer sections, in the order of `types`.
    pub answers: Vec<Answer>,
    /// The authority sections (an SOA with NXDOMAIN or an empty answer; NS referrals).
    pub authority: Vec<Answer>,
    /// One per type: who answered, how, how fast.
    pub queries: Vec<QueryResult>,
}

/// One type's question and its answer's header.
#[derive(Debug, Clone, Serialize)]
pub struct QueryResult {
    #[serde(rename = "type")]
    pub rtype: RecordType,
    pub server: SocketAddr,
    pub protocol: Protocol,
    /// The answer over UDP was truncated (TC), so this one was asked again over TCP.
    pub truncated_udp: bool,
    pub status: String,
    /// The AA bit: the server is an authority for the name rather than a cache.
    pub authoritative: bool,
    /// The RA bit: the server offers recursion.
    pub recursion_available: bool,
    pub elapsed_ms: f64,
    pub answers: usize,
    /// Servers asked before this one that gave no answer, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
}

impl DnsReport {
    /// The error to exit with when the server answered but not with NOERROR.
    pub fn failure(&self) -> Option<Error> {
        let q = self.queries.iter().find(|q| q.status != "NOERROR")?;
        Some(Error::DnsStatus {
            name: self.name.clone(),
            status: q.status.clone(),
            server: q.server.to_string(),
        })
    }
}

/// The message of a non-NOERROR answer, for [`Error::DnsStatus`].
pub(crate) fn status_line(name: &str, status: &str, server: &str) -> String {
    match status {
        "NXDOMAIN" => format!("{name} does not exist (NXDOMAIN from {server})"),
        "SERVFAIL" => format!(
            "{server} failed to answer for {name} (SERVFAIL: it could not produce an answer; its upstream servers may have failed, or DNSSEC validation did)"
        ),
        "REFUSED" => format!(
            "{server} refused to answer for {name} (REFUSED: it does not serve this name, or not to this client)"
        ),
        other => format!("{server} answered {other} for {name}"),
    }
}

/// The mnemonic of a response code (RFC 1035 4.1.1, RFC 6895 2.3).
fn rcode_name(code: u16) -> String {
    match code {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        6 => "YXDOMAIN".into(),
        7 => "YXRRSET".into(),
        8 => "NXRRSET".into(),
        9 => "NOTAUTH".into(),
        10 => "NOTZONE".into(),
        16 => "BADVERS".into(),
        n => format!("RCODE{n}"),
    }
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Asks every type of `query` and reports what the server said. An answer of any response
/// code is a report (see [`DnsReport::failure`]); an error means no server answered.
pub async fn lookup(query: &Query) -> Result<DnsReport> {
    let (servers, conf_timeout) = match &query.server {
        Some(server) => (socklab_core::transport::tcp::resolve(server).await?, None),
        None => {
            let conf = ResolvConf::read(Path::new(RESOLV_CONF))?;
            if conf.nameservers.is_empty() {
                return Err(Error::DnsNoServers {
                    path: RESOLV_CONF.into(),
                });
            }
            (conf.nameservers, conf.timeout)
        }
    };
    let timeout = query.timeout.or(conf_timeout).unwrap_or(DEFAULT_TIMEOUT);
    let name = query.target.to_name()?;
    let types = query.effective_types();
    let mut requests = Vec::with_capacity(types.len());
    for t in &types {
        let mut message = Message::query();
        message.metadata.recursion_desired = true;
        message.add_query(Question::query(name.clone(), t.wire()));
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_PAYLOAD);
        message.set_edns(edns);
        let bytes = message.to_vec().map_err(|e| Error::DnsName {
            input: query.target.name.clone(),
            reason: e.to_string(),
        })?;
        requests.push(Request {
            bytes,
            id: message.metadata.id,
            name: name.clone(),
            rtype: t.wire(),
        });
    }
    let start = Instant::now();
    let outcomes = futures_util::future::join_all(
        requests
            .iter()
            .map(|r| ask_in_turn(&servers, r, query.protocol, timeout)),
    )
    .await;
    let elapsed = start.elapsed();

    let mut answered = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        match outcome {
            Ok(a) => answered.push(a),
            Err(failures) => {
                return Err(Error::DnsNoAnswer {
                    name: query.target.name.clone(),
                    failures: failures.iter().map(ToString::to_string).collect(),
                })
            }
        }
    }
    let mut answers = Vec::new();
    let mut authority = Vec::new();
    let mut queries = Vec::new();
    for (t, (server, reply, failed)) in types.iter().zip(answered) {
        let message = &reply.message;
        answers.extend(message.answers.iter().map(Answer::from_record));
        authority.extend(message.authorities.iter().map(Answer::from_record));
        queries.push(QueryResult {
            rtype: *t,
            server,
            protocol: reply.protocol,
            truncated_udp: reply.truncated_udp,
            status: rcode_name(u16::from(message.metadata.response_code)),
            authoritative: message.metadata.authoritative,
            recursion_available: message.metadata.recursion_available,
            elapsed_ms: millis(reply.elapsed),
            answers: message.answers.len(),
            failed: failed.iter().map(ToString::to_string).collect(),
        });
    }
    // effective_types() is never empty, so there is always a first query.
    let first = queries.first().expect("at least one type is asked");
    let status = queries
        .iter()
        .map(|q| q.status.clone())
        .find(|s| s != "NOERROR")
        .unwrap_or_else(|| "NOERROR".into());
    Ok(DnsReport {
        name: query.target.name.clone(),
        reverse_of: query.target.reverse_of,
        types,
        server: first.server,
        protocol: first.protocol,
        status,
        elapsed_ms: millis(elapsed),
        answers,
        authority,
        queries,
    })
}

/// Asks each server in turn until one answers; the failures of those before it come along.
async fn ask_in_turn(
    servers: &[SocketAddr],
    request: &Request,
    protocol: Protocol,
    timeout: Duration,
) -> std::result::Result<(SocketAddr, Reply, Vec<Failure>), Vec<Failure>> {
    let mut failures = Vec::new();
    for &server in servers {
        match exchange::ask(server, request, protocol, timeout).await {
            Ok(reply) => return Ok((server, reply, failures)),
            Err(f) => failures.push(f),
        }
    }
    Err(failures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse_without_regard_to_case() {
        assert_eq!(RecordType::parse("mx").unwrap(), RecordType::Mx);
        assert_eq!(RecordType::parse("AAAA").unwrap(), RecordType::Aaaa);
        let e = RecordType::parse("AXFR").unwrap_err();
        assert!(e.is_usage());
        let text = e.to_string();
        assert!(text.contains("'AXFR'"), "{text}");
        assert!(
            text.contains("A, AAAA, CNAME, MX, TXT, NS, SOA, PTR, SRV, ANY"),
            "{text}"
        );
    }

    #[test]
    fn default_types_follow_host() {
        let q = Query::new(Target::parse("a.test").unwrap());
        assert_eq!(q.effective_types(), [RecordType::A, RecordType::Aaaa]);
        let q = Query::new(Target::parse("192.0.2.1").unwrap());
        assert_eq!(q.effective_types(), [RecordType::Ptr]);
        let mut q = Query::new(Target::parse("a.test").unwrap());
        q.types = vec![RecordType::Mx, RecordType::Txt, RecordType::Mx];
        assert_eq!(q.effective_types(), [RecordType::Mx, RecordType::Txt]);
    }

    #[test]
    fn response_codes_have_their_mnemonics() {
        assert_eq!(rcode_name(3), "NXDOMAIN");
        assert_eq!(rcode_name(5), "REFUSED");
        assert_eq!(rcode_name(23), "RCODE23");
    }
}
