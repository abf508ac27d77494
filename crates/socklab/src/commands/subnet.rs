//! `socklab subnet`: parses its arguments, asks socklab-net for the report, prints it.

use std::process::ExitCode;

use clap::Args;
use socklab_net::subnet;

use crate::printer::style::{Style, ERROR, RECEIVED};
use crate::report::{self, Table};

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  socklab subnet 192.168.1.0/24
  socklab subnet 192.168.1.1 255.255.255.0 192.168.1.2    same network?
  socklab subnet 2001:db8::1/64")]
pub struct SubnetArgs {
    /// CIDR (192.168.1.0/24), IP/MASK (192.168.1.1/255.255.255.0) or IP MASK, then any
    /// addresses to test for being in that network
    #[arg(value_name = "NETWORK", required = true, num_args = 1..)]
    pub args: Vec<String>,
    /// One JSON document on stdout (see the README for the fields)
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: SubnetArgs) -> anyhow::Result<ExitCode> {
    let query = subnet::parse_args(&args.args)?;
    let r = subnet::calculate(&query);
    if args.json {
        report::print_json(&r)?;
        return Ok(ExitCode::SUCCESS);
    }
    let style = Style::for_stdout();
    let mut t = Table::new::<&str>([]);
    t.row(["Address", &r.address]);
    t.row(["Network", &r.cidr]);
    t.row(["Netmask", &format!("{} = /{}", r.netmask, r.prefix)]);
    if let Some(w) = &r.wildcard {
        t.row(["Wildcard", w]);
    }
    let broadcast = match (&r.broadcast, r.version, r.prefix) {
        (Some(b), _, _) => b.clone(),
        (None, "ipv6", _) => "none (IPv6 has no broadcast; it uses multicast)".into(),
        (None, _, 31) => "none (/31: a point-to-point link, RFC 3021)".into(),
        (None, _, _) => "none (/32: a single host)".into(),
    };
    t.row(["Broadcast", &broadcast]);
    t.row(["First host", &r.first_host]);
    t.row(["Last host", &r.last_host]);
    t.row(["Hosts", &r.hosts]);
    t.row(["Addresses", &r.addresses]);
    if let Some(c) = r.class {
        t.row([
            "Class",
            &format!("{c} (historic; networks are classless since 1993)"),
        ]);
    }
    if !r.kinds.is_empty() {
        t.row(["Kind", &r.kinds.join(", ")]);
    }
    let mut out = t.render(style);
    if !r.checks.is_empty() {
        out.push('\n');
        let mut checks = Table::new::<&str>([]);
        for c in &r.checks {
            let mut verdict = Vec::new();
            if c.same_network {
                style.paint(&mut verdict, RECEIVED, &format!("in {}", r.cidr));
            } else {
                let why = c
                    .note
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                style.paint(&mut verdict, ERROR, &format!("not in {}{why}", r.cidr));
            }
            checks.row([
                c.address.clone(),
                String::from_utf8_lossy(&verdict).into_owned(),
            ]);
        }
        out.push_str(&checks.render(style));
    }
    report::print(&out)?;
    Ok(ExitCode::SUCCESS)
}
