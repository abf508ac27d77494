//! TCP: resolve, connect with happy eyeballs, and listen on one or every interface.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinSet;

use crate::endpoint::{Host, HostPort};
use crate::error::{Error, Result};
use crate::session::EventKind;
pub use crate::transport::ConnectOptions;

/// RFC 8305's recommended "connection attempt delay": start the next address if the
/// previous one has not answered within this time, without cancelling it.
const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Enough for a burst of clients (the issue asks for 1024); the kernel caps it at somaxconn.
pub const LISTEN_BACKLOG: i32 = 1024;

/// Resolve a host through the system resolver (getaddrinfo), the same path every other
/// program on the machine uses, so /etc/hosts and nsswitch apply.
pub async fn resolve(addr: &HostPort) -> Result<Vec<SocketAddr>> {
    let name = match &addr.host {
        Host::Ip(ip) => return Ok(vec![SocketAddr::new(*ip, addr.port)]),
        Host::Any => {
            return Ok(vec![SocketAddr::new(
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                addr.port,
            )])
        }
        Host::Name(name) => name,
    };
    let found = tokio::net::lookup_host((name.as_str(), addr.port))
        .await
        .map_err(|e| Error::Resolve {
            host: name.clone(),
            reason: resolve_reason(&e),
        })?;
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for a in found {
        if !addrs.contains(&a) {
            addrs.push(a);
        }
    }
    if addrs.is_empty() {
        return Err(Error::Resolve {
            host: name.clone(),
            reason: "the name has no addresses".into(),
        });
    }
    Ok(interleave(addrs))
}

fn resolve_reason(e: &io::Error) -> String {
    let text = e.to_string();
    // getaddrinfo's messages are terse ("failed to lookup address information: Name or
    // service not known"); keep the useful part.
    match text.split_once(": ") {
        Some((_, rest)) if text.starts_with("failed to lookup") => rest.to_string(),
        _ => text,
    }
}

/// RFC 8305 ordering: alternate address families, starting with the family of the first
/// answer, so a broken IPv6 path costs one attempt delay and not a timeout per address.
pub fn interleave(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let first_v6 = addrs.first().is_some_and(|a| a.is_ipv6());
    let (mut a, mut b): (Vec<_>, Vec<_>) = addrs.into_iter().partition(|x| x.is_ipv6() == first_v6);
    let mut out = Vec::with_capacity(a.len() + b.len());
    a.reverse();
    b.reverse();
    loop {
        match (a.pop(), b.pop()) {
            (None, None) => break,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
    out
}

/// Connect to the first address that answers, trying them as happy eyeballs does: one
/// attempt at a time, the next one started after [`ATTEMPT_DELAY`] or as soon as one fails.
/// `report` hears about each attempt and failure, so a learner sees every step.
pub async fn connect(
    addrs: &[SocketAddr],
    opts: &ConnectOptions,
    report: &mut (dyn FnMut(EventKind) + Send),
) -> Result<TcpStream> {
    let candidates: Vec<SocketAddr> = match opts.bind {
        Some(local) => addrs
            .iter()
            .copied()
            .filter(|a| a.is_ipv6() == local.is_ipv6())
            .collect(),
        None => addrs.to_vec(),
    };
    let Some(&first) = candidates.first() else {
        let (bind, target) = (opts.bind.map(|b| b.to_string()), addrs.first());
        return Err(Error::Connect {
            addr: target
                .copied()
                .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0))),
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "--bind {} is of another address family than every address of the target",
                    bind.unwrap_or_default()
                ),
            ),
        });
    };
    let mut attempts: JoinSet<(SocketAddr, io::Result<TcpStream>)> = JoinSet::new();
    let mut next = 0;
    let mut last_err: Option<(SocketAddr, io::Error)> = None;
    loop {
        if next < candidates.len() {
            let addr = candidates[next];
            next += 1;
            report(EventKind::Connecting { addr });
            let bind = opts.bind;
            attempts.spawn(async move { (addr, connect_one(addr, bind).await) });
        }
        let more = next < candidates.len();
        tokio::select! {
            joined = attempts.join_next(), if !attempts.is_empty() => {
                match joined {
                    Some(Ok((_, Ok(stream)))) => {
                        attempts.abort_all();
                        return Ok(stream);
                    }
                    Some(Ok((addr, Err(e)))) => {
                        report(EventKind::ConnectFailed { addr, reason: e.to_string() });
                        last_err = Some((addr, e));
                        if !more && attempts.is_empty() {
                            break;
                        }
                    }
                    // A panicked or cancelled attempt task counts as a failure of that attempt.
                    Some(Err(_)) | None => {
                        if !more && attempts.is_empty() {
                            break;
                        }
                    }
                }
            }
            _ = tokio::time::sleep(ATTEMPT_DELAY), if more => {}
        }
    }
    let (addr, source) = last_err.unwrap_or_else(|| {
        (
            first,
            io::Error::other("every connection attempt was cancelled"),
        )
    });
    Err(Error::Connect { addr, source })
}

