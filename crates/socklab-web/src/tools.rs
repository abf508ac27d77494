//! The toolbox over the socket: each request calls the same socklab-net function as the
//! CLI command of the same name, and the result is the same report `--json` prints.
//!
//! Everything a request says is checked before anything goes on the network, with the
//! CLI's own messages (its exit-2 cases). Durations come as milliseconds (`interval_ms`,
//! `timeout_ms`), the numbers a form holds. `ping` reports each try as it ends through
//! `progress`; every tool ends early when `stop` fires (the page asked, or went away):
//! ping with its summary so far, as Ctrl-C does, the others with an error.

use std::future::Future;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;
use socklab_core::codec::Encoding;
use socklab_core::transport::tls::TlsClientOptions;
use socklab_net::convert::{self, Form, Request};
use socklab_net::dns::{self, Protocol, Query, RecordType};
use socklab_net::host::Target;
use socklab_net::ping::{self, Pinger};
use socklab_net::ports::Catalog;
use socklab_net::trace::{self, TraceRequest};
use socklab_net::{ifaces, scan, subnet};
use tokio::sync::oneshot;

/// A page pings at most this many times per request: enough for a chart, and a run that
/// cannot outlive the page's interest by hours. The CLI has no such limit.
pub const MAX_PING_COUNT: u32 = 1000;
/// The shortest interval a page may ask for: tries one after another as fast as a
/// loopback connect would be a flood, not a measurement.
pub const MIN_PING_INTERVAL: Duration = Duration::from_millis(10);
/// The longest a single try, port probe or trace phase may wait.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// Run the tool `name` with the request's other fields as its arguments. `progress` gets
/// the intermediate results of a long tool (each ping try); `stop` ends it early.
pub async fn run(
    name: &str,
    args: Value,
    progress: impl FnMut(Value) + Send,
    stop: impl Future<Output = ()> + Send,
) -> Result<Value, String> {
    match name {
        "ping" => ping(parse(args)?, progress, stop).await,
        other => {
            tokio::select! {
                r = run_once(other, args) => r,
                _ = stop => Err("stopped".into()),
            }
        }
    }
}

/// The tools that answer once.
async fn run_once(name: &str, args: Value) -> Result<Value, String> {
    match name {
        "scan" => {
            let a: ScanArgs = parse(args)?;
            // As the CLI: both arguments are checked before anything goes on the network.
            let ports = scan::parse_ports(&a.ports).map_err(|e| e.to_string())?;
            let target = Target::parse_host(&a.host).map_err(|e| e.to_string())?;
            let opts = scan::Options {
                timeout: millis("timeout", a.timeout_ms, MAX_TIMEOUT)?,
                concurrency: a.concurrency,
            };
            if !(1..=scan::MAX_CONCURRENCY).contains(&opts.concurrency) {
                return Err(format!(
                    "concurrency {} is not in 1-{}; expected a number from 1 to {}",
                    opts.concurrency,
                    scan::MAX_CONCURRENCY,
                    scan::MAX_CONCURRENCY
                ));
            }
            let address = target.resolve().await.map_err(|e| e.to_string())?;
            report(
                &scan::scan(&target, address, &ports, &opts)
                    .await
                    .map_err(|e| e.to_string())?,
            )
        }
        "trace" => {
            let req = trace_request(parse(args)?)?;
            // A failure on the network is in the report (its `error`), as with --json.
            report(&run_trace(req).await?)
        }
        "subnet" => {
            let a: SubnetArgs = parse(args)?;
            let words: Vec<&str> = a.input.split_whitespace().collect();
            let query = subnet::parse_args(&words).map_err(|e| e.to_string())?;
            report(&subnet::calculate(&query))
        }
        "ports" => {
            let a: PortsArgs = parse(args)?;
            let catalog = Catalog::system();
            let found = match a.query.as_deref().map(str::trim) {
                None | Some("") => catalog.builtin_services(),
                Some(q) => catalog.lookup(q).map_err(|e| e.to_string())?,
            };
            report(&found)
        }
        "ifaces" => {
            let a: IfacesArgs = parse(args)?;
            let name = a.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
            report(&ifaces::list(name).map_err(|e| e.to_string())?)
        }
        "convert" => {
            let a: ConvertArgs = parse(args)?;
            let req = Request {
                from: a.from,
                to: a.to,
                encoding: Encoding::from_label(a.encoding.as_deref().unwrap_or("utf-8"))
                    .map_err(|e| e.to_string())?,
                escapes: a.escapes,
            };
            report(&convert::convert(&a.data, &req).map_err(|e| e.to_string())?)
        }
        "dns" => {
            let a: DnsArgs = parse(args)?;
            let mut query =
                Query::new(dns::Target::parse(a.name.trim()).map_err(|e| e.to_string())?);
            for t in a.types.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
                query
                    .types
                    .push(RecordType::parse(t).map_err(|e| e.to_string())?);
            }
            query.server = a
                .server
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(dns::parse_server)
                .transpose()
                .map_err(|e| e.to_string())?;
            if a.tcp {
                query.protocol = Protocol::Tcp;
            }
            report(&dns::lookup(&query).await.map_err(|e| e.to_string())?)
        }
        other => Err(format!(
            "no tool '{other}'; expected ping, scan, trace, dns, subnet, ifaces, ports or convert"
        )),
    }
}

