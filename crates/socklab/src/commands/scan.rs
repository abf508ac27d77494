//! `socklab scan`: parses its arguments, asks socklab-net to scan, prints the open ports.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use socklab_core::error::humanize;
use socklab_net::host::Target;
use socklab_net::scan::{self, Options};

use crate::printer::style::Style;
use crate::report::{self, Table};

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The host: a name, an IPv4 or IPv6 address
    pub host: String,
    /// Ports and ranges, such as 22,80,8000-8100 (repeats are merged)
    pub ports: String,
    /// How long a connect may take before the port counts as filtered
    #[arg(long, value_name = "DUR", default_value = "1s",
          value_parser = crate::commands::ping::positive_duration)]
    pub timeout: Duration,
    /// Connects in flight at once (1-1000)
    #[arg(long, value_name = "N", default_value_t = scan::DEFAULT_CONCURRENCY,
          value_parser = parse_concurrency)]
    pub concurrency: usize,
    /// One JSON document on stdout (see the README for the fields)
    #[arg(long)]
    pub json: bool,
}

fn parse_concurrency(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=scan::MAX_CONCURRENCY).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a number from 1 to {}",
            scan::MAX_CONCURRENCY
        )),
    }
}

pub async fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    // Both arguments are checked before anything goes on the network.
    let ports = scan::parse_ports(&args.ports)?;
    let target = Target::parse_host(&args.host)?;
    let address = target.resolve().await?;
    let opts = Options {
        timeout: args.timeout,
        concurrency: args.concurrency,
    };
    if !args.json {
        let mut head = String::new();
        if target.ip.is_none() {
            head.push_str(&format!("{} resolved to {address}\n", target.host));
        }
        let n = ports.len();
        head.push_str(&format!(
            "scanning {address}: {n} TCP port{}, {} at a time, timeout {}\n",
            if n == 1 { "" } else { "s" },
            opts.concurrency.min(n),
            humanize(opts.timeout)
        ));
        report::print(&head)?;
    }
    let found = scan::scan(&target, address, &ports, &opts).await?;
    if args.json {
        report::print_json(&found)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut text = String::new();
    if found.open.is_empty() {
        text.push_str("no open ports\n");
    } else {
        let mut table = Table::new(["PORT", "STATE", "SERVICE"]);
        for o in &found.open {
            table.row([
                format!("{}/tcp", o.port),
                "open".to_string(),
                o.service.clone().unwrap_or_default(),
            ]);
        }
        text.push_str(&table.render(Style::for_stdout()));
    }
    text.push_str(&format!(
        "{} port{} in {}: {} open, {} closed (refused), {} filtered (no answer within {})\n",
        found.ports_scanned,
        if found.ports_scanned == 1 { "" } else { "s" },
        humanize(Duration::from_secs_f64(found.elapsed_ms / 1000.0)),
        found.open.len(),
        found.closed,
        found.filtered,
        humanize(opts.timeout)
    ));
    report::print(&text)?;
    Ok(ExitCode::SUCCESS)
}
