//! Opening sockets. Only the engine and the raw pipe call into here; faces never do.
//!
//! Each transport is a module; [`listen`] binds any endpoint into a [`Listener`] the caller
//! holds (so a failure to bind is reported before a session starts, and tests can bind port
//! 0), and the session engine connects any endpoint through [`ConnectOptions`].

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, UnixDatagram, UnixListener};

use crate::endpoint::{Endpoint, Scheme};
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
}

/// How to listen, for every transport.
#[derive(Debug, Clone, Default)]
pub struct ListenOptions {}

/// A bound server socket of any transport, ready for [`crate::session::Session::serve`].
pub enum Listener {
    Tcp(Vec<TcpListener>),
    Unix(unix::Bound<UnixListener>),
    UnixGram(unix::Bound<UnixDatagram>),
}

impl Listener {
    pub fn scheme(&self) -> Scheme {
        match self {
            Listener::Tcp(_) => Scheme::Tcp,
            Listener::Unix(_) => Scheme::Unix,
            Listener::UnixGram(_) => Scheme::UnixGram,
        }
    }
}

/// Bind a server endpoint.
pub async fn listen(ep: &Endpoint, _opts: &ListenOptions) -> Result<Listener> {
    match ep {
        Endpoint::Net {
            scheme: Scheme::Tcp,
            addr,
        } => Ok(Listener::Tcp(tcp::listen(addr).await?)),
        Endpoint::Path {
            scheme: Scheme::Unix,
            path,
        } => Ok(Listener::Unix(unix::listen(&unix::UnixName::parse(path)?)?)),
        Endpoint::Path { path, .. } => Ok(Listener::UnixGram(unix::bind_datagram(
            &unix::UnixName::parse(path)?,
        )?)),
        Endpoint::Net { scheme, .. } => Err(crate::Error::Unsupported {
            what: format!("listening on {}://", scheme.name()),
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
