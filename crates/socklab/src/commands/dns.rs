//! `socklab dns`: parses its arguments, asks socklab-net for the report, prints it.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use socklab_net::dns::{self, DnsReport, Fields, Protocol, Query, QueryResult, RecordType};

use crate::printer::style::{self, Style};
use crate::report::{self, Table};
use crate::UsageError;

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  socklab dns example.com                      A and AAAA from the system's resolvers
  socklab dns example.com --type MX,TXT        several types at once
  socklab dns _sip._tcp.example.com --type SRV
  socklab dns 192.0.2.1                        the name of an address (PTR)
  socklab dns example.com --server 127.0.0.1:5353 --tcp --json")]
pub struct DnsArgs {
    /// The name to look up, or an IP address to find its name (a PTR lookup)
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Record type: A, AAAA, CNAME, MX, TXT, NS, SOA, PTR, SRV or ANY; repeat the option or
    /// separate with commas [default: A and AAAA, or PTR for an address]
    #[arg(long = "type", value_name = "TYPE", value_delimiter = ',')]
    pub types: Vec<String>,
    /// The DNS server to ask, HOST[:PORT] (port 53 unless given) [default: the nameservers
    /// of /etc/resolv.conf, in turn]
    #[arg(long, value_name = "HOST[:PORT]")]
    pub server: Option<String>,
    /// Ask over TCP only [default: UDP, and TCP again when the UDP answer is truncated]
    #[arg(long)]
    pub tcp: bool,
    /// How long to wait for each server [default: resolv.conf's options timeout:, else 5s]
    #[arg(long, value_name = "DUR", value_parser = crate::cli::parse_duration)]
    pub timeout: Option<Duration>,
    /// One JSON document on stdout (see the README for the fields)
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: DnsArgs) -> anyhow::Result<ExitCode> {
    let query = query(&args)?;
    let report = dns::lookup(&query).await?;
    if args.json {
        report::print_json(&report)?;
    } else {
        report::print(&render(&report, Style::for_stdout()))?;
    }
    // NXDOMAIN, SERVFAIL, REFUSED: the report is shown (scripts get the status in JSON),
    // and the exit status says the name was not found, as `host` does.
    match report.failure() {
        Some(e) => Err(e.into()),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// Everything the user typed, checked before anything is sent.
fn query(args: &DnsArgs) -> anyhow::Result<Query> {
    let mut query = Query::new(dns::Target::parse(&args.name)?);
    for t in &args.types {
        query.types.push(RecordType::parse(t.trim())?);
    }
    query.server = args.server.as_deref().map(dns::parse_server).transpose()?;
    query.protocol = if args.tcp {
        Protocol::Tcp
    } else {
        Protocol::Udp
    };
    if args.timeout.is_some_and(|t| t.is_zero()) {
        return Err(UsageError(
            "--timeout 0 would give up before any answer; expected a duration such as 500ms or 5s"
                .into(),
        )
        .into());
    }
    query.timeout = args.timeout;
    Ok(query)
}

/// The answers as a table (the authority section as a second one), then who answered how
/// fast.
fn render(report: &DnsReport, style: Style) -> String {
    let mut out = String::new();
    out.push_str(&records(&report.answers, style));
    if !report.authority.is_empty() {
        let mut label = Vec::new();
        style.paint(&mut label, style::STATUS, "authority section:");
        out.push_str(&String::from_utf8_lossy(&label));
        out.push('\n');
        out.push_str(&records(&report.authority, style));
    }
    let mut notes = Vec::new();
    for f in report.queries.iter().flat_map(|q| &q.failed) {
        let line = format!("{f}; asked the next server");
        if !notes.contains(&line) {
            notes.push(line);
        }
    }
    for q in &report.queries {
        if q.status == "NOERROR" && q.answers == 0 {
            notes.push(format!("no {} record for {}", q.rtype, report.name));
        }
    }
    notes.extend(summary(&report.queries));
    let mut dim = Vec::new();
    for line in notes {
        style.paint(&mut dim, style::STATUS, &line);
        dim.push(b'\n');
    }
    out.push_str(&String::from_utf8_lossy(&dim));
    out
}

fn records(answers: &[dns::Answer], style: Style) -> String {
    if answers.is_empty() {
        return String::new();
    }
    let mut table = Table::new(["name", "TTL", "class", "type", "data"]).right_align(&[1]);
    for a in answers {
        table.row([
            a.name.clone(),
            a.ttl.to_string(),
            a.class.clone(),
            a.rtype.clone(),
            readable(a),
        ]);
    }
    table.render(style)
}

/// The data with its fields named where the zone-file form is a row of bare numbers.
fn readable(a: &dns::Answer) -> String {
    match &a.fields {
        Some(Fields::Mx {
            preference,
            exchange,
        }) => format!("preference {preference}, exchange {exchange}"),
        Some(Fields::Srv {
            priority,
            weight,
            port,
            target,
        }) => format!("priority {priority}, weight {weight}, port {port}, target {target}"),
        Some(Fields::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        }) => format!(
            "primary {mname}, mailbox {rname}, serial {serial}, refresh {refresh}, retry {retry}, expire {expire}, minimum {minimum}"
        ),
        _ => a.data.clone(),
    }
}

/// "server 127.0.0.1:53 (udp) answered A in 0.41 ms, AAAA in 0.43 ms": one line per run of
/// queries that the same server answered the same way.
fn summary(queries: &[QueryResult]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut i = 0;
    while i < queries.len() {
        let first = &queries[i];
        let same = queries[i..]
            .iter()
            .take_while(|q| {
                q.server == first.server
                    && q.protocol == first.protocol
                    && q.truncated_udp == first.truncated_udp
            })
            .count();
        let group = &queries[i..i + same];
        let how = if first.truncated_udp {
            "tcp, after a truncated udp answer".to_string()
        } else {
            first.protocol.to_string()
        };
        let times: Vec<String> = group
            .iter()
            .map(|q| {
                let status = if q.status == "NOERROR" {
                    String::new()
                } else {
                    format!(" ({})", q.status)
                };
                if group.len() == 1 {
                    format!("in {}{status}", millis(q.elapsed_ms))
                } else {
                    format!("{} in {}{status}", q.rtype, millis(q.elapsed_ms))
                }
            })
            .collect();
        lines.push(format!(
            "server {} ({how}) answered {}",
            first.server,
            times.join(", ")
        ));
        i += same;
    }
    lines
}

/// Two significant decimals below 10 ms, where loopback answers live.
fn millis(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(rtype: RecordType, server: &str, status: &str, failed: &[&str]) -> QueryResult {
        QueryResult {
            rtype,
            server: server.parse().unwrap(),
            protocol: Protocol::Udp,
            truncated_udp: false,
            status: status.into(),
            authoritative: false,
            recursion_available: true,
            elapsed_ms: 0.5,
            answers: 0,
            failed: failed.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn one_summary_line_per_server_and_each_failure_once() {
        // The first resolv.conf server was silent for both types; the second answered A,
        // and a third answered AAAA after the second failed too.
        let silent = "no answer from 192.0.2.1:53 (udp) within 5s";
        let report = DnsReport {
            name: "a.test.".into(),
            reverse_of: None,
            types: vec![RecordType::A, RecordType::Aaaa],
            server: "192.0.2.2:53".parse().unwrap(),
            protocol: Protocol::Udp,
            status: "NXDOMAIN".into(),
            elapsed_ms: 1.0,
            answers: Vec::new(),
            authority: Vec::new(),
            queries: vec![
                query(RecordType::A, "192.0.2.2:53", "NXDOMAIN", &[silent]),
                query(RecordType::Aaaa, "192.0.2.3:53", "NOERROR", &[silent, "x"]),
            ],
        };
        assert_eq!(
            render(&report, Style::plain()),
            "no answer from 192.0.2.1:53 (udp) within 5s; asked the next server\n\
             x; asked the next server\n\
             no AAAA record for a.test.\n\
             server 192.0.2.2:53 (udp) answered in 0.50 ms (NXDOMAIN)\n\
             server 192.0.2.3:53 (udp) answered in 0.50 ms\n"
        );
    }

    #[test]
    fn times_read_well_at_every_scale() {
        assert_eq!(millis(0.4123), "0.41 ms");
        assert_eq!(millis(12.34), "12.3 ms");
        assert_eq!(millis(1234.0), "1.23 s");
    }
}
