//! The command line, as close to the flags as possible (ripgrep's "low args"); decisions
//! derived from them (is stdout a terminal, which view) live in `mode.rs`.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use socklab_core::cidr::IpNet;
use socklab_core::codec::checksum::Checksum;
use socklab_core::codec::frame::FrameSpec;
use socklab_core::codec::Encoding;
use socklab_core::endpoint::Endpoint;

use crate::printer::Show;

const EXAMPLES: &str = "\
Examples:
  socklab demo                               a client and the seed's server on loopback
  socklab connect 127.0.0.1:7788 -e gbk      talk GBK to a device or the seed's server
  socklab listen 7788 --echo                 a server on every interface that echoes
  socklab send 127.0.0.1:6379 'PING\\r\\n'     one request, print the reply, exit
  socklab send 10.0.0.7:502 --hex '01 03 00 00 00 02' --show hex
  socklab listen udp://5000                  every datagram with its sender
  socklab send udp://192.168.1.255:5000 --broadcast hello
  socklab listen udp://239.1.2.3:5000        join a multicast group
  socklab listen tls://8443                  TLS with a self-signed certificate
  socklab connect tls://127.0.0.1:8443 --pin AB:CD:...
  socklab listen unix:/tmp/app.sock
  tar c dir | socklab connect host:9000      a raw pipe, like nc";

#[derive(Debug, Parser)]
#[command(
    name = "socklab",
    version,
    about = "A network debugging assistant (网络调试助手): TCP, UDP, Unix and TLS clients and servers, every byte as text or hex",
    after_help = EXAMPLES,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Connect to a server: an interactive full-duplex session on a terminal, a raw
    /// netcat-style pipe when stdin and stdout are not terminals.
    Connect(ConnectArgs),
    /// Be a server for many clients, each with an id (#1, #2 ...).
    Listen(ListenArgs),
    /// One shot: connect, send each DATA, print what comes back, exit.
    Send(SendArgs),
    /// Accept clients on LISTEN and forward each to TARGET, showing both directions.
    Relay(RelayArgs),
    /// A self-contained demo on loopback: the seed's GBK server and a client.
    Demo(DemoArgs),
    /// Look up DNS records (like nslookup or dig), or the name of an address.
    Dns(crate::commands::dns::DnsArgs),
    /// TCP connect time to HOST:PORT (like tcping), or ICMP echo to HOST.
    Ping(crate::commands::ping::PingArgs),
    /// Which TCP ports of a host are open.
    Scan(crate::commands::scan::ScanArgs),
    /// Network interfaces with their addresses, masks and the default gateway (like ipconfig).
    Ifaces(crate::commands::ifaces::IfacesArgs),
    /// Subnet calculator: network, broadcast, mask, host range; are these IPs in it?
    Subnet(crate::commands::subnet::SubnetArgs),
    /// Well-known ports, by number, by name or by a word.
    Ports(crate::commands::ports::PortsArgs),
    /// What happens when you open a web page, timed phase by phase.
    Trace(crate::commands::trace::TraceArgs),
    /// Text to bytes and back: text, hex or base64, in any encoding.
    Convert(crate::commands::convert::ConvertArgs),
    /// A full-screen terminal UI (NetAssist in a terminal): settings, received data, a send
    /// box and the clients, in English or 中文.
    Tui(crate::commands::tui::TuiArgs),
    /// The web UI on 127.0.0.1: sessions as tabs, the toolbox, in English or 中文; the
    /// printed URL carries the token.
    Web(crate::commands::web::WebArgs),
}

