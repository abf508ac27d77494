//! UDP: size limits, option checks, connect-side and server-side sockets, and receiving one
//! datagram with its true size.
//!
//! UDP keeps message boundaries: one `send` is one datagram is one `recv`. The code here
//! never splits or joins datagrams; it refuses what cannot go whole ([`check_size`]) and
//! reports what arrived cut short ([`Datagram::truncated`]).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use rustix::io::Errno;
use rustix::net::RecvFlags;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use crate::error::{Error, Result};

/// Largest UDP payload: 65535 - 20 (IPv4 header) - 8 = 65507; IPv6: 65535 - 8 = 65527.
pub const MAX_PAYLOAD_V4: usize = 65507;
/// IPv6's payload length field excludes the fixed header, so only the UDP header counts.
pub const MAX_PAYLOAD_V6: usize = 65527;

/// The payload limit towards `dest`. An IPv4-mapped IPv6 destination (`::ffff:a.b.c.d`)
/// leaves as IPv4, so the IPv4 limit applies to it.
pub fn max_payload(dest: &SocketAddr) -> usize {
    match canonical_ip(dest.ip()) {
        IpAddr::V4(_) => MAX_PAYLOAD_V4,
        IpAddr::V6(_) => MAX_PAYLOAD_V6,
    }
}

/// Refuse a datagram that cannot go whole, before anything is sent: UDP has no way to
/// split one message into several, and the kernel would refuse it with a bare EMSGSIZE.
pub fn check_size(len: usize, dest: &SocketAddr) -> Result<()> {
    let max = max_payload(dest);
    if len > max {
        return Err(Error::DatagramTooLarge { len, max });
    }
    Ok(())
}

/// Which family a payload limit belongs to, for [`Error::DatagramTooLarge`]'s message.
pub(crate) fn payload_family(max: usize) -> &'static str {
    if max == MAX_PAYLOAD_V4 {
        "IPv4"
    } else {
        "IPv6"
    }
}

/// What an address that is not a group is, for [`Error::MulticastOnly`]'s message.
pub(crate) fn address_kind(addr: &SocketAddr) -> &'static str {
    match canonical_ip(addr.ip()) {
        ip if ip.is_unspecified() => "the wildcard address, not a group",
        IpAddr::V4(v4) if v4.is_broadcast() => "broadcast",
        _ => "unicast",
    }
}

/// Socket options for UDP (the CLI's `--broadcast`, `--ttl`, `--multicast-loop`, `--iface`).
#[derive(Debug, Clone, Default)]
pub struct UdpOptions {
    /// SO_BROADCAST (`--broadcast`): without it the kernel refuses to send to a broadcast
    /// address (EACCES), so a typo cannot flood a subnet.
    pub broadcast: bool,
    /// `--ttl`: multicast TTL / hop limit (IP_MULTICAST_TTL, IPV6_MULTICAST_HOPS). The
    /// kernel's default is 1: the group's datagrams stay on the local link.
    pub ttl: Option<u32>,
    /// `--multicast-loop`: whether this host's own listeners get our multicast datagrams
    /// (IP(V6)_MULTICAST_LOOP). Set explicitly either way for multicast destinations, so the
    /// default is "off" rather than the kernel's "on".
    pub multicast_loop: bool,
    /// `--iface NAME|ADDR`: the interface to join a group on (listen) and to send multicast
    /// out of (IP_MULTICAST_IF / IPV6_MULTICAST_IF). Without it the routing table decides.
    pub iface: Option<String>,
}

/// Usage checks before any socket is opened, so a mistaken command sends nothing: the
/// multicast-only options need a group address, and `--iface` must name an interface (or
/// an address of one) on this host. For `listen`, pass the listen address (the wildcard
/// when there is none); for connect/send the resolved destination.
pub fn check_options(addr: &SocketAddr, opts: &UdpOptions) -> Result<()> {
    if !canonical_ip(addr.ip()).is_multicast() {
        let option = if opts.ttl.is_some() {
            "--ttl"
        } else if opts.multicast_loop {
            "--multicast-loop"
        } else if opts.iface.is_some() {
            "--iface"
        } else {
            return Ok(());
        };
        return Err(Error::MulticastOnly {
            option,
            addr: *addr,
        });
    }
    if let Some(input) = &opts.iface {
        find_iface(input)?;
    }
    Ok(())
}

