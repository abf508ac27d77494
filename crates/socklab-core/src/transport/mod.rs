//! Opening sockets. Only the engine and the raw pipe call into here; faces never do.

pub mod pipe;
pub mod tcp;
pub mod udp;

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