/// How input becomes bytes and how data is shown: the same everywhere.
#[derive(Debug, Args, Clone)]
pub struct DataArgs {
    /// Text encoding for input and display: utf-8, gbk, gb18030, big5, shift_jis, euc-kr,
    /// windows-1252, utf-16le, utf-16be ... or auto (detect on receive)
    #[arg(short = 'e', long, value_name = "ENC", default_value = "utf-8", value_parser = parse_encoding)]
    pub encoding: Encoding,
    /// Input is hex: "48 65 6c", "48656c" and "0x48,0x65" are all accepted
    #[arg(long)]
    pub hex: bool,
    /// Send backslashes as they are (by default \r \n \t \0 \\ \xHH are understood)
    #[arg(long)]
    pub no_escapes: bool,
    /// Append a checksum to every message (DATA, typed lines, /hex), computed over the whole
    /// message as it goes out: sum8, xor8, crc8, crc16-modbus, crc16-xmodem,
    /// crc16-ccitt-false, crc32; add :le or :be to a 16/32-bit one for the byte order
    /// [default order: crc16-modbus low byte first, the others high byte first]
    #[arg(long, value_name = "SPEC", value_parser = parse_checksum)]
    pub checksum: Option<Checksum>,
    /// Cut received data into the protocol's messages, one event each: raw (each read),
    /// line, crlf, delim:HEX, fixed:N, len:u8|u16be|u16le|u32be|u32le[+N|-N] (the length
    /// counts the bytes after it; +N when it also counts N more). With --checksum, each
    /// received frame's trailing checksum is verified
    #[arg(long, value_name = "SPEC", value_parser = parse_frame)]
    pub frame: Option<FrameSpec>,
    /// Line ending appended to typed lines [default: lf for typed text; none for send, hex
    /// and with --checksum]
    #[arg(long, value_enum, value_name = "EOL")]
    pub eol: Option<Eol>,
    /// How data is shown [default: text on a terminal, raw when piped]
    #[arg(long, value_enum, value_name = "VIEW")]
    pub show: Option<Show>,
    /// Prefix every line with the local time, to the millisecond
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// One JSON object per event on stdout (see the README for the fields)
    #[arg(long)]
    pub json: bool,
    /// Append every event, as JSON lines, to FILE
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Send the data N times (0 = until stopped); {counter} in it counts the rounds from 1
    #[arg(long, value_name = "N")]
    pub repeat: Option<u64>,
    /// Pause between repeated sends
    #[arg(long, value_name = "DUR", default_value = "1s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Send the contents of a file (with a progress bar on a terminal)
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Also show status lines (connected, closed) on stderr in raw mode
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

#[derive(Debug, Args, Clone)]
pub struct ConnectOpts {
    /// Give up connecting after DUR
    #[arg(short = 'w', long, value_name = "DUR", default_value = "10s", value_parser = parse_duration)]
    pub connect_timeout: Duration,
    /// Local address to connect from, e.g. 127.0.0.2:0 or 0.0.0.0:5000
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<SocketAddr>,
    #[command(flatten)]
    pub udp: UdpArgs,
    #[command(flatten)]
    pub tls: TlsClientArgs,
}

/// UDP options (udp:// endpoints).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "UDP")]
pub struct UdpArgs {
    /// Allow sending to a broadcast address (255.255.255.255 or a subnet's broadcast)
    #[arg(long)]
    pub broadcast: bool,
    /// Multicast: hops a datagram to a group may take (default 1: this network only)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=255))]
    pub ttl: Option<u32>,
    /// Multicast: also deliver our datagrams to listeners on this host
    #[arg(long)]
    pub multicast_loop: bool,
    /// Multicast: the interface (name or address) to join on or send from
    #[arg(long, value_name = "NAME|ADDR")]
    pub iface: Option<String>,
}

/// TLS client options (tls:// endpoints).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "TLS")]
pub struct TlsClientArgs {
    /// Trust the CA certificates in this PEM file instead of the system's
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Do not verify the server's certificate (says so loudly; for testing only)
    #[arg(long)]
    pub insecure: bool,
    /// Server name to send and verify (default: the host as typed)
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// Protocols to offer, comma-separated (e.g. h2,http/1.1)
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub alpn: Vec<String>,
    /// Accept exactly the certificate with this SHA-256 fingerprint (as `listen` prints it)
    #[arg(long, value_name = "SHA256")]
    pub pin: Option<String>,
}

/// TLS server options (tls:// endpoints).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "TLS")]
pub struct TlsServerArgs {
    /// Certificate chain (PEM); without --cert/--key a self-signed one is made at start
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of --cert
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Protocols to accept, comma-separated, in order of preference
    #[arg(long = "alpn", value_name = "LIST", value_delimiter = ',')]
    pub alpn: Vec<String>,
}

/// Auto-replies: a mock server or device.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Auto-replies")]
pub struct ReplyArgs {
    /// Answer each received message (a frame with --frame, else each read or datagram)
    /// that contains MATCH with RESPONSE: 'PING=>PONG\r\n', 'hex:01 03=>hex:01 83 02',
    /// 're:^GET (\S+)=>got $1' (repeatable; the first rule that matches answers)
    #[arg(long = "reply", value_name = "'MATCH=>RESPONSE'")]
    pub replies: Vec<String>,
    /// Auto-reply rules from a TOML file: [[rule]] tables with match, response, and
    /// optional delay ("200ms") and once (true); tried after the --reply rules
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
}

impl ReplyArgs {
    pub fn is_empty(&self) -> bool {
        self.replies.is_empty() && self.rules.is_none()
    }
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// HOST:PORT, tcp://, udp://, tls://HOST:PORT, unix:PATH, unix:@NAME or unixgram:PATH
    #[arg(value_parser = parse_connect)]
    pub endpoint: Endpoint,
    #[command(flatten)]
    pub connect: ConnectOpts,
    /// Keep our sending side open after stdin ends (by default it is shut down so the peer
    /// sees end of stream)
    #[arg(long)]
    pub no_shutdown: bool,
    /// udp/unixgram: after stdin ends, how long to wait in silence for more datagrams
    #[arg(long, value_name = "DUR", default_value = "1s", value_parser = parse_duration)]
    pub wait: Duration,
    /// udp/unixgram in a pipe: bytes of stdin per datagram (1472 = an Ethernet frame's
    /// payload over IPv4, so no datagram is fragmented)
    #[arg(long, value_name = "N", default_value_t = 1472)]
    pub packet_size: usize,
    /// Run the steps of FILE over the connection, then exit: send DATA, expect [DUR]
    /// PATTERN (text, hex:, re:), wait DUR, timeout DUR, close. Exits 0 when every step
    /// passed, 3 when an expect failed
    #[arg(long, value_name = "FILE", conflicts_with_all = ["file", "repeat", "checksum"])]
    pub script: Option<PathBuf>,
    /// tcp, tls, unix: when the peer goes away (or a connect attempt fails), connect again
    /// after DUR, doubling up to 30s, as the same session (default 1s)
    #[arg(long, value_name = "DUR", num_args = 0..=1, default_missing_value = RECONNECT_DEFAULT,
          value_parser = parse_duration, conflicts_with = "script")]
    pub reconnect: Option<Duration>,
    #[command(flatten)]
    pub reply: ReplyArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