/// An interface chosen with `--iface`: its index (what IPv6, and Linux's `ip_mreqn`, use)
/// and an IPv4 address of it (what the classic IPv4 socket options use), if it has one.
#[derive(Debug, Clone)]
struct Iface {
    name: String,
    index: u32,
    v4: Option<Ipv4Addr>,
}

impl Iface {
    fn describe(&self) -> String {
        format!("interface {} (index {})", self.name, self.index)
    }
}

/// Find an interface by name or by one of its addresses.
fn find_iface(input: &str) -> Result<Iface> {
    let all =
        if_addrs::get_if_addrs().map_err(|e| Error::io("cannot list the network interfaces", e))?;
    let wanted_ip: Option<IpAddr> = input.parse().ok().map(canonical_ip);
    let name = all
        .iter()
        .find(|i| i.name == input || Some(i.ip()) == wanted_ip)
        .map(|i| i.name.clone());
    let Some(name) = name else {
        let mut known: Vec<&str> = all.iter().map(|i| i.name.as_str()).collect();
        known.sort_unstable();
        known.dedup();
        return Err(Error::Iface {
            input: input.to_string(),
            known: known.join(", "),
        });
    };
    let mine = || all.iter().filter(|i| i.name == name);
    let v4 = match wanted_ip {
        Some(IpAddr::V4(v4)) => Some(v4),
        _ => mine().find_map(|i| match i.ip() {
            IpAddr::V4(v4) => Some(v4),
            IpAddr::V6(_) => None,
        }),
    };
    let index = match mine().find_map(|i| i.index) {
        Some(index) => index,
        None => sysfs_index(&name).ok_or_else(|| {
            Error::io(
                format!("cannot find the index of interface {name}"),
                io::Error::from(io::ErrorKind::NotFound),
            )
        })?,
    };
    Ok(Iface { name, index, v4 })
}

/// Fallback for the interface index when getifaddrs did not give one.
fn sysfs_index(name: &str) -> Option<u32> {
    std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Whether `open` leaves the socket unconnected: true for multicast groups, the limited
/// broadcast 255.255.255.255 and the broadcast address of a local IPv4 subnet. Replies to
/// those come from the responders' own unicast addresses, which a connected socket would
/// drop, so such sockets `send_to` the destination and accept datagrams from anyone.
pub fn is_group_or_broadcast(dest: &SocketAddr) -> bool {
    match canonical_ip(dest.ip()) {
        IpAddr::V6(v6) => v6.is_multicast(),
        IpAddr::V4(v4) => v4.is_multicast() || v4.is_broadcast() || is_subnet_broadcast(v4),
    }
}

/// Whether `ip` is the directed broadcast address of a subnet on one of our interfaces.
/// /31 and /32 have no broadcast address (RFC 3021).
fn is_subnet_broadcast(ip: Ipv4Addr) -> bool {
    let Ok(all) = if_addrs::get_if_addrs() else {
        return false;
    };
    all.iter().any(|i| match &i.addr {
        if_addrs::IfAddr::V4(a) => {
            a.broadcast == Some(ip)
                || (a.prefixlen <= 30 && {
                    let host_bits = u32::MAX >> a.prefixlen;
                    u32::from(a.ip) | host_bits == u32::from(ip)
                })
        }
        if_addrs::IfAddr::V6(_) => false,
    })
}

/// `::ffff:a.b.c.d` is an IPv4 peer seen through a dual-stack socket: show it as IPv4.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(canonical_ip(addr.ip()), addr.port())
}

fn unspecified(v6: bool, port: u16) -> SocketAddr {
    if v6 {
        SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port)
    } else {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port)
    }
}

