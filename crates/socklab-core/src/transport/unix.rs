//! Unix sockets: `unix:PATH` (stream), `unixgram:PATH` (datagram) and `unix:@NAME`, the
//! Linux abstract namespace (no file; the name vanishes with the last socket).
//!
//! A server's socket file outlives a crashed server, so `listen` looks before it binds: it
//! replaces a stale socket (nobody answers on it) and says so, but refuses a path that is not
//! a socket or one that something still listens on. It removes its own file when it ends.

use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net as stdunix;
use std::path::{Path, PathBuf};

use tokio::net::{UnixDatagram, UnixListener, UnixStream};

use crate::error::{Error, Result};

/// `sun_path` holds 108 bytes on Linux, one of them the terminating NUL.
pub const MAX_PATH: usize = 107;

/// A Unix socket name as the user gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnixName {
    Path(PathBuf),
    /// `@name`: the Linux abstract namespace.
    Abstract(Vec<u8>),
}

impl UnixName {
    /// Check the name before any socket is made: too long for `sun_path` is a usage error.
    pub fn parse(input: &str) -> Result<UnixName> {
        let bad = |reason: String| Error::UnixPath {
            path: input.to_string(),
            reason,
        };
        let (name, len) = match input.strip_prefix('@') {
            Some("") => return Err(bad("the abstract name after '@' is empty".into())),
            Some(n) => (UnixName::Abstract(n.as_bytes().to_vec()), n.len()),
            None => (UnixName::Path(PathBuf::from(input)), input.len()),
        };
        if input.contains('\0') {
            return Err(bad("it contains a NUL byte".into()));
        }
        if len > MAX_PATH {
            return Err(bad(format!(
                "it is {len} bytes long, more than the {MAX_PATH} bytes a Unix socket address (sun_path) holds; expected a shorter path, e.g. under /tmp"
            )));
        }
        Ok(name)
    }

    fn std_addr(&self) -> io::Result<stdunix::SocketAddr> {
        match self {
            UnixName::Path(p) => stdunix::SocketAddr::from_pathname(p),
            UnixName::Abstract(n) => stdunix::SocketAddr::from_abstract_name(n),
        }
    }

    /// For messages.
    pub fn display(&self) -> String {
        match self {
            UnixName::Path(p) => format!("unix:{}", p.display()),
            UnixName::Abstract(n) => format!("unix:@{}", String::from_utf8_lossy(n)),
        }
    }
}

/// Connect a stream socket.
pub fn connect(name: &UnixName) -> Result<UnixStream> {
    let fail = |source| Error::ConnectPath {
        target: name.display(),
        source,
    };
    let addr = name.std_addr().map_err(fail)?;
    // Connecting a Unix stream socket does not block on the network: it either finds a
    // listener's backlog or fails at once, so the blocking std call is fine here.
    let s = stdunix::UnixStream::connect_addr(&addr).map_err(fail)?;
    s.set_nonblocking(true).map_err(fail)?;
    UnixStream::from_std(s).map_err(fail)
}

/// Removes the socket file when the server ends, if it is still the one we made.
#[derive(Debug)]
pub struct Cleanup {
    path: PathBuf,
    ino: Option<u64>,
}