async fn ping(
    a: PingArgs,
    mut progress: impl FnMut(Value) + Send,
    stop: impl Future<Output = ()> + Send,
) -> Result<Value, String> {
    let target = Target::parse(&a.target).map_err(|e| e.to_string())?;
    if !(1..=MAX_PING_COUNT).contains(&a.count) {
        return Err(format!(
            "count {} is not in 1-{MAX_PING_COUNT}; the page pings at most {MAX_PING_COUNT} times (the CLI's -c 0 runs until Ctrl-C)",
            a.count
        ));
    }
    let interval = millis("interval", a.interval_ms, Duration::from_secs(3600))?;
    if interval < MIN_PING_INTERVAL {
        return Err(format!(
            "interval {} ms is too short; expected {} ms or more",
            a.interval_ms,
            MIN_PING_INTERVAL.as_millis()
        ));
    }
    let opts = ping::Options {
        count: a.count,
        interval,
        timeout: millis("timeout", a.timeout_ms, MAX_TIMEOUT)?,
        keep_tries: true,
    };
    let pinger = Pinger::new(target).await.map_err(|e| e.to_string())?;
    let on_try = |t: &ping::Try| {
        if let Ok(v) = serde_json::to_value(t) {
            progress(v);
        }
    };
    report(
        &pinger
            .run(&opts, on_try, stop)
            .await
            .map_err(|e| e.to_string())?,
    )
}

/// socklab-net's trace future is not `Send` (hyper's connection-level client holds the
/// body sink across awaits), so it runs on a blocking thread of its own, driven by this
/// runtime. When this future is dropped (stop, or the page went away), `cancel` closes
/// and the trace is dropped where it stands.
async fn run_trace(req: TraceRequest) -> Result<trace::TraceReport, String> {
    let (cancel, cancelled) = oneshot::channel::<()>();
    let runtime = tokio::runtime::Handle::current();
    let task = tokio::task::spawn_blocking(move || {
        runtime.block_on(async move {
            tokio::select! {
                r = trace::trace(&req, None) => Some(r),
                _ = cancelled => None,
            }
        })
    });
    let result = task.await.map_err(|e| format!("the trace stopped: {e}"))?;
    drop(cancel);
    match result {
        Some(r) => r.map_err(|e| e.to_string()),
        None => Err("stopped".into()),
    }
}

