//! `socklab scan`: which TCP ports of a host accept a connection.
//!
//! A full connect per port (no raw SYN tricks, so no privileges needed): open when the
//! handshake completes, closed when the host answers with a reset (refused), filtered when
//! nothing answers within the timeout (a firewall dropping the SYN, or a host that is
//! gone). At most `concurrency` connects are in flight at once, so a scan neither runs out
//! of file descriptors nor floods the path.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::Serialize;
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::host::{io_words, Target};
use crate::ports::{self, Protocol};
use crate::{Error, Result};

pub const DEFAULT_CONCURRENCY: usize = 100;
/// A typical soft limit on open files is 1024; stay under it with room for the rest.
pub const MAX_CONCURRENCY: usize = 1000;
/// Every TCP port but 0, once.
pub const MAX_PORTS: u64 = 65535;

/// How long to wait and how many at once.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long a connect may take before the port counts as filtered.
    pub timeout: Duration,
    /// Connects in flight at once, 1..=[`MAX_CONCURRENCY`].
    pub concurrency: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            timeout: Duration::from_secs(1),
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

/// An open port and its well-known service, if it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenPort {
    pub port: u16,
    pub service: Option<String>,
}

/// What a scan found; `--json` prints it as it is.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The host as given.
    pub host: String,
    /// The address scanned (what a name resolved to).
    pub address: IpAddr,
    pub ports_scanned: usize,
    /// In port order.
    pub open: Vec<OpenPort>,
    /// Refused: the host answered that nothing listens there.
    pub closed: usize,
    /// No answer within the timeout (or an ICMP "unreachable" for that port).
    pub filtered: usize,
    pub elapsed_ms: f64,
}

/// What one connect found.
#[derive(Debug)]
pub enum PortState {
    Open,
    Closed,
    Filtered,
    /// An error from the path (host or network unreachable, a firewall's reject): counted
    /// as filtered, unless every port gets one, which means the host cannot be reached.
    Unreachable(io::Error),
    /// A local shortage (file descriptors, source ports, memory) that ends the scan.
    Local(io::Error),
}

/// Reads a port list such as `22,80,8000-8100` into sorted ports without repeats.
///
/// Duplicates and overlapping ranges are merged, but the list is first counted as
/// written, and more than 65535 ports (such as `1-65535,1`) is refused: a list that names
/// a port twice past the size of the whole port space is a mistake worth pointing out.
pub fn parse_ports(list: &str) -> Result<Vec<u16>> {
    if list.trim().is_empty() {
        return Err(Error::PortList {
            item: list.to_string(),
            reason: "the list is empty".into(),
        });
    }
    let mut ranges = Vec::new();
    let mut count: u64 = 0;
    for (i, raw) in list.split(',').enumerate() {
        let item = raw.trim();
        let bad = |reason: String| Error::PortList {
            item: item.to_string(),
            reason,
        };
        if item.is_empty() {
            return Err(bad(format!(
                "item {} is empty (two commas in a row, or a comma at an end)",
                i + 1
            )));
        }
        let (first, last) = match item.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (port(a.trim()).map_err(bad)?, port(b.trim()).map_err(bad)?);
                if a > b {
                    return Err(bad(format!("the range runs backwards; write {b}-{a}")));
                }
                (a, b)
            }
            None => {
                let p = port(item).map_err(bad)?;
                (p, p)
            }
        };
        count += u64::from(last - first) + 1;
        ranges.push((first, last));
    }
    if count > MAX_PORTS {
        return Err(Error::TooManyPorts { count });
    }
    let mut ports: Vec<u16> = ranges.into_iter().flat_map(|(a, b)| a..=b).collect();
    ports.sort_unstable();
    ports.dedup();
    Ok(ports)
}

fn port(s: &str) -> std::result::Result<u16, String> {
    if s.is_empty() {
        return Err("a range needs a port on each side of '-'".into());
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{s}' is not a port number"));
    }
    match s.parse::<u64>() {
        Ok(0) => Err("port 0 cannot be connected to".into()),
        Ok(p) if p <= 65535 => Ok(p as u16),
        _ => Err(format!("port {s} is out of range 1-65535")),
    }
}