/// Connect-side socket: bound to `bind` (or the wildcard of dest's family, port 0), options
/// set, then `connect()`ed to a unicast `dest`, so that only that peer's datagrams arrive and
/// an ICMP port unreachable shows up as ECONNREFUSED on the next receive.
///
/// Multicast and broadcast destinations are NOT connected (see [`is_group_or_broadcast`]):
/// the answers come from each responder's unicast address and connect() would filter them
/// all out. Send to those with `send_to(dest)`. For a group, TTL, loop (always set, from
/// `multicast_loop`) and the outgoing interface are applied.
pub async fn open(
    dest: SocketAddr,
    bind: Option<SocketAddr>,
    opts: &UdpOptions,
) -> Result<UdpSocket> {
    check_options(&dest, opts)?;
    let local = bind.unwrap_or_else(|| unspecified(dest.is_ipv6(), 0));
    if local.is_ipv6() != dest.is_ipv6() {
        return Err(Error::Bind {
            addr: local.to_string(),
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("--bind {local} is of another address family than {dest}; expected a local address of the same family"),
            ),
        });
    }
    let socket = new_socket(dest).map_err(|e| Error::io("cannot create a UDP socket", e))?;
    if opts.broadcast {
        socket
            .set_broadcast(true)
            .map_err(|e| Error::io("cannot set SO_BROADCAST (--broadcast)", e))?;
    }
    if canonical_ip(dest.ip()).is_multicast() {
        set_multicast_send(&socket, dest, opts)?;
    }
    socket
        .bind(&local.into())
        .map_err(|e| bind_error(local, e))?;
    if !is_group_or_broadcast(&dest) {
        socket
            .connect(&dest.into())
            .map_err(|source| Error::Connect { addr: dest, source })?;
    }
    into_tokio(socket)
}

fn new_socket(addr: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

fn into_tokio(socket: Socket) -> Result<UdpSocket> {
    UdpSocket::from_std(socket.into())
        .map_err(|e| Error::io("cannot register the UDP socket with the runtime", e))
}

/// TTL, loop and outgoing interface for sending to a group.
fn set_multicast_send(socket: &Socket, group: SocketAddr, opts: &UdpOptions) -> Result<()> {
    let iface = opts.iface.as_deref().map(find_iface).transpose()?;
    let fail =
        |what: String| move |e: io::Error| Error::io(format!("cannot set {what} for {group}"), e);
    match canonical_ip(group.ip()) {
        IpAddr::V4(g) if group.is_ipv4() => {
            socket
                .set_multicast_loop_v4(opts.multicast_loop)
                .map_err(fail("IP_MULTICAST_LOOP (--multicast-loop)".into()))?;
            if let Some(ttl) = opts.ttl {
                socket
                    .set_multicast_ttl_v4(ttl)
                    .map_err(ttl_error(ttl))
                    .map_err(fail(format!("IP_MULTICAST_TTL to {ttl} (--ttl)")))?;
            }
            if let Some(i) = &iface {
                // ip_mreqn with the index works even on an interface without IPv4 address.
                let addr = i.v4.unwrap_or(Ipv4Addr::UNSPECIFIED);
                rustix::net::sockopt::set_ip_multicast_if_with_ifindex(socket, &g, &addr, i.index)
                    .map_err(io::Error::from)
                    .map_err(fail(format!(
                        "IP_MULTICAST_IF to {} (--iface)",
                        i.describe()
                    )))?;
            }
        }
        _ => {
            socket
                .set_multicast_loop_v6(opts.multicast_loop)
                .map_err(fail("IPV6_MULTICAST_LOOP (--multicast-loop)".into()))?;
            if let Some(ttl) = opts.ttl {
                socket
                    .set_multicast_hops_v6(ttl)
                    .map_err(ttl_error(ttl))
                    .map_err(fail(format!("IPV6_MULTICAST_HOPS to {ttl} (--ttl)")))?;
            }
            if let Some(i) = &iface {
                socket.set_multicast_if_v6(i.index).map_err(fail(format!(
                    "IPV6_MULTICAST_IF to {} (--iface)",
                    i.describe()
                )))?;
            }
        }
    }
    Ok(())
}

/// The kernel says only EINVAL for a TTL over 255; say what was expected.
fn ttl_error(ttl: u32) -> impl Fn(io::Error) -> io::Error {
    move |e| {
        if ttl > 255 {
            io::Error::new(e.kind(), format!("{e}; expected a TTL from 0 to 255"))
        } else {
            e
        }
    }
}

fn bind_error(addr: SocketAddr, source: io::Error) -> Error {
    let source = if source.kind() == io::ErrorKind::AddrInUse {
        io::Error::new(
            source.kind(),
            format!("{source} (another program uses this UDP port; pick another port or stop it)"),
        )
    } else if source.kind() == io::ErrorKind::PermissionDenied && addr.port() < 1024 {
        io::Error::new(
            source.kind(),
            format!("{source} (ports below 1024 need root or CAP_NET_BIND_SERVICE)"),
        )
    } else if source.kind() == io::ErrorKind::AddrNotAvailable {
        io::Error::new(
            source.kind(),
            format!("{source} (expected an address of this host; see ip addr)"),
        )
    } else {
        source
    };
    Error::Bind {
        addr: addr.to_string(),
        source,
    }
}

/// Server-side socket.
///
/// * `None`: every interface, as `[::]:port` with IPv6-only off so one socket takes IPv4
///   and IPv6 peers; `0.0.0.0:port` where IPv6 is unavailable.
/// * A multicast group: the wildcard of the group's family is bound (binding the group
///   itself is Linux-only behaviour) with SO_REUSEADDR and SO_REUSEPORT, so several
///   listeners on this host can share the group, then the group is joined on `--iface`
///   (default: the interface the routing table picks for the group). IP(V6)_MULTICAST_ALL
///   is turned off so this socket gets only the groups it joined, not every group another
///   program joined on the same port.
/// * Any other address: bound as it is; SO_BROADCAST is set with `--broadcast`. Receiving
///   broadcasts needs nothing special beyond a wildcard (or broadcast) bind.
pub async fn bind(addr: Option<IpAddr>, port: u16, opts: &UdpOptions) -> Result<UdpSocket> {
    let shown = SocketAddr::new(addr.unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED)), port);
    check_options(&shown, opts)?;
    let socket = match addr.map(canonical_ip) {
        None => {
            let v6 = unspecified(true, port);
            match bind_one(v6, Some(false), opts.broadcast) {
                Ok(s) => s,
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => return Err(bind_error(v6, e)),
                Err(_) => {
                    let v4 = unspecified(false, port);
                    bind_one(v4, None, opts.broadcast).map_err(|e| bind_error(v4, e))?
                }
            }
        }
        Some(group) if group.is_multicast() => bind_group(SocketAddr::new(group, port), opts)?,
        Some(ip) => {
            let target = SocketAddr::new(ip, port);
            bind_one(target, ip.is_ipv6().then_some(true), opts.broadcast)
                .map_err(|e| bind_error(target, e))?
        }
    };
    into_tokio(socket)
}