/// A duration from a form's milliseconds: more than 0 and at most `max`.
fn millis(name: &str, ms: u64, max: Duration) -> Result<Duration, String> {
    let d = Duration::from_millis(ms);
    if d.is_zero() {
        return Err(format!(
            "{name} 0 ms means nothing; expected more than 0, such as 500 or 2000 ms"
        ));
    }
    if d > max {
        return Err(format!(
            "{name} {ms} ms is too long; expected at most {} ms",
            max.as_millis()
        ));
    }
    Ok(d)
}

/// The page's trace form as socklab-net's request, the way `socklab trace` builds it
/// from -X, -H, -d, -L and -k (the body is the text as typed: no @FILE from a page).
fn trace_request(a: TraceArgs) -> Result<TraceRequest, String> {
    let mut req = TraceRequest::get(trace::parse_url(&a.url).map_err(|e| e.to_string())?);
    for line in a.headers.lines().filter(|l| !l.trim().is_empty()) {
        req.headers
            .push(trace::parse_header(line.trim_end_matches('\r')).map_err(|e| e.to_string())?);
    }
    req.body = a.data.filter(|d| !d.is_empty()).map(Bytes::from);
    req.method = match a.method.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => trace::parse_method(m).map_err(|e| e.to_string())?,
        None if req.body.is_some() => trace::Method::POST,
        None => trace::Method::GET,
    };
    req.follow = a.follow;
    req.timeout = millis("timeout", a.timeout_ms, MAX_TIMEOUT)?;
    req.tls = TlsClientOptions {
        insecure: a.insecure,
        ca: a
            .ca
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from),
        ..TlsClientOptions::default()
    };
    Ok(req)
}

fn parse<T: for<'de> Deserialize<'de>>(args: Value) -> Result<T, String> {
    serde_json::from_value(args).map_err(|e| format!("bad arguments: {e}"))
}

fn report<T: serde::Serialize>(r: &T) -> Result<Value, String> {
    serde_json::to_value(r).map_err(|e| e.to_string())
}

#[derive(Deserialize)]
struct PingArgs {
    target: String,
    #[serde(default = "four")]
    count: u32,
    #[serde(default = "second")]
    interval_ms: u64,
    #[serde(default = "two_seconds")]
    timeout_ms: u64,
}

#[derive(Deserialize)]
struct ScanArgs {
    host: String,
    ports: String,
    #[serde(default = "second")]
    timeout_ms: u64,
    #[serde(default = "concurrency")]
    concurrency: usize,
}

#[derive(Deserialize)]
struct TraceArgs {
    url: String,
    #[serde(default)]
    method: Option<String>,
    /// One `Name: value` per line, as `-H`.
    #[serde(default)]
    headers: String,
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    follow: bool,
    #[serde(default)]
    insecure: bool,
    /// PEM file of CA certificates to trust instead of the system roots, as `--ca`.
    #[serde(default)]
    ca: Option<String>,
    #[serde(default = "ten_seconds")]
    timeout_ms: u64,
}

fn four() -> u32 {
    4
}
fn second() -> u64 {
    1000
}
fn two_seconds() -> u64 {
    2000
}
fn ten_seconds() -> u64 {
    10_000
}
fn concurrency() -> usize {
    scan::DEFAULT_CONCURRENCY
}

/// `socklab subnet` takes its words as arguments; the form has one text field.
#[derive(Deserialize)]
struct SubnetArgs {
    input: String,
}

#[derive(Deserialize)]
struct PortsArgs {
    #[serde(default)]
    query: Option<String>,
}

#[derive(Deserialize)]
struct IfacesArgs {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct ConvertArgs {
    data: String,
    #[serde(default = "text")]
    from: Form,
    #[serde(default = "hex")]
    to: Form,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default = "yes")]
    escapes: bool,
}

fn text() -> Form {
    Form::Text
}
fn hex() -> Form {
    Form::Hex
}
fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct DnsArgs {
    name: String,
    #[serde(default)]
    types: Vec<String>,
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    tcp: bool,
}