/// Connects to each port of `address`, `opts.concurrency` at a time. `target` is only
/// reported (the caller has resolved it, to say what it scans before it starts).
pub async fn scan(
    target: &Target,
    address: IpAddr,
    ports: &[u16],
    opts: &Options,
) -> Result<Report> {
    if !(1..=MAX_CONCURRENCY).contains(&opts.concurrency) {
        return Err(Error::BadOption {
            option: "concurrency",
            reason: format!("{} is not in 1-{MAX_CONCURRENCY}", opts.concurrency),
        });
    }
    if opts.timeout.is_zero() {
        return Err(Error::BadOption {
            option: "timeout",
            reason: "it must be more than 0, such as 500ms or 1s".into(),
        });
    }
    let started = Instant::now();
    let timeout = opts.timeout;
    let results = bounded(
        ports.iter().copied(),
        opts.concurrency,
        move |port| async move { (port, probe(SocketAddr::new(address, port), timeout).await) },
    )
    .await;
    let mut report = Report {
        host: target.host.clone(),
        address,
        ports_scanned: ports.len(),
        open: Vec::new(),
        closed: 0,
        filtered: 0,
        elapsed_ms: 0.0,
    };
    let mut unreachable = None;
    let mut answered_or_silent = false;
    for (port, state) in results {
        match state {
            PortState::Open => {
                answered_or_silent = true;
                report.open.push(OpenPort {
                    port,
                    service: ports::service_name(port, Protocol::Tcp).map(str::to_string),
                });
            }
            PortState::Closed => {
                answered_or_silent = true;
                report.closed += 1;
            }
            PortState::Filtered => {
                answered_or_silent = true;
                report.filtered += 1;
            }
            PortState::Unreachable(e) => {
                report.filtered += 1;
                unreachable.get_or_insert(e);
            }
            PortState::Local(e) => {
                return Err(Error::Net {
                    context: format!("cannot go on scanning {address}"),
                    reason: format!("{}; try a lower --concurrency", io_words(&e)),
                });
            }
        }
    }
    if let (false, Some(e)) = (answered_or_silent, unreachable) {
        return Err(Error::Net {
            context: format!("cannot reach {address}"),
            reason: io_words(&e),
        });
    }
    report.open.sort_by_key(|o| o.port);
    report.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(report)
}

/// One connect, classified.
pub async fn probe(addr: SocketAddr, timeout: Duration) -> PortState {
    match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => PortState::Filtered,
        Ok(Ok(stream)) => {
            // A connect to a free local port can meet itself (TCP simultaneous open when
            // the kernel picks that very port as the source): nothing listens there.
            if stream.local_addr().ok() == stream.peer_addr().ok() {
                PortState::Closed
            } else {
                PortState::Open
            }
        }
        Ok(Err(e)) => classify(e),
    }
}

fn classify(e: io::Error) -> PortState {
    use io::ErrorKind as K;
    // EMFILE, ENFILE, ENOBUFS, ENOMEM: shortages of this machine, not answers of the host.
    const LOCAL: [i32; 4] = [24, 23, 105, 12];
    match e.kind() {
        K::ConnectionRefused => PortState::Closed,
        K::TimedOut => PortState::Filtered,
        K::AddrNotAvailable | K::OutOfMemory => PortState::Local(e),
        _ if e.raw_os_error().is_some_and(|n| LOCAL.contains(&n)) => PortState::Local(e),
        _ => PortState::Unreachable(e),
    }
}

/// Runs `f` on every item with at most `limit` futures in flight, and returns the results
/// in completion order. Each future is a task of its own, so connects proceed in parallel
/// on a multi-threaded runtime.
pub async fn bounded<T, R, F, Fut>(items: impl IntoIterator<Item = T>, limit: usize, f: F) -> Vec<R>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    let limit = limit.max(1);
    let mut set = JoinSet::new();
    let mut out = Vec::new();
    for item in items {
        if set.len() >= limit {
            if let Some(done) = set.join_next().await {
                out.push(joined(done));
            }
        }
        set.spawn(f(item));
    }
    while let Some(done) = set.join_next().await {
        out.push(joined(done));
    }
    out
}

