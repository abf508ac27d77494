//! `socklab ports`: parses its arguments, looks the query up in socklab-net's catalog
//! (built-in table and /etc/services), prints what matched.
//!
//! Like grep, it exits 1 when nothing matched, so scripts can test for a known port.

use std::process::ExitCode;

use clap::Args;
use socklab_net::ports::{Catalog, Service, Source};

use crate::printer::style::Style;
use crate::report::{self, Table};

#[derive(Debug, Args)]
pub struct PortsArgs {
    /// A port (6379), a name (redis) or a word (database), optionally with /tcp or /udp;
    /// without it, the built-in table
    pub query: Option<String>,
    /// One JSON document on stdout (see the README for the fields)
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: PortsArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::system();
    let found = match &args.query {
        None => catalog.builtin_services(),
        Some(q) => catalog.lookup(q)?,
    };
    if args.json {
        report::print_json(&found)?;
    } else if !found.is_empty() {
        report::print(&table(&found).render(Style::for_stdout()))?;
    }
    if found.is_empty() {
        if !args.json {
            eprintln!(
                "socklab: no well-known port matches '{}'; expected a port number, a service name such as redis, or a word such as database",
                args.query.as_deref().unwrap_or_default()
            );
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn table(found: &[Service]) -> Table {
    let mut table = Table::new(["PORT", "SERVICE", "ALSO", "DESCRIPTION"]).right_align(&[0]);
    for s in found {
        let description = match (s.description.is_empty(), s.source) {
            (true, Source::EtcServices) => "(from /etc/services)".to_string(),
            _ => s.description.clone(),
        };
        table.row([
            format!("{}/{}", s.port, s.protocol.name()),
            s.name.clone(),
            s.aliases.join(","),
            description,
        ]);
    }
    table
}