fn bind_one(addr: SocketAddr, only_v6: Option<bool>, broadcast: bool) -> io::Result<Socket> {
    let socket = new_socket(addr)?;
    if let Some(v6) = only_v6 {
        socket.set_only_v6(v6)?;
    }
    if broadcast {
        socket.set_broadcast(true)?;
    }
    socket.bind(&addr.into())?;
    Ok(socket)
}

fn bind_group(group: SocketAddr, opts: &UdpOptions) -> Result<Socket> {
    let iface = opts.iface.as_deref().map(find_iface).transpose()?;
    let wildcard = unspecified(group.is_ipv6(), group.port());
    let socket = (|| {
        let socket = new_socket(group)?;
        if group.is_ipv6() {
            socket.set_only_v6(true)?;
        }
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
        if opts.broadcast {
            socket.set_broadcast(true)?;
        }
        socket.bind(&wildcard.into())?;
        Ok(socket)
    })()
    .map_err(|e| bind_error(group, e))?;
    // Best effort: kernels before 4.20 (IPv6) or 2.6.31 (IPv4) lack the option, and then a
    // listener merely sees more than its own groups.
    match group.ip() {
        IpAddr::V4(_) => {
            let _ = socket.set_multicast_all_v4(false);
        }
        IpAddr::V6(_) => {
            let _ = socket.set_multicast_all_v6(false);
        }
    }
    let joined = match (group.ip(), &iface) {
        (IpAddr::V4(g), Some(i)) => rustix::net::sockopt::set_ip_add_membership_with_ifindex(
            &socket,
            &g,
            &i.v4.unwrap_or(Ipv4Addr::UNSPECIFIED),
            i.index,
        )
        .map_err(io::Error::from),
        (IpAddr::V4(g), None) => socket.join_multicast_v4(&g, &Ipv4Addr::UNSPECIFIED),
        (IpAddr::V6(g), i) => socket.join_multicast_v6(&g, i.as_ref().map_or(0, |i| i.index)),
    };
    if let Err(e) = joined {
        let on = iface.as_ref().map_or_else(
            || "the interface the routing table picks".to_string(),
            Iface::describe,
        );
        let hint = if iface.is_none() && e.raw_os_error() == Some(Errno::NODEV.raw_os_error()) {
            " (no route towards the group to pick an interface; expected --iface NAME)"
        } else {
            ""
        };
        return Err(Error::Bind {
            addr: group.to_string(),
            source: io::Error::new(
                e.kind(),
                format!("cannot join group {} on {on}: {e}{hint}", group.ip()),
            ),
        });
    }
    Ok(socket)
}