/// A task only ends early by panicking (nothing aborts them); pass the panic on.
fn joined<R>(done: std::result::Result<R, tokio::task::JoinError>) -> R {
    match done {
        Ok(r) => r,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn bad(list: &str) -> String {
        match parse_ports(list) {
            Err(e) => {
                assert!(e.is_usage(), "{list}: {e}");
                e.to_string()
            }
            Ok(p) => panic!("{list} parsed as {} ports", p.len()),
        }
    }

    #[test]
    fn lists_and_ranges() {
        assert_eq!(parse_ports("22").unwrap(), vec![22]);
        assert_eq!(parse_ports("80,22, 443").unwrap(), vec![22, 80, 443]);
        let p = parse_ports("22,80,8000-8100").unwrap();
        assert_eq!(p.len(), 2 + 101);
        assert_eq!((p[2], p[p.len() - 1]), (8000, 8100));
        assert_eq!(parse_ports("5-7,6,1-5").unwrap(), vec![1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(parse_ports("1-65535").unwrap().len(), 65535);
        assert_eq!(parse_ports("65535-65535").unwrap(), vec![65535]);
    }

    #[test]
    fn bad_items_are_named_with_the_expected_form() {
        for (list, item, reason) in [
            ("0", "'0'", "port 0"),
            ("22,70000", "'70000'", "out of range"),
            ("90-80", "'90-80'", "write 80-90"),
            ("22,,80", "''", "item 2 is empty"),
            ("22,", "''", "item 2 is empty"),
            ("http", "'http'", "not a port number"),
            ("1-", "'1-'", "each side"),
            ("-5", "'-5'", "each side"),
            ("1-2-3", "'1-2-3'", "not a port number"),
            ("", "''", "the list is empty"),
        ] {
            let e = bad(list);
            assert!(e.contains(item) && e.contains(reason), "{list}: {e}");
            assert!(e.contains("22,80,8000-8100"), "{e}");
        }
    }

    #[test]
    fn more_than_every_port_as_written_is_refused() {
        let e = bad("1-65535,1");
        assert!(
            e.contains("65536 ports") && e.contains("at most 65535"),
            "{e}"
        );
        // Counting cannot overflow however long the list.
        let huge = vec!["1-65535"; 1000].join(",");
        assert!(bad(&huge).contains("65535000 ports"));
    }

    /// Each future records how many are in flight and then waits at a barrier of `limit`:
    /// the first `limit` meet there together (so the bound is reached), and a limiter that
    /// let one more start would show `limit + 1` before any of them leaves.
    #[tokio::test(flavor = "current_thread")]
    async fn bounded_never_runs_more_than_the_limit() {
        for limit in [1, 3, 8] {
            let in_flight = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let barrier = Arc::new(tokio::sync::Barrier::new(limit));
            let items: Vec<usize> = (0..limit * 5).collect();
            let fut = bounded(items, limit, |i| {
                let (in_flight, peak, barrier) = (in_flight.clone(), peak.clone(), barrier.clone());
                async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    barrier.wait().await;
                    tokio::task::yield_now().await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    i
                }
            });
            let mut done = tokio::time::timeout(Duration::from_secs(10), fut)
                .await
                .expect("the limiter let fewer than `limit` run at once");
            done.sort_unstable();
            assert_eq!(done, (0..limit * 5).collect::<Vec<_>>());
            assert_eq!(peak.load(Ordering::SeqCst), limit);
        }
    }

    #[test]
    fn errors_are_classified() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert!(matches!(classify(refused), PortState::Closed));
        let emfile = io::Error::from_raw_os_error(24);
        assert!(matches!(classify(emfile), PortState::Local(_)));
        let unreachable = io::Error::from_raw_os_error(113);
        assert!(matches!(classify(unreachable), PortState::Unreachable(_)));
    }
}
