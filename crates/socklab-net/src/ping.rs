//! `socklab ping`: how long a host takes to answer, try after try.
//!
//! With a port, each try is a TCP connect (as tcping does): the time from the SYN to the
//! completed handshake, which works everywhere without privileges and measures the path a
//! real client takes. Without a port, each try is an ICMP echo (as ping does), through an
//! unprivileged ICMP socket where `net.ipv4.ping_group_range` allows one, or a raw socket
//! where the process has CAP_NET_RAW (root), the way iputils' ping falls back.
//!
//! The library is a stream: [`Pinger::run`] hands each [`Try`] to a callback as it
//! completes, so the command line prints a line per try and the UIs can chart them, and it
//! returns the whole [`Report`] at the end (or when the `stop` future fires: Ctrl-C).

mod icmp;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;
use tokio::net::TcpStream;
use tokio::time::Instant;

use socklab_core::error::humanize;

use crate::host::io_words;
pub use crate::host::Target;
use crate::{Error, Result};

/// How a try is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Tcp,
    Icmp,
}

/// Which ICMP socket the kernel gave us: worth saying, because it explains why ping works
/// for root and not for others (or the other way round).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IcmpSocket {
    /// `SOCK_DGRAM` + `IPPROTO_ICMP`: no privilege, the kernel picks the identifier and
    /// delivers only our replies. Allowed for the groups in `net.ipv4.ping_group_range`.
    Unprivileged,
    /// `SOCK_RAW`: needs CAP_NET_RAW and sees every ICMP packet, so replies are matched by
    /// identifier, sequence and a token in the payload.
    Raw,
}

/// How many tries and how fast.
#[derive(Debug, Clone)]
pub struct Options {
    /// Number of tries; 0 means until `stop` fires.
    pub count: u32,
    /// From the start of one try to the start of the next (a try slower than this delays
    /// the next; tries never overlap, so each measures the path alone).
    pub interval: Duration,
    /// How long one try waits for its connection or reply.
    pub timeout: Duration,
    /// Keep every try in the report. A long `count: 0` run that only needs the summary
    /// (or charts the tries itself) turns this off, so memory stays bounded.
    pub keep_tries: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            count: 4,
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
            keep_tries: true,
        }
    }
}

/// One try: a connection made (or an echo answered) in `time_ms`, or what went wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Try {
    /// 1 for the first try.
    pub seq: u32,
    pub ok: bool,
    /// Set when `ok`.
    pub time_ms: Option<f64>,
    /// Set when not `ok`: "refused", "timed out after 2s", "host unreachable" ...
    pub error: Option<String>,
}

/// Totals over the tries; the times are over the successful ones only, and are `None`
/// when there were none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub sent: u32,
    pub received: u32,
    /// 0 when nothing was sent.
    pub loss_percent: f64,
    pub min_ms: Option<f64>,
    pub avg_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// Population standard deviation, what ping calls mdev.
    pub stddev_ms: Option<f64>,
}

/// Everything a run found; `--json` prints it as it is.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The host (and port) as given.
    pub target: String,
    /// The address pinged (what a name resolved to).
    pub address: IpAddr,
    pub port: Option<u16>,
    pub mode: Mode,
    /// Empty when [`Options::keep_tries`] was off.
    pub tries: Vec<Try>,
    pub summary: Summary,
}

/// Running totals, so that a run of any length needs constant memory for its summary.
/// Welford's update keeps the standard deviation exact without storing the times.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    sent: u32,
    received: u32,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Stats {
    pub fn add(&mut self, t: &Try) {
        self.sent += 1;
        let Some(ms) = t.time_ms.filter(|_| t.ok) else {
            return;
        };
        self.received += 1;
        if self.received == 1 {
            self.min = ms;
            self.max = ms;
        } else {
            self.min = self.min.min(ms);
            self.max = self.max.max(ms);
        }
        let delta = ms - self.mean;
        self.mean += delta / f64::from(self.received);
        self.m2 += delta * (ms - self.mean);
    }

    pub fn summary(&self) -> Summary {
        let loss_percent = if self.sent == 0 {
            0.0
        } else {
            100.0 * f64::from(self.sent - self.received) / f64::from(self.sent)
        };
        let some = |v: f64| (self.received > 0).then_some(v);
        Summary {
            sent: self.sent,
            received: self.received,
            loss_percent,
            min_ms: some(self.min),
            // The running mean can drift a hair outside [min, max] in floating point;
            // clamp it so min <= avg <= max always holds for readers that check.
            avg_ms: some(self.mean.clamp(self.min, self.max)),
            max_ms: some(self.max),
            stddev_ms: some((self.m2 / f64::from(self.received.max(1))).sqrt()),
        }
    }
}

