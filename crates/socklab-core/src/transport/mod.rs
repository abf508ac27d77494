//! Opening sockets. Only the engine and the raw pipe call into here; faces never do.
//!
//! Each transport is a module; [`listen`] binds any endpoint into a [`Listener`] the caller
//! holds (so a failure to bind is reported before a session starts, and tests can bind port
//! 0), and the session engine connects any endpoint through [`ConnectOptions`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket, UnixDatagram, UnixListener};

use crate::endpoint::{Endpoint, Host, Scheme};
use crate::error::Result;

pub mod pipe;
pub mod stream;
pub mod tcp;
pub mod tls;
pub mod udp;
pub mod unix;

/// How to connect, for every transport.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// Local address to bind before connecting (`--bind`). Port 0 lets the OS pick.
    pub bind: Option<SocketAddr>,
    /// Limit for the whole connect phase, resolution (and TLS handshake) included.
    pub timeout: Option<Duration>,
    pub udp: udp::UdpOptions,
    pub tls: tls::TlsClientOptions,
}

/// How to listen, for every transport.
#[derive(Debug, Clone, Default)]
pub struct ListenOptions {
    pub udp: udp::UdpOptions,
    pub tls: tls::TlsServerOptions,
}

/// A bound server socket of any transport, ready for [`crate::session::Session::serve`].
pub enum Listener {
    Tcp(Vec<TcpListener>),
    Tls(Vec<TcpListener>, Arc<tls::TlsServer>),
    Unix(unix::Bound<UnixListener>),
    Udp(UdpSocket),
    UnixGram(unix::Bound<UnixDatagram>),
}

impl Listener {
    pub fn scheme(&self) -> Scheme {
        match self {
            Listener::Tcp(_) => Scheme::Tcp,
            Listener::Tls(..) => Scheme::Tls,
            Listener::Unix(_) => Scheme::Unix,
            Listener::Udp(_) => Scheme::Udp,
            Listener::UnixGram(_) => Scheme::UnixGram,
        }
    }
}

/// Bind a server endpoint. Everything that can be checked without the network (a TLS
/// certificate and key, multicast options) is checked before anything is bound.
pub async fn listen(ep: &Endpoint, opts: &ListenOptions) -> Result<Listener> {
    match ep {
        Endpoint::Net {
            scheme: Scheme::Tcp,
            addr,
        } => Ok(Listener::Tcp(tcp::listen(addr).await?)),
        Endpoint::Net {
            scheme: Scheme::Tls,
            addr,
        } => {
            let mut topts = opts.tls.clone();
            match &addr.host {
                Host::Name(n) => topts.names.push(n.clone()),
                Host::Ip(ip) if !ip.is_unspecified() => topts.names.push(ip.to_string()),
                _ => {}
            }
            let server = tls::server(&topts)?;
            Ok(Listener::Tls(tcp::listen(addr).await?, Arc::new(server)))
        }
        Endpoint::Net {
            scheme: Scheme::Udp,
            addr,
        } => {
            let ip = match &addr.host {
                Host::Any => None,
                Host::Ip(ip) => Some(*ip),
                Host::Name(_) => tcp::resolve(addr).await?.first().map(|a| a.ip()),
            };
            Ok(Listener::Udp(udp::bind(ip, addr.port, &opts.udp).await?))
        }
        Endpoint::Path {
            scheme: Scheme::Unix,
            path,
        } => Ok(Listener::Unix(unix::listen(&unix::UnixName::parse(path)?)?)),
        Endpoint::Path { path, .. } => Ok(Listener::UnixGram(unix::bind_datagram(
            &unix::UnixName::parse(path)?,
        )?)),
        // The endpoint parser never makes these.
        Endpoint::Net { scheme, .. } => Err(crate::Error::Unsupported {
            what: format!("{}:// with a host and port", scheme.name()),
        }),
    }
}

/// Raise the soft limit on open files to the hard limit, so a server's client count is
/// bounded by what the system allows (`ulimit -Hn`) rather than by the often much lower soft
/// default of 1024. Best effort: on failure the old limit stays.
pub fn raise_fd_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        setrlimit(Resource::Nofile, limit).ok()?;
    }
    limit.current
}