/// One received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram {
    /// Bytes copied into the buffer.
    pub n: usize,
    /// The datagram's true size (from MSG_TRUNC); larger than `n` when it was cut short.
    pub len: usize,
    /// The sender, with `::ffff:a.b.c.d` shown as IPv4.
    pub from: SocketAddr,
}

impl Datagram {
    /// Whether the buffer was too small and the rest of the datagram is lost.
    pub fn truncated(&self) -> bool {
        self.len > self.n
    }
}

/// Await readability and receive one datagram into `buf` (callers pass 64 KiB or more, so
/// nothing is cut). MSG_TRUNC makes the kernel report the datagram's true size, so a cut
/// datagram is reported as such instead of silently shortened.
///
/// ECONNREFUSED (an ICMP port unreachable answering an earlier send on a connected socket)
/// comes back as an error of kind `ConnectionRefused`; the socket stays usable.
pub async fn recv(sock: &UdpSocket, buf: &mut [u8]) -> io::Result<Datagram> {
    loop {
        // ERROR interest too: a pending ICMP error raises only EPOLLERR, not EPOLLIN.
        let ready = sock.ready(Interest::READABLE | Interest::ERROR).await?;
        // try_io takes one interest (a combined one never matches); the one that fired is
        // the one whose readiness a WouldBlock must clear, or `ready` would spin.
        let which = if ready.is_readable() || ready.is_read_closed() {
            Interest::READABLE
        } else {
            Interest::ERROR
        };
        match sock.try_io(which, || recv_now(sock, buf)) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            other => return other,
        }
    }
}

fn recv_now(sock: &UdpSocket, buf: &mut [u8]) -> io::Result<Datagram> {
    let (n, len, from) = rustix::net::recvfrom(sock, &mut *buf, RecvFlags::TRUNC)?;
    let from = from
        .and_then(|a| SocketAddr::try_from(a).ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "a datagram without an IP sender address",
            )
        })?;
    Ok(Datagram {
        n,
        len,
        from: canonical(from),
    })
}