async fn connect_one(addr: SocketAddr, bind: Option<SocketAddr>) -> io::Result<TcpStream> {
    let socket = if addr.is_ipv6() {
        TcpSocket::new_v6()?
    } else {
        TcpSocket::new_v4()?
    };
    if let Some(local) = bind {
        socket.set_reuseaddr(true)?;
        socket.bind(local)?;
    }
    let stream = socket.connect(addr).await?;
    // Interactive lines should leave at once; bulk transfers fill segments anyway.
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Bind and listen. A bare port (`Host::Any`) listens on `[::]` with IPv6-only off, so one
/// socket takes IPv4 and IPv6 clients; where IPv6 is missing it falls back to `0.0.0.0`.
/// A name is resolved and every address is bound; with port 0 they share the port the
/// first one got.
pub async fn listen(addr: &HostPort) -> Result<Vec<TcpListener>> {
    let targets: Vec<SocketAddr> = match &addr.host {
        Host::Any => {
            let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), addr.port);
            match bind_one(v6, Some(false)) {
                Ok(l) => return Ok(vec![l]),
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                    return Err(bind_error(v6, e));
                }
                Err(_) => vec![SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    addr.port,
                )],
            }
        }
        _ => resolve(addr).await?,
    };
    let mut listeners = Vec::new();
    let mut port = addr.port;
    for mut target in targets {
        if port != 0 {
            target.set_port(port);
        }
        let l = bind_one(target, target.is_ipv6().then_some(true))
            .map_err(|e| bind_error(target, e))?;
        if port == 0 {
            port = l.local_addr().map(|a| a.port()).unwrap_or(0);
        }
        listeners.push(l);
    }
    Ok(listeners)
}

fn bind_error(addr: SocketAddr, source: io::Error) -> Error {
    let source = if source.kind() == io::ErrorKind::AddrInUse {
        io::Error::new(
            source.kind(),
            format!("{source} (another program listens there; pick another port or stop it)"),
        )
    } else if source.kind() == io::ErrorKind::PermissionDenied && addr.port() < 1024 {
        io::Error::new(
            source.kind(),
            format!("{source} (ports below 1024 need root or CAP_NET_BIND_SERVICE)"),
        )
    } else {
        source
    };
    Error::Bind {
        addr: addr.to_string(),
        source,
    }
}

fn bind_one(addr: SocketAddr, only_v6: Option<bool>) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if let Some(v6) = only_v6 {
        socket.set_only_v6(v6)?;
    }
    // Restarting a server must not wait out TIME_WAIT of its last clients.
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    socket.set_nonblocking(true)?;
    TcpListener::from_std(socket.into())
}

/// The addresses clients can use to reach a server bound to every interface: each
/// interface's address with the bound port, loopback first.
pub fn reachable_addrs(bound: SocketAddr) -> Vec<SocketAddr> {
    let port = bound.port();
    if !bound.ip().is_unspecified() {
        return vec![bound];
    }
    let want_v6 = bound.is_ipv6();
    let mut out: Vec<SocketAddr> = Vec::new();
    if let Ok(ifaces) = if_addrs::get_if_addrs() {
        for iface in ifaces {
            let ip = iface.ip();
            if ip.is_ipv6() && !want_v6 {
                continue;
            }
            // Link-local IPv6 needs a scope id to be usable; leave it out of the hint.
            if let IpAddr::V6(v6) = ip {
                if (v6.segments()[0] & 0xffc0) == 0xfe80 {
                    continue;
                }
            }
            out.push(SocketAddr::new(ip, port));
        }
    }
    out.sort_by_key(|a| (!a.ip().is_loopback(), a.is_ipv6()));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_alternates_families() {
        let a: Vec<SocketAddr> = ["[::1]:1", "[::2]:1", "127.0.0.1:1", "127.0.0.2:1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let got: Vec<String> = interleave(a).iter().map(|s| s.to_string()).collect();
        assert_eq!(got, ["[::1]:1", "127.0.0.1:1", "[::2]:1", "127.0.0.2:1"]);
    }

    #[tokio::test]
    async fn happy_eyeballs_skips_a_refusing_address() {
        let good = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let good_addr = good.local_addr().unwrap();
        // A port nobody listens on: bind then drop to get a free one.
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead_addr = dead.local_addr().unwrap();
        drop(dead);
        let mut seen = Vec::new();
        let stream = connect(
            &[dead_addr, good_addr],
            &ConnectOptions::default(),
            &mut |e| seen.push(format!("{e:?}")),
        )
        .await
        .unwrap();
        assert_eq!(stream.peer_addr().unwrap(), good_addr);
        assert!(seen.iter().any(|s| s.contains("ConnectFailed")), "{seen:?}");
    }

    #[tokio::test]
    async fn bare_port_listens_dual_stack() {
        let ls = listen(&HostPort {
            host: Host::Any,
            port: 0,
        })
        .await
        .unwrap();
        let port = ls[0].local_addr().unwrap().port();
        TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        TcpStream::connect(("::1", port)).await.unwrap();
    }
}