/// Who may connect to a server (`listen`, `relay`), and for how long.
#[derive(Debug, Args)]
pub struct AccessArgs {
    /// Refuse clients beyond N at once
    #[arg(long, value_name = "N")]
    pub max_clients: Option<usize>,
    /// Let in only clients in this range: 10.0.0.0/8, 192.168.1.7, fd00::/8 (repeatable;
    /// UDP: senders)
    #[arg(long, value_name = "CIDR", value_parser = parse_cidr)]
    pub allow: Vec<IpNet>,
    /// Keep out clients in this range (repeatable; wins over --allow)
    #[arg(long, value_name = "CIDR", value_parser = parse_cidr)]
    pub deny: Vec<IpNet>,
    /// Close a client after DUR with no data either way (UDP: forget the sender; a UDP
    /// relay forgets a source after 60s unless told otherwise)
    #[arg(long, value_name = "DUR", value_parser = crate::commands::ping::positive_duration)]
    pub idle_timeout: Option<Duration>,
}

#[derive(Debug, Args)]
pub struct ListenArgs {
    /// PORT (every interface, IPv4 and IPv6), HOST:PORT, [IPv6]:PORT, udp://, tls://,
    /// unix:PATH, unix:@NAME or unixgram:PATH; port 0 picks a free one
    #[arg(value_parser = parse_listen)]
    pub endpoint: Endpoint,
    /// Send every received chunk back to its sender
    #[arg(long)]
    pub echo: bool,
    /// What a client sends goes to every other client (like ncat --broker); the console
    /// sees all of it
    #[arg(long, conflicts_with = "once")]
    pub broker: bool,
    /// Take one client and exit when it leaves, like nc -l
    #[arg(long)]
    pub once: bool,
    #[command(flatten)]
    pub access: AccessArgs,
    #[command(flatten)]
    pub udp: UdpArgs,
    #[command(flatten)]
    pub tls: TlsServerArgs,
    #[command(flatten)]
    pub reply: ReplyArgs,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// HOST:PORT, tcp://, udp://, tls://HOST:PORT, unix:PATH or unixgram:PATH
    #[arg(value_parser = parse_connect)]
    pub endpoint: Endpoint,
    /// What to send, each argument as given (after escapes and the placeholders {counter},
    /// {time}, {unix}, {rand:N}, {hex:..}); no line ending is added unless --eol says so
    #[arg(value_name = "DATA")]
    pub data_items: Vec<String>,
    /// How long to wait in silence for (more of) a reply before exiting
    #[arg(long, value_name = "DUR", default_value = "1s", value_parser = parse_duration)]
    pub wait: Duration,
    #[command(flatten)]
    pub connect: ConnectOpts,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Where clients come in: PORT, HOST:PORT, [IPv6]:PORT, udp://, tls://, unix:PATH
    #[arg(value_parser = parse_listen)]
    pub listen: Endpoint,
    /// Where each client is forwarded: HOST:PORT, tcp://, udp://, tls://HOST:PORT, unix:PATH
    #[arg(value_parser = parse_connect)]
    pub target: Endpoint,
    /// Hold each chunk (each datagram) this long before forwarding it, both ways: a slow line
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub delay: Option<Duration>,
    /// UDP: drop this share of datagrams, both ways (0-100, e.g. 10 or 2.5): a lossy line
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub drop: Option<f64>,
    /// Make forwarding wait for the view, so every chunk is shown (by default the view
    /// never slows forwarding, and says how much it could not show)
    #[arg(long)]
    pub sync_view: bool,
    #[command(flatten)]
    pub access: AccessArgs,
    /// Give up connecting to the target after DUR (the client is then closed)
    #[arg(short = 'w', long, value_name = "DUR", default_value = "10s", value_parser = parse_duration)]
    pub connect_timeout: Duration,
    #[command(flatten)]
    pub tls: TlsServerArgs,
    /// tls:// target: trust the CA certificates in this PEM file instead of the system's
    #[arg(long, value_name = "FILE", help_heading = "TLS")]
    pub ca: Option<PathBuf>,
    /// tls:// target: do not verify its certificate (says so loudly; for testing only)
    #[arg(long, help_heading = "TLS")]
    pub insecure: bool,
    /// tls:// target: server name to send and verify (default: the host as typed)
    #[arg(long, value_name = "NAME", help_heading = "TLS")]
    pub sni: Option<String>,
    /// tls:// target: accept exactly the certificate with this SHA-256 fingerprint
    #[arg(long, value_name = "SHA256", help_heading = "TLS")]
    pub pin: Option<String>,
    /// Text encoding of the view: utf-8, gbk, ... or auto
    #[arg(short = 'e', long, value_name = "ENC", default_value = "utf-8", value_parser = parse_encoding)]
    pub encoding: Encoding,
    /// How forwarded data is shown; none shows only connections (and lets TCP splice)
    #[arg(long, value_enum, value_name = "VIEW", default_value = "text")]
    pub show: RelayShow,
    /// Prefix every line with the local time, to the millisecond
    #[arg(short = 't', long)]
    pub timestamps: bool,
    /// One JSON object per event on stdout (see the README for the fields)
    #[arg(long)]
    pub json: bool,
    /// Append every event, as JSON lines, to FILE
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

/// What a relay shows of the data it forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RelayShow {
    Text,
    Hex,
    Both,
    /// Connections and counts only.
    None,
}