/// Turn a send error into the user's words, on one line.
pub fn explain_send_error(e: &io::Error, dest: &SocketAddr) -> String {
    let code = e.raw_os_error();
    let is = |errno: Errno| code == Some(errno.raw_os_error());
    let ip = canonical_ip(dest.ip());
    if is(Errno::ACCESS) {
        if is_group_or_broadcast(dest) && !ip.is_multicast() {
            format!("cannot send to {dest}: {ip} is a broadcast address, and sending to a broadcast address needs --broadcast")
        } else {
            format!("cannot send to {dest}: permission denied; sending to a broadcast address needs --broadcast, otherwise a firewall rule refused it")
        }
    } else if is(Errno::PERM) {
        format!("cannot send to {dest}: a firewall rule refused it (operation not permitted)")
    } else if is(Errno::MSGSIZE) {
        let max = max_payload(dest);
        format!(
            "cannot send to {dest}: the datagram is too large; expected at most {max} bytes per datagram (the UDP limit over {})",
            payload_family(max)
        )
    } else if is(Errno::NETUNREACH) {
        format!("cannot send to {dest}: network unreachable; expected an address this host has a route to (see ip route)")
    } else if is(Errno::HOSTUNREACH) {
        format!("cannot send to {dest}: host unreachable (no route, or no answer to ARP/neighbour discovery for {ip})")
    } else if is(Errno::CONNREFUSED) {
        format!("nobody listens at {dest} (ICMP port unreachable)")
    } else {
        format!("cannot send to {dest}: {e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const WAIT: Duration = Duration::from_secs(10);

    async fn recv_within(sock: &UdpSocket, buf: &mut [u8]) -> io::Result<Datagram> {
        tokio::time::timeout(WAIT, recv(sock, buf))
            .await
            .expect("a datagram within the deadline")
    }

    /// A server on `ip` with an OS-picked port, and a client opened towards it.
    async fn pair(ip: IpAddr) -> (UdpSocket, UdpSocket, SocketAddr) {
        let server = bind(Some(ip), 0, &UdpOptions::default())
            .await
            .expect("bind");
        let addr = server.local_addr().expect("local addr");
        let client = open(addr, None, &UdpOptions::default())
            .await
            .expect("open");
        (server, client, addr)
    }

    async fn round_trip(ip: IpAddr) {
        let (server, client, addr) = pair(ip).await;
        let mut buf = vec![0u8; 70_000];
        client.send(b"ping").await.expect("send");
        let d = recv_within(&server, &mut buf).await.expect("recv");
        assert_eq!(&buf[..d.n], b"ping");
        assert_eq!((d.n, d.len), (4, 4));
        assert_eq!(d.from, client.local_addr().expect("client addr"));
        server.send_to(b"pong", d.from).await.expect("reply");
        let r = recv_within(&client, &mut buf).await.expect("recv reply");
        assert_eq!(&buf[..r.n], b"pong");
        assert_eq!(r.from, addr);
    }

    #[tokio::test]
    async fn round_trip_v4() {
        round_trip(IpAddr::V4(Ipv4Addr::LOCALHOST)).await;
    }

    #[tokio::test]
    async fn round_trip_v6() {
        round_trip(IpAddr::V6(Ipv6Addr::LOCALHOST)).await;
    }

    #[tokio::test]
    async fn wildcard_listener_is_dual_stack_and_shows_v4_peers_as_v4() {
        let server = bind(None, 0, &UdpOptions::default()).await.expect("bind");
        let port = server.local_addr().expect("addr").port();
        let dest = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let client = open(dest, None, &UdpOptions::default())
            .await
            .expect("open");
        client.send(b"v4").await.expect("send");
        let mut buf = vec![0u8; 70_000];
        let d = recv_within(&server, &mut buf).await.expect("recv");
        assert_eq!(d.from, client.local_addr().expect("client addr"));
        assert!(d.from.is_ipv4(), "{} should be shown as IPv4", d.from);
    }

    #[tokio::test]
    async fn boundaries_are_kept() {
        let (server, client, _) = pair(IpAddr::V4(Ipv4Addr::LOCALHOST)).await;
        for size in 1..=100u8 {
            client
                .send(&vec![size; usize::from(size)])
                .await
                .expect("send");
        }
        let mut buf = vec![0u8; 70_000];
        for size in 1..=100u8 {
            let d = recv_within(&server, &mut buf).await.expect("recv");
            assert_eq!((d.n, d.len), (usize::from(size), usize::from(size)));
            assert!(buf[..d.n].iter().all(|&b| b == size));
        }
    }

    #[tokio::test]
    async fn largest_v4_datagram_goes_whole() {
        let (server, client, addr) = pair(IpAddr::V4(Ipv4Addr::LOCALHOST)).await;
        check_size(MAX_PAYLOAD_V4, &addr).expect("the limit itself is allowed");
        let data: Vec<u8> = (0..MAX_PAYLOAD_V4).map(|i| (i % 251) as u8).collect();
        assert_eq!(client.send(&data).await.expect("send"), MAX_PAYLOAD_V4);
        let mut buf = vec![0u8; 70_000];
        let d = recv_within(&server, &mut buf).await.expect("recv");
        assert_eq!((d.n, d.len), (MAX_PAYLOAD_V4, MAX_PAYLOAD_V4));
        assert!(buf[..d.n] == data[..]);
    }

    #[tokio::test]
    async fn largest_v6_datagram_goes_whole() {
        let (server, client, _) = pair(IpAddr::V6(Ipv6Addr::LOCALHOST)).await;
        let data = vec![7u8; MAX_PAYLOAD_V6];
        assert_eq!(client.send(&data).await.expect("send"), MAX_PAYLOAD_V6);
        let mut buf = vec![0u8; 70_000];
        let d = recv_within(&server, &mut buf).await.expect("recv");
        assert_eq!((d.n, d.len), (MAX_PAYLOAD_V6, MAX_PAYLOAD_V6));
    }

    #[test]
    fn check_size_refuses_one_byte_over() {
        let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, 5000));
        let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, 5000));
        let mapped = SocketAddr::from((Ipv4Addr::LOCALHOST.to_ipv6_mapped(), 5000));
        assert!(check_size(65507, &v4).is_ok());
        assert!(check_size(65527, &v6).is_ok());
        let e = check_size(65508, &v4).expect_err("over the v4 limit");
        assert!(matches!(
            e,
            Error::DatagramTooLarge {
                len: 65508,
                max: 65507
            }
        ));
        assert!(e.is_usage());
        let e = check_size(65528, &v6).expect_err("over the v6 limit");
        assert!(matches!(
            e,
            Error::DatagramTooLarge {
                len: 65528,
                max: 65527
            }
        ));
        assert!(matches!(
            check_size(65508, &mapped),
            Err(Error::DatagramTooLarge { max: 65507, .. })
        ));
        let text = check_size(70000, &v4).expect_err("too large").to_string();
        assert_eq!(
            text,
            "a datagram of 70000 bytes is larger than the UDP limit of 65507 bytes (IPv4); expected at most 65507 bytes per datagram"
        );
        assert!(check_size(70000, &v6)
            .expect_err("too large")
            .to_string()
            .contains("(IPv6)"));
    }

    #[tokio::test]
    async fn a_short_buffer_reports_the_true_size() {
        let (server, client, _) = pair(IpAddr::V4(Ipv4Addr::LOCALHOST)).await;
        client.send(&[1u8; 3000]).await.expect("send");
        let mut buf = [0u8; 1000];
        let d = recv_within(&server, &mut buf).await.expect("recv");
        assert_eq!((d.n, d.len), (1000, 3000));
        assert!(d.truncated());
    }

    #[tokio::test]
    async fn a_closed_port_gives_connection_refused() {
        // A port that was free a moment ago; nobody else on loopback takes it so quickly.
        let port = {
            let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
            s.local_addr().expect("addr").port()
        };
        let dest = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let client = open(dest, None, &UdpOptions::default())
            .await
            .expect("open");
        client.send(b"anyone?").await.expect("send");
        let mut buf = vec![0u8; 70_000];
        let e = recv_within(&client, &mut buf).await.expect_err("refused");
        assert_eq!(e.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(
            explain_send_error(&e, &dest),
            format!("nobody listens at {dest} (ICMP port unreachable)")
        );
        // The socket goes on working after the error.
        let server = bind(
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            port,
            &UdpOptions::default(),
        )
        .await
        .expect("bind the port now");
        client.send(b"now?").await.expect("send again");
        let d = recv_within(&server, &mut buf).await.expect("recv");
        assert_eq!(&buf[..d.n], b"now?");
    }

    #[test]
    fn multicast_options_need_a_group() {
        let unicast = SocketAddr::from((Ipv4Addr::LOCALHOST, 5000));
        let ttl = UdpOptions {
            ttl: Some(4),
            ..UdpOptions::default()
        };
        let e = check_options(&unicast, &ttl).expect_err("unicast");
        assert!(e.is_usage());
        assert_eq!(
            e.to_string(),
            "--ttl applies only to multicast groups (224.0.0.0/4, ff00::/8); 127.0.0.1:5000 is unicast"
        );
        let lp = UdpOptions {
            multicast_loop: true,
            ..UdpOptions::default()
        };
        assert!(matches!(
            check_options(&unicast, &lp),
            Err(Error::MulticastOnly {
                option: "--multicast-loop",
                ..
            })
        ));
        let iface = UdpOptions {
            iface: Some("lo".into()),
            ..UdpOptions::default()
        };
        let any = SocketAddr::from((Ipv6Addr::UNSPECIFIED, 5000));
        let e = check_options(&any, &iface).expect_err("wildcard");
        assert_eq!(
            e.to_string(),
            "--iface applies only to multicast groups (224.0.0.0/4, ff00::/8); [::]:5000 is the wildcard address, not a group"
        );
        let group = SocketAddr::from((Ipv4Addr::new(239, 1, 2, 3), 5000));
        let group6: SocketAddr = "[ff02::1234]:5000".parse().expect("v6 group");
        for opts in [&ttl, &lp, &iface, &UdpOptions::default()] {
            check_options(&group, opts).expect("a group takes every option");
            check_options(&group6, opts).expect("a v6 group too");
        }
        check_options(
            &unicast,
            &UdpOptions {
                broadcast: true,
                ..UdpOptions::default()
            },
        )
        .expect("--broadcast is not multicast-only");
    }

    #[test]
    fn iface_must_exist() {
        let group = SocketAddr::from((Ipv4Addr::new(239, 1, 2, 3), 5000));
        let opts = |name: &str| UdpOptions {
            iface: Some(name.into()),
            ..UdpOptions::default()
        };
        let e = check_options(&group, &opts("no-such-if0")).expect_err("unknown");
        assert!(e.is_usage());
        let text = e.to_string();
        assert!(text.starts_with("unknown interface 'no-such-if0'; expected an interface name or one of its addresses: "), "{text}");
        assert!(text.contains("lo"), "{text}");
        check_options(&group, &opts("127.0.0.1")).expect("an address of lo");
        check_options(&group, &opts("::1")).expect("an IPv6 address of lo");
        let lo = find_iface("127.0.0.1").expect("lo");
        assert_eq!(lo.v4, Some(Ipv4Addr::LOCALHOST));
        assert!(lo.index > 0);
    }

    #[test]
    fn group_and_broadcast_destinations() {
        let at = |s: &str| -> SocketAddr { s.parse().expect("address") };
        assert!(is_group_or_broadcast(&at("239.1.2.3:5000")));
        assert!(is_group_or_broadcast(&at("[ff02::1]:5000")));
        assert!(is_group_or_broadcast(&at("255.255.255.255:5000")));
        assert!(
            is_group_or_broadcast(&at("127.255.255.255:5000")),
            "lo's /8 broadcast"
        );
        assert!(!is_group_or_broadcast(&at("127.0.0.1:5000")));
        assert!(!is_group_or_broadcast(&at("[::1]:5000")));
        assert!(is_group_or_broadcast(&at("[::ffff:239.1.2.3]:5000")));
    }

    #[tokio::test]
    async fn broadcast_without_the_flag_is_refused_locally() {
        // The kernel refuses (EACCES) before any packet leaves: SO_BROADCAST is off.
        for dest in ["255.255.255.255:9", "127.255.255.255:9"] {
            let dest: SocketAddr = dest.parse().expect("address");
            let sock = open(dest, None, &UdpOptions::default())
                .await
                .expect("open");
            let e = sock.send_to(b"x", dest).await.expect_err("refused");
            assert_eq!(e.raw_os_error(), Some(Errno::ACCESS.raw_os_error()), "{e}");
            let text = explain_send_error(&e, &dest);
            assert!(text.contains("needs --broadcast"), "{text}");
            assert!(!text.contains('\n'));
        }
    }

    #[test]
    fn send_errors_in_words() {
        let dest = SocketAddr::from((Ipv4Addr::new(198, 18, 0, 9), 5000));
        let err = |e: Errno| io::Error::from(e);
        assert!(explain_send_error(&err(Errno::MSGSIZE), &dest).contains("at most 65507 bytes"));
        assert!(explain_send_error(&err(Errno::NETUNREACH), &dest).contains("network unreachable"));
        assert!(explain_send_error(&err(Errno::CONNREFUSED), &dest)
            .starts_with("nobody listens at 198.18.0.9:5000"));
    }

    #[tokio::test]
    async fn bind_reports_the_address() {
        let first = bind(
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            0,
            &UdpOptions::default(),
        )
        .await
        .expect("bind");
        let port = first.local_addr().expect("addr").port();
        let e = bind(
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            port,
            &UdpOptions::default(),
        )
        .await
        .expect_err("in use");
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("cannot listen on 127.0.0.1:{port}: ")),
            "{text}"
        );
        assert!(
            text.contains("another program uses this UDP port"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn bind_family_must_match() {
        let dest = SocketAddr::from((Ipv6Addr::LOCALHOST, 5000));
        let local = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let e = open(dest, Some(local), &UdpOptions::default())
            .await
            .expect_err("family");
        assert!(e.to_string().contains("another address family"), "{e}");
    }

    /// Multicast on loopback only: lo has no MULTICAST flag by default, so the join is done
    /// on lo explicitly and looped back; nothing leaves the host.
    #[tokio::test]
    async fn group_listeners_share_a_port() {
        let group = IpAddr::V4(Ipv4Addr::new(239, 255, 77, 1));
        let opts = UdpOptions {
            iface: Some("lo".into()),
            multicast_loop: true,
            ..UdpOptions::default()
        };
        let a = bind(Some(group), 0, &opts).await.expect("first listener");
        let port = a.local_addr().expect("addr").port();
        let b = bind(Some(group), port, &opts)
            .await
            .expect("second listener, same port");
        assert_eq!(b.local_addr().expect("addr").port(), port);
    }
}
