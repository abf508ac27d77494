//! `socklab ping`: parses its arguments, runs socklab-net's pinger and prints each try as
//! it completes, then the summary (also on Ctrl-C), or with `--json` one document.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use socklab_core::error::humanize;
use socklab_net::ping::{IcmpSocket, Mode, Options, Pinger, Report, Target, Try};
use tokio::sync::Notify;

use crate::printer::style::{self, Style};
use crate::report;

#[derive(Debug, Args)]
pub struct PingArgs {
    /// HOST:PORT for a TCP connect ping (like tcping), or HOST alone for ICMP echo;
    /// IPv6 as [::1]:7788 or ::1
    #[arg(value_name = "HOST[:PORT]")]
    pub target: String,
    /// Number of tries; 0 = until Ctrl-C
    #[arg(short = 'c', long, value_name = "N", default_value = "4",
          value_parser = parse_count, allow_negative_numbers = true)]
    pub count: u32,
    /// Time from one try to the next
    #[arg(short = 'i', long, value_name = "DUR", default_value = "1s", value_parser = positive_duration)]
    pub interval: Duration,
    /// How long one try waits for its connection or reply
    #[arg(short = 'W', long, value_name = "DUR", default_value = "2s", value_parser = positive_duration)]
    pub timeout: Duration,
    /// One JSON document on stdout (see the README for the fields)
    #[arg(long)]
    pub json: bool,
}

fn parse_count(s: &str) -> Result<u32, String> {
    s.parse::<u32>()
        .map_err(|_| "expected a number of tries, 0 or more (0 = until Ctrl-C)".to_string())
}

/// A duration that must be more than zero (an interval or a timeout of 0 means nothing).
pub(crate) fn positive_duration(s: &str) -> Result<Duration, String> {
    let d = crate::cli::parse_duration(s)?;
    if d.is_zero() {
        return Err(format!(
            "'{s}' is zero; expected more than 0, such as 500ms or 1s"
        ));
    }
    Ok(d)
}

pub async fn run(args: PingArgs) -> anyhow::Result<ExitCode> {
    let target = Target::parse(&args.target)?;
    let pinger = Pinger::new(target).await?;
    let style = Style::for_stdout();
    let opts = Options {
        count: args.count,
        interval: args.interval,
        timeout: args.timeout,
        // Only the JSON document lists the tries; the text prints them as they come, so
        // an endless run keeps no history.
        keep_tries: args.json,
    };
    if !args.json {
        report::print(&header(&pinger, &opts))?;
    }

    // Ctrl-C ends the run with its summary, and so does a reader that went away (`| head`),
    // or an endless run would go on pinging with nobody reading.
    let stopped = Notify::new();
    let mut write_error = None;
    let address = pinger.address();
    let port = pinger.target().port;
    let json = args.json;
    let stop = async {
        tokio::select! {
            r = tokio::signal::ctrl_c() => {
                if r.is_err() {
                    // No handler could be installed: only a closed stdout stops us.
                    stopped.notified().await;
                }
            }
            _ = stopped.notified() => {}
        }
    };
    let on_try = |t: &Try| {
        if json || write_error.is_some() {
            return;
        }
        let line = try_line(t, address, port, style);
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(line.as_bytes()).and_then(|()| out.flush()) {
            write_error = Some(e);
            stopped.notify_one();
        }
    };
    let report = pinger.run(&opts, on_try, stop).await?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    if args.json {
        report::print_json(&report)?;
    } else {
        report::print(&summary(&report))?;
    }
    Ok(if report.summary.received > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn header(pinger: &Pinger, opts: &Options) -> String {
    let target = pinger.target();
    let address = pinger.address();
    let mut text = String::new();
    if target.ip.is_none() {
        text.push_str(&format!("{} resolved to {address}\n", target.host));
    }
    let tries = match opts.count {
        0 => "until Ctrl-C".to_string(),
        1 => "1 try".to_string(),
        n => format!("{n} tries"),
    };
    let what = match (pinger.mode(), pinger.icmp_socket()) {
        (Mode::Tcp, _) => format!(
            "TCP connect to {}",
            std::net::SocketAddr::new(address, target.port.unwrap_or(0))
        ),
        (Mode::Icmp, Some(IcmpSocket::Raw)) => format!("ICMP echo to {address} (raw socket)"),
        (Mode::Icmp, _) => format!("ICMP echo to {address} (unprivileged ICMP socket)"),
    };
    text.push_str(&format!(
        "{what}: {tries}, every {}, timeout {}\n",
        humanize(opts.interval),
        humanize(opts.timeout)
    ));
    text
}

fn try_line(t: &Try, address: std::net::IpAddr, port: Option<u16>, style: Style) -> String {
    let peer = match port {
        Some(p) => std::net::SocketAddr::new(address, p).to_string(),
        None => address.to_string(),
    };
    let mut out = Vec::new();
    match (t.ok, t.time_ms, port.is_some()) {
        (true, Some(ms), tcp) => {
            let verb = if tcp { "connected to" } else { "reply from" };
            style.paint(
                &mut out,
                style::RECEIVED,
                &format!("{verb} {peer}: seq={} time={} ms", t.seq, ms_text(ms)),
            );
        }
        (_, _, tcp) => {
            let verb = if tcp {
                "no connection to"
            } else {
                "no reply from"
            };
            let why = t.error.as_deref().unwrap_or("failed");
            style.paint(
                &mut out,
                style::ERROR,
                &format!("{verb} {peer}: seq={} {why}", t.seq),
            );
        }
    }
    out.push(b'\n');
    String::from_utf8_lossy(&out).into_owned()
}

/// As ping prints times: three significant digits or so (0.045, 1.23, 12.3, 123).
fn ms_text(ms: f64) -> String {
    match ms {
        m if m < 1.0 => format!("{m:.3}"),
        m if m < 10.0 => format!("{m:.2}"),
        m if m < 100.0 => format!("{m:.1}"),
        m => format!("{m:.0}"),
    }
}

fn summary(r: &Report) -> String {
    let s = &r.summary;
    let loss = if s.loss_percent.fract() == 0.0 {
        format!("{:.0}%", s.loss_percent)
    } else {
        format!("{:.1}%", s.loss_percent)
    };
    let mut text = format!("\n--- {} ping statistics ---\n", r.target);
    text.push_str(&match r.mode {
        Mode::Tcp => format!(
            "{} {}, {} connected, {loss} loss\n",
            s.sent,
            if s.sent == 1 { "try" } else { "tries" },
            s.received
        ),
        Mode::Icmp => format!("{} sent, {} received, {loss} loss\n", s.sent, s.received),
    });
    if let (Some(min), Some(avg), Some(max), Some(sd)) = (s.min_ms, s.avg_ms, s.max_ms, s.stddev_ms)
    {
        text.push_str(&format!(
            "time min/avg/max/stddev = {min:.3}/{avg:.3}/{max:.3}/{sd:.3} ms\n"
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_like_ping() {
        assert_eq!(ms_text(0.0451), "0.045");
        assert_eq!(ms_text(1.234), "1.23");
        assert_eq!(ms_text(12.34), "12.3");
        assert_eq!(ms_text(1234.4), "1234");
    }

    #[test]
    fn zero_durations_are_refused() {
        assert!(positive_duration("0s").unwrap_err().contains("more than 0"));
        assert!(positive_duration("0").is_err());
        assert_eq!(positive_duration("250ms"), Ok(Duration::from_millis(250)));
    }
}
