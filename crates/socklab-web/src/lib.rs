//! socklab's web UI: the NetAssist window in a browser, over the same session engine as the
//! command line and the TUI.
//!
//! A page on localhost that can open sockets is a target for every other page the user
//! visits, so everything here sits behind [`guard`]: a random token, a Host check against
//! DNS rebinding, and an Origin check on the WebSocket. The page itself is plain files
//! ([`assets`]); it talks to the server over one WebSocket per page ([`ws`]). Sessions
//! belong to the server ([`sessions`]), not to a socket, so a page that reconnects finds
//! them still running; the toolbox ([`tools`]) calls socklab-net as the CLI does.
//!
//! - [`guard`]: the token, the Host and Origin checks.
//! - [`assets`]: the embedded page.
//! - [`ws`]: the socket protocol.
//! - [`sessions`]: the sessions and their counters, shared by every page.
//! - [`tools`]: the toolbox requests.

pub mod assets;
pub mod guard;
pub mod sessions;
pub mod tools;
pub mod ws;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

pub use guard::Token;

/// Failures of the web server itself (not of a session; those go to the page).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}; expected a free address such as 127.0.0.1:0")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot read random bytes for the token from the OS: {0}")]
    Random(String),
    #[error("the web server stopped: {0}")]
    Serve(std::io::Error),
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct Options {
    pub bind: SocketAddr,
    /// The UI language chosen on the command line (`en`, `zh`); None lets the page choose
    /// from what the user picked before, then from the browser's language.
    pub lang: Option<String>,
}

/// What every request handler shares.
pub struct AppState {
    pub guard: guard::Guard,
    pub hub: Arc<sessions::Hub>,
    pub lang: Option<String>,
}

/// A bound web server, not yet serving: the caller prints [`Bound::url`] first, so that
/// whoever reads it (a person, a test) can connect as soon as it is printed.
pub struct Bound {
    listener: TcpListener,
    state: Arc<AppState>,
    addr: SocketAddr,
}

/// Bind the address and make the token.
pub async fn bind(opts: Options) -> Result<Bound, Error> {
    let listener = TcpListener::bind(opts.bind)
        .await
        .map_err(|source| Error::Bind {
            addr: opts.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Bind {
        addr: opts.bind,
        source,
    })?;
    let token = Token::random()?;
    let state = Arc::new(AppState {
        guard: guard::Guard::new(token, addr),
        hub: Arc::new(sessions::Hub::new()),
        lang: opts.lang,
    });
    Ok(Bound {
        listener,
        state,
        addr,
    })
}

impl Bound {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address to open, token included. An unspecified bind (0.0.0.0, ::) is shown as
    /// loopback, which works on this machine and passes the Host check.
    pub fn url(&self) -> String {
        format!(
            "http://{}/?token={}",
            self.state.guard.url_host(),
            self.state.guard.token().as_str()
        )
    }

    /// Serve until `shutdown` completes.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let app = router(self.state);
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(Error::Serve)
    }
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/ws", get(ws::upgrade))
        .route("/{*path}", get(assets::file))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::check,
        ))
        .with_state(state)
}