/// A resolved target and, for ICMP, an open socket: everything that can fail before the
/// first try fails in [`Pinger::new`].
pub struct Pinger {
    target: Target,
    address: IpAddr,
    probe: Probe,
}

enum Probe {
    Tcp(SocketAddr),
    Icmp(icmp::Echo),
}

impl Pinger {
    /// Resolves the target and, without a port, opens the ICMP socket (an unprivileged one
    /// if allowed, else a raw one, else [`Error::IcmpNotAllowed`]).
    pub async fn new(target: Target) -> Result<Pinger> {
        let address = target.resolve().await?;
        let probe = match target.port {
            Some(port) => Probe::Tcp(SocketAddr::new(address, port)),
            None => Probe::Icmp(icmp::Echo::open(address)?),
        };
        Ok(Pinger {
            target,
            address,
            probe,
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The address that is pinged (the first the resolver gave for a name).
    pub fn address(&self) -> IpAddr {
        self.address
    }

    pub fn mode(&self) -> Mode {
        match self.probe {
            Probe::Tcp(_) => Mode::Tcp,
            Probe::Icmp(_) => Mode::Icmp,
        }
    }

    /// For ICMP, which kind of socket the kernel allowed.
    pub fn icmp_socket(&self) -> Option<IcmpSocket> {
        match &self.probe {
            Probe::Tcp(_) => None,
            Probe::Icmp(echo) => Some(echo.kind()),
        }
    }

    /// Tries `opts.count` times (forever for 0), calling `on_try` after each, until done or
    /// until `stop` completes. A try still waiting when `stop` fires is not counted: it
    /// has neither succeeded nor timed out.
    pub async fn run(
        &self,
        opts: &Options,
        mut on_try: impl FnMut(&Try),
        stop: impl Future<Output = ()>,
    ) -> Result<Report> {
        check(opts)?;
        let mut stop = std::pin::pin!(stop);
        let mut stats = Stats::default();
        let mut tries = Vec::new();
        let mut next = Instant::now();
        let mut seq: u32 = 0;
        while opts.count == 0 || seq < opts.count {
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = &mut stop => break,
            }
            // After u32::MAX tries (136 years at 1/s) the sequence wraps rather than panics.
            seq = seq.wrapping_add(1);
            let started = Instant::now();
            let result = tokio::select! {
                r = self.once(seq, opts.timeout) => r,
                _ = &mut stop => break,
            };
            next = started + opts.interval;
            let t = match result {
                Ok(elapsed) => Try {
                    seq,
                    ok: true,
                    time_ms: Some(elapsed.as_secs_f64() * 1000.0),
                    error: None,
                },
                Err(error) => Try {
                    seq,
                    ok: false,
                    time_ms: None,
                    error: Some(error),
                },
            };
            stats.add(&t);
            on_try(&t);
            if opts.keep_tries {
                tries.push(t);
            }
        }
        Ok(Report {
            target: self.target.to_string(),
            address: self.address,
            port: self.target.port,
            mode: self.mode(),
            tries,
            summary: stats.summary(),
        })
    }

    /// One try: the time it took, or the failure in words.
    async fn once(&self, seq: u32, timeout: Duration) -> std::result::Result<Duration, String> {
        let timed_out = || format!("timed out after {}", humanize(timeout));
        match &self.probe {
            Probe::Tcp(addr) => {
                let started = Instant::now();
                match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
                    Err(_) => Err(timed_out()),
                    Ok(Err(e)) => Err(io_words(&e)),
                    Ok(Ok(stream)) => {
                        let elapsed = started.elapsed();
                        // A connect to a free local port can meet itself (TCP simultaneous
                        // open, when the kernel picks that very port as the source): no
                        // server answered, so it is a refusal in all but name.
                        if stream.local_addr().ok() == stream.peer_addr().ok() {
                            return Err("refused".into());
                        }
                        Ok(elapsed)
                    }
                }
            }
            // The ICMP sequence is 16 bits; it wraps as ping's does.
            Probe::Icmp(echo) => match echo.once(seq as u16, timeout).await {
                Ok(Some(elapsed)) => Ok(elapsed),
                Ok(None) => Err(timed_out()),
                Err(e) => Err(io_words(&e)),
            },
        }
    }
}

fn check(opts: &Options) -> Result<()> {
    if opts.interval.is_zero() {
        return Err(Error::BadOption {
            option: "interval",
            reason: "it must be more than 0, such as 200ms or 1s".into(),
        });
    }
    if opts.timeout.is_zero() {
        return Err(Error::BadOption {
            option: "timeout",
            reason: "it must be more than 0, such as 500ms or 2s".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(seq: u32, ms: f64) -> Try {
        Try {
            seq,
            ok: true,
            time_ms: Some(ms),
            error: None,
        }
    }

    fn lost(seq: u32) -> Try {
        Try {
            seq,
            ok: false,
            time_ms: None,
            error: Some("timed out after 1s".into()),
        }
    }

    #[test]
    fn summary_matches_the_textbook_formulas() {
        let times = [0.2, 0.4, 0.4, 1.0];
        let mut stats = Stats::default();
        for (i, ms) in times.iter().enumerate() {
            stats.add(&ok(i as u32 + 1, *ms));
        }
        stats.add(&lost(5));
        let s = stats.summary();
        let mean = times.iter().sum::<f64>() / 4.0;
        let var = times.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / 4.0;
        assert_eq!((s.sent, s.received), (5, 4));
        assert!((s.loss_percent - 20.0).abs() < 1e-9);
        assert_eq!(s.min_ms, Some(0.2));
        assert_eq!(s.max_ms, Some(1.0));
        assert!((s.avg_ms.unwrap() - mean).abs() < 1e-9);
        assert!((s.stddev_ms.unwrap() - var.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn no_replies_means_no_times_and_full_loss() {
        let mut stats = Stats::default();
        stats.add(&lost(1));
        stats.add(&lost(2));
        let s = stats.summary();
        assert_eq!(s.loss_percent, 100.0);
        assert_eq!(
            (s.min_ms, s.avg_ms, s.max_ms, s.stddev_ms),
            (None, None, None, None)
        );
        let empty = Stats::default().summary();
        assert_eq!((empty.sent, empty.loss_percent), (0, 0.0));
    }

    #[tokio::test]
    async fn zero_interval_or_timeout_is_refused() {
        let target = Target::parse("127.0.0.1:9").unwrap();
        let p = Pinger::new(target).await.unwrap();
        for opts in [
            Options {
                interval: Duration::ZERO,
                ..Options::default()
            },
            Options {
                timeout: Duration::ZERO,
                ..Options::default()
            },
        ] {
            let e = p
                .run(&opts, |_| {}, std::future::pending())
                .await
                .unwrap_err();
            assert!(e.is_usage() && e.to_string().contains("more than 0"), "{e}");
        }
    }

    #[test]
    fn the_icmp_message_names_the_real_sysctl() {
        let msg = Error::IcmpNotAllowed {
            range: "1 0".into(),
        }
        .to_string();
        assert!(msg.contains("net.ipv4.ping_group_range"), "{msg}");
        assert!(msg.contains("CAP_NET_RAW"), "{msg}");
        assert!(msg.contains("HOST:PORT"), "{msg}");
        // There is no net.ipv6.ping_group_range (surge-ping#66 suggests one).
        assert!(!msg.contains("ipv6.ping_group_range"), "{msg}");
        assert!(!msg.contains('\n'));
    }
}