impl Cleanup {
    fn new(path: &Path) -> Cleanup {
        use std::os::unix::fs::MetadataExt;
        Cleanup {
            path: path.to_path_buf(),
            ino: std::fs::symlink_metadata(path).ok().map(|m| m.ino()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        use std::os::unix::fs::MetadataExt;
        // Another server may have replaced the file since; leave theirs alone.
        let same = std::fs::symlink_metadata(&self.path)
            .ok()
            .map(|m| Some(m.ino()) == self.ino)
            .unwrap_or(false);
        if same {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A bound server socket and what happened on the way.
pub struct Bound<S> {
    pub socket: S,
    pub cleanup: Option<Cleanup>,
    /// Said to the user: a stale socket file was removed.
    pub notice: Option<String>,
}

/// Look at an existing path before binding: remove a stale socket, refuse anything else.
fn clear_path(name: &UnixName, datagram: bool) -> Result<Option<String>> {
    let UnixName::Path(path) = name else {
        return Ok(None);
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::Bind {
                addr: name.display(),
                source: e,
            })
        }
    };
    let refuse = |reason: String| Error::PathInUse {
        path: path.display().to_string(),
        reason,
    };
    if !meta.file_type().is_socket() {
        return Err(refuse(
            "it exists and is not a socket; refusing to replace it (expected a new path or an old socket file)".into(),
        ));
    }
    let alive = if datagram {
        stdunix::UnixDatagram::unbound().and_then(|s| s.connect(path))
    } else {
        stdunix::UnixStream::connect(path).map(|_| ())
    };
    match alive {
        Ok(()) => Err(refuse(
            "another program is listening on this socket; expected a path no one uses (stop that server or pick another path)".into(),
        )),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path).map_err(|e| Error::Bind {
                addr: name.display(),
                source: e,
            })?;
            Ok(Some(format!(
                "removed the stale socket file {} (no one was listening on it)",
                path.display()
            )))
        }
        // A socket of the other kind, or one we may not connect to: not ours to remove.
        Err(e) => Err(refuse(format!(
            "it is a socket we cannot check ({e}); refusing to replace it"
        ))),
    }
}

fn cleanup_for(name: &UnixName) -> Option<Cleanup> {
    match name {
        UnixName::Path(p) => Some(Cleanup::new(p)),
        UnixName::Abstract(_) => None,
    }
}

/// Bind a stream server.
pub fn listen(name: &UnixName) -> Result<Bound<UnixListener>> {
    let notice = clear_path(name, false)?;
    let fail = |source| Error::Bind {
        addr: name.display(),
        source,
    };
    let addr = name.std_addr().map_err(fail)?;
    let l = stdunix::UnixListener::bind_addr(&addr).map_err(fail)?;
    l.set_nonblocking(true).map_err(fail)?;
    let socket = UnixListener::from_std(l).map_err(fail)?;
    Ok(Bound {
        socket,
        cleanup: cleanup_for(name),
        notice,
    })
}

/// Bind a datagram server.
pub fn bind_datagram(name: &UnixName) -> Result<Bound<UnixDatagram>> {
    let notice = clear_path(name, true)?;
    let fail = |source| Error::Bind {
        addr: name.display(),
        source,
    };
    let addr = name.std_addr().map_err(fail)?;
    let s = stdunix::UnixDatagram::bind_addr(&addr).map_err(fail)?;
    s.set_nonblocking(true).map_err(fail)?;
    let socket = UnixDatagram::from_std(s).map_err(fail)?;
    Ok(Bound {
        socket,
        cleanup: cleanup_for(name),
        notice,
    })
}

/// A datagram client: bound to an abstract name of its own so the server can answer (an
/// unbound datagram socket has no address to reply to), then connected to the server.
pub fn connect_datagram(name: &UnixName) -> Result<UnixDatagram> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let fail = |source| Error::ConnectPath {
        target: name.display(),
        source,
    };
    let own = format!(
        "socklab.{}.{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let local = stdunix::SocketAddr::from_abstract_name(own.as_bytes()).map_err(fail)?;
    let s = stdunix::UnixDatagram::bind_addr(&local).map_err(fail)?;
    let addr = name.std_addr().map_err(fail)?;
    s.connect_addr(&addr).map_err(fail)?;
    s.set_nonblocking(true).map_err(fail)?;
    UnixDatagram::from_std(s).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("socklab-unix-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        let _ = std::fs::remove_file(&p);
        p
    }

    #[test]
    fn names_too_long_for_sun_path_are_refused() {
        let long = format!("/tmp/{}", "x".repeat(103));
        assert_eq!(long.len(), 108);
        let e = UnixName::parse(&long).unwrap_err();
        assert!(e.is_usage());
        assert!(e.to_string().contains("107 bytes"), "{e}");
        assert!(UnixName::parse(&long[..107]).is_ok());
        assert!(UnixName::parse("@").is_err());
        assert_eq!(
            UnixName::parse("@bus").unwrap(),
            UnixName::Abstract(b"bus".to_vec())
        );
    }

    #[tokio::test]
    async fn stale_socket_is_replaced_and_live_one_refused() {
        let p = temp("stale.sock");
        let name = UnixName::Path(p.clone());
        // A socket file nobody listens on: bound, then the listener is gone.
        drop(stdunix::UnixListener::bind(&p).unwrap());
        let bound = listen(&name).unwrap();
        assert!(bound.notice.as_deref().unwrap().contains("stale"));
        // Now it is live: a second server must not take it over.
        let e = listen(&name).err().unwrap();
        assert!(
            e.to_string().contains("another program is listening"),
            "{e}"
        );
        drop(bound);
        assert!(!p.exists(), "the server removes its own socket file");
    }

    #[tokio::test]
    async fn a_regular_file_is_never_replaced() {
        let p = temp("plain-file");
        std::fs::write(&p, b"keep me").unwrap();
        let e = listen(&UnixName::Path(p.clone())).err().unwrap();
        assert!(e.to_string().contains("not a socket"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"keep me");
    }
}