/// `--drop`: a share in percent, 0 to 100.
fn parse_percent(s: &str) -> Result<f64, String> {
    match s.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "'{s}' is not a share of datagrams; expected a percentage from 0 to 100, such as 10 or 2.5"
        )),
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Port for the demo server on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

/// Line endings for typed lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Eol {
    Lf,
    Crlf,
    Cr,
    None,
}

impl Eol {
    pub fn as_str(self) -> &'static str {
        match self {
            Eol::Lf => "\n",
            Eol::Crlf => "\r\n",
            Eol::Cr => "\r",
            Eol::None => "",
        }
    }
}

pub fn parse_encoding(s: &str) -> Result<Encoding, String> {
    Encoding::from_label(s).map_err(|e| e.to_string())
}

fn parse_checksum(s: &str) -> Result<Checksum, String> {
    s.parse::<Checksum>().map_err(|e| e.to_string())
}

fn parse_frame(s: &str) -> Result<FrameSpec, String> {
    s.parse::<FrameSpec>().map_err(|e| e.to_string())
}

fn parse_connect(s: &str) -> Result<Endpoint, String> {
    Endpoint::parse_connect(s).map_err(|e| e.to_string())
}

fn parse_listen(s: &str) -> Result<Endpoint, String> {
    Endpoint::parse_listen(s).map_err(|e| e.to_string())
}

/// An `--allow`/`--deny` range; clap names the flag and the value, so the message is the
/// reason and what was expected.
fn parse_cidr(s: &str) -> Result<IpNet, String> {
    socklab_core::cidr::parse_cidr(s)
        .map_err(|reason| format!("{reason}; expected {}", socklab_core::cidr::EXPECTED))
}

/// `--reconnect` without a DUR.
const RECONNECT_DEFAULT: &str = "1s";

/// The command line as clap should read it. `--reconnect` takes an optional DUR, and clap
/// gives an optional value whatever word comes next: `connect --reconnect 127.0.0.1:80`
/// would read the endpoint as a bad duration. A `--reconnect` followed by a word that is
/// not a duration is the bare flag, so it is written out with its default.
pub fn args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut out: Vec<OsString> = args.into_iter().collect();
    let end = out.iter().position(|a| a == "--").unwrap_or(out.len());
    for i in 0..end {
        let bare = out[i] == "--reconnect"
            && out
                .get(i + 1)
                .and_then(|next| next.to_str())
                .is_some_and(|next| parse_duration(next).is_err());
        if bare {
            out[i] = format!("--reconnect={RECONNECT_DEFAULT}").into();
        }
    }
    out
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| {
        socklab_core::Error::Duration {
            input: s.to_string(),
            reason: e.to_string(),
        }
        .to_string()
    })
}
