//! `socklab ifaces`: asks socklab-net for the interfaces, prints them.

use std::process::ExitCode;

use clap::Args;
use socklab_net::ifaces;

use crate::printer::style::{Style, PEER, STATUS};
use crate::report::{self, Table};

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  socklab ifaces            every interface, its addresses and masks, the default gateway
  socklab ifaces eth0
  socklab ifaces --json")]
pub struct IfacesArgs {
    /// Show only this interface
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// One JSON document on stdout (see the README for the fields)
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: IfacesArgs) -> anyhow::Result<ExitCode> {
    let r = ifaces::list(args.name.as_deref())?;
    if args.json {
        report::print_json(&r)?;
        return Ok(ExitCode::SUCCESS);
    }
    let style = Style::for_stdout();
    let mut out = Vec::new();
    for i in &r.interfaces {
        style.paint(&mut out, PEER, &i.name);
        let mut head = format!("  {}", i.state);
        if let Some(mtu) = i.mtu {
            head.push_str(&format!("  mtu {mtu}"));
        }
        if let Some(mac) = &i.mac {
            head.push_str(&format!("  mac {mac}"));
        }
        head.push_str(&format!("  {}", i.kind));
        if i.default {
            head.push_str("  (default)");
        }
        out.extend_from_slice(head.as_bytes());
        out.push(b'\n');
        let mut t = Table::new::<&str>([]);
        for a in &i.ipv4 {
            let mut row = vec![
                "  ipv4".to_string(),
                format!("{}/{}", a.address, a.prefix),
                format!("mask {}", a.netmask),
                format!("network {}", a.network),
            ];
            if let Some(b) = &a.broadcast {
                row.push(format!("broadcast {b}"));
            }
            t.row(row);
        }
        for a in &i.ipv6 {
            t.row([
                "  ipv6".to_string(),
                format!("{}/{}", a.address, a.prefix),
                format!("scope {}", a.scope),
            ]);
        }
        if t.is_empty() {
            style.paint(&mut out, STATUS, "  no addresses\n");
        } else {
            out.extend_from_slice(t.render(style).as_bytes());
        }
    }
    if args.name.is_none() {
        out.push(b'\n');
        if r.gateways.is_empty() {
            out.extend_from_slice(b"no default gateway\n");
        }
        for g in &r.gateways {
            let mac = g
                .mac
                .as_deref()
                .map(|m| format!(" (mac {m})"))
                .unwrap_or_default();
            out.extend_from_slice(
                format!("default gateway {} via {}{mac}\n", g.address, g.interface).as_bytes(),
            );
        }
    }
    report::print(&String::from_utf8_lossy(&out))?;
    Ok(ExitCode::SUCCESS)
}
