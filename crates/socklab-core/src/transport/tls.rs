//! TLS over a connected TCP stream: rustls on the ring provider, no OpenSSL.
//!
//! A debugging tool meets certificates that a browser would refuse (self-signed, expired,
//! issued for another name), so the client offers three ways to trust a server: a SHA-256
//! pin of the leaf certificate, `insecure`, or CA verification against a PEM file or the
//! system roots. The server side loads a PEM certificate and key, or generates a
//! self-signed certificate so that `--tls` works without preparing files. Every failure is
//! put in plain words by [`explain`], because rustls' own messages name protocol internals.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError, DigitallySignedStruct, InconsistentKeys, InvalidMessage,
    OtherError, PeerIncompatible, RootCertStore, SignatureScheme,
};
use tokio::net::TcpStream;
use tokio_rustls::{TlsAcceptor, TlsConnector};

pub use tokio_rustls::{client::TlsStream as ClientTls, server::TlsStream as ServerTls};

use crate::error::{Error, Result};

/// The one crypto provider. Configs are always built with it explicitly: with no process
/// default installed, rustls would otherwise have to guess, and ring is all we compile.
fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

// ---------------------------------------------------------------------------------------
// Fingerprints and certificate details

/// SHA-256 fingerprint of a DER certificate: what `--pin` compares and what people copy
/// from `openssl x509 -noout -fingerprint -sha256`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of(der: &[u8]) -> Fingerprint {
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_ref());
        Fingerprint(out)
    }
}

impl fmt::Display for Fingerprint {
    /// Uppercase pairs joined by ':', the form openssl prints, so both can be compared by eye.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl FromStr for Fingerprint {
    type Err = Error;

    /// Accepts `AB:CD:…`, `abcd…`, optionally prefixed `sha256:` or `SHA256=`.
    fn from_str(input: &str) -> Result<Fingerprint> {
        let bad = |reason: String| Error::Pin {
            input: input.to_string(),
            reason,
        };
        let mut s = input.trim();
        if let Some(head) = s.get(..6).filter(|h| h.eq_ignore_ascii_case("sha256")) {
            if let Some(rest) = s[head.len()..].strip_prefix([':', '=']) {
                s = rest;
            }
        }
        if s.is_empty() {
            return Err(bad("it is empty".into()));
        }
        let digits: Vec<char> = if s.contains(':') {
            let groups: Vec<&str> = s.split(':').collect();
            if let Some((i, g)) = groups
                .iter()
                .enumerate()
                .find(|(_, g)| g.chars().count() != 2)
            {
                return Err(bad(format!(
                    "group {} ('{g}') is not two hex digits",
                    i + 1
                )));
            }
            groups.iter().flat_map(|g| g.chars()).collect()
        } else {
            s.chars().collect()
        };
        if let Some(c) = digits.iter().find(|c| !c.is_ascii_hexdigit()) {
            return Err(bad(format!("'{c}' is not a hex digit")));
        }
        if digits.len() != 64 {
            return Err(bad(format!("it has {} hex digits, not 64", digits.len())));
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(digits.chunks(2)) {
            let hi = pair[0].to_digit(16).unwrap_or(0);
            let lo = pair[1].to_digit(16).unwrap_or(0);
            *byte = (hi * 16 + lo) as u8;
        }
        Ok(Fingerprint(out))
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a person wants to know about a certificate.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// RFC 3339, UTC.
    pub not_before: String,
    /// RFC 3339, UTC.
    pub not_after: String,
    pub sha256: Fingerprint,
    /// Subject alternative names: DNS names and IP addresses, the names TLS checks.
    pub names: Vec<String>,
    /// Issuer equals subject. The signature is not checked: this is a hint for a person
    /// ("why is it not trusted?"), not a trust decision.
    pub self_signed: bool,
}

/// Describe a DER certificate. Peers send arbitrary bytes, so this fails softly with an
/// error rather than assuming a well-formed certificate.
pub fn cert_info(der: &[u8]) -> Result<CertInfo> {
    use x509_parser::extensions::GeneralName;
    use x509_parser::prelude::FromDer;
    let (_, cert) =
        x509_parser::certificate::X509Certificate::from_der(der).map_err(|e| Error::TlsConfig {
            reason: format!("the certificate cannot be parsed ({e}); expected DER X.509"),
        })?;
    let time = |t: &x509_parser::time::ASN1Time| match jiff::Timestamp::from_second(t.timestamp()) {
        Ok(ts) => ts.to_string(),
        Err(_) => t.to_string(),
    };
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(n) => names.push(n.to_string()),
                GeneralName::IPAddress(b) => {
                    if let Ok(v4) = <[u8; 4]>::try_from(*b) {
                        names.push(IpAddr::from(v4).to_string());
                    } else if let Ok(v6) = <[u8; 16]>::try_from(*b) {
                        names.push(IpAddr::from(v6).to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Ok(CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: time(&cert.validity().not_before),
        not_after: time(&cert.validity().not_after),
        sha256: Fingerprint::of(der),
        names,
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
    })
}

/// The outcome of a handshake.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HandshakeInfo {
    /// "TLSv1.3" or "TLSv1.2".
    pub protocol: String,
    /// The IANA-style suite name, e.g. "TLS13_AES_256_GCM_SHA384".
    pub cipher: String,
    pub alpn: Option<String>,
    /// The peer's leaf certificate (server side: none, client certificates are not asked for).
    pub peer_cert: Option<CertInfo>,
    /// Server side: the name the client asked for. Client side: the name we sent (none for
    /// an IP address, which TLS does not send as SNI).
    pub sni: Option<String>,
}

fn handshake_info(conn: &rustls::CommonState, sni: Option<String>) -> HandshakeInfo {
    let protocol = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
        Some(v) => format!("{v:?}"),
        None => "unknown".to_string(),
    };
    let cipher = match conn.negotiated_cipher_suite() {
        Some(s) => s
            .suite()
            .as_str()
            .map_or_else(|| format!("{:?}", s.suite()), str::to_string),
        None => "unknown".to_string(),
    };
    HandshakeInfo {
        protocol,
        cipher,
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        peer_cert: conn
            .peer_certificates()
            .and_then(|c| c.first())
            .and_then(|c| cert_info(c).ok()),
        sni,
    }
}

// ---------------------------------------------------------------------------------------
// Client

/// How the client trusts the server and what it asks for.
#[derive(Debug, Clone, Default)]
pub struct TlsClientOptions {
    /// PEM file of CA certificates to trust instead of the system roots.
    pub ca: Option<PathBuf>,
    /// Accept any certificate (the handshake signature is still checked).
    pub insecure: bool,
    /// Name to send as SNI and verify the certificate against, instead of the host.
    pub sni: Option<String>,
    pub alpn: Vec<String>,
    /// Accept exactly the leaf certificate with this SHA-256; takes precedence over the rest.
    pub pin: Option<Fingerprint>,
}

/// Build once per session. With `pin`: exactly that leaf certificate, no CA or name check
/// (pinning is how one trusts a self-signed server). With `insecure`: anything. Else the CA
/// file, or the system roots.
pub fn client_config(opts: &TlsClientOptions) -> Result<Arc<rustls::ClientConfig>> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::TlsConfig {
            reason: format!("the ring provider offers no TLS version ({e})"),
        })?;
    let mut config = if opts.pin.is_some() || opts.insecure {
        let verifier = Lenient {
            pin: opts.pin,
            algorithms: provider.signature_verification_algorithms,
        };
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    } else {
        let roots = match &opts.ca {
            Some(path) => Arc::new(ca_file(path)?),
            None => system_roots()?,
        };
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = opts.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Ok(Arc::new(config))
}

fn cert_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::Certificate {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

fn pem_error(path: &Path, e: pem::Error, what: &str) -> Error {
    match e {
        pem::Error::Io(e) => cert_error(path, format!("cannot read it: {e}")),
        pem::Error::NoItemsFound => cert_error(path, format!("no {what} in it")),
        e => cert_error(path, format!("not a valid PEM file ({e}); expected {what}")),
    }
}

/// Every certificate in a PEM file becomes a trust anchor.
fn ca_file(path: &Path) -> Result<RootCertStore> {
    const WHAT: &str = "certificate (expected PEM '-----BEGIN CERTIFICATE-----' blocks)";
    let mut store = RootCertStore::empty();
    let iter = CertificateDer::pem_file_iter(path).map_err(|e| pem_error(path, e, WHAT))?;
    for (i, cert) in iter.enumerate() {
        let cert = cert.map_err(|e| pem_error(path, e, WHAT))?;
        store.add(cert).map_err(|e| {
            cert_error(
                path,
                format!(
                    "certificate {} cannot be a trust anchor: {}",
                    i + 1,
                    explain(&e)
                ),
            )
        })?;
    }
    if store.is_empty() {
        return Err(cert_error(path, format!("no {WHAT}")));
    }
    Ok(store)
}

/// The system roots, loaded once per process: reading the store costs milliseconds and
/// it does not change while socklab runs.
fn system_roots() -> Result<Arc<RootCertStore>> {
    static ROOTS: OnceLock<std::result::Result<Arc<RootCertStore>, String>> = OnceLock::new();
    let loaded = ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        let mut store = RootCertStore::empty();
        store.add_parsable_certificates(found.certs);
        if store.is_empty() {
            let why = match found.errors.first() {
                Some(e) => format!(" ({e})"),
                None => String::new(),
            };
            return Err(format!(
                "no CA certificate could be loaded from the system store{why}; install ca-certificates, or use --ca FILE, --pin SHA256 or --insecure"
            ));
        }
        Ok(Arc::new(store))
    });
    loaded.clone().map_err(|reason| Error::TlsConfig { reason })
}

/// The verifier for `pin` and `insecure`. It skips the chain and name checks but still
/// verifies the handshake signature, so the peer must hold the certificate's private key.
#[derive(Debug)]
struct Lenient {
    pin: Option<Fingerprint>,
    algorithms: WebPkiSupportedAlgorithms,
}

/// Carried through rustls inside `CertificateError::Other`, so [`explain`] can name both
/// fingerprints.
#[derive(Debug)]
struct PinMismatch {
    expected: Fingerprint,
    got: Fingerprint,
}

impl fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the certificate's SHA-256 is {}, not the pinned {}",
            self.got, self.expected
        )
    }
}

impl std::error::Error for PinMismatch {}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        if let Some(expected) = self.pin {
            let got = Fingerprint::of(end_entity);
            if got != expected {
                return Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                    OtherError(Arc::new(PinMismatch { expected, got })),
                )));
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Handshake as a client. SNI is `opts.sni` or else `host`; an IP address is verified as
/// an IP and sends no SNI, as TLS requires.
pub async fn connect(
    tcp: TcpStream,
    host: &str,
    config: Arc<rustls::ClientConfig>,
    opts: &TlsClientOptions,
) -> Result<(ClientTls<TcpStream>, HandshakeInfo)> {
    let name = opts.sni.as_deref().unwrap_or(host);
    let name = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    let server_name = ServerName::try_from(name.to_string()).map_err(|_| Error::TlsConfig {
        reason: format!(
            "'{name}' cannot be sent as the TLS server name; expected a DNS name such as example.com or an IP address (--sni)"
        ),
    })?;
    let sni = match &server_name {
        ServerName::DnsName(d) => Some(d.as_ref().to_string()),
        _ => None,
    };
    let target = match tcp.peer_addr() {
        Ok(addr) if addr.ip().to_string() != host.trim_matches(['[', ']']) => {
            format!("{host} ({addr})")
        }
        Ok(addr) => addr.to_string(),
        Err(_) => host.to_string(),
    };
    let tls = TlsConnector::from(config)
        .connect(server_name, tcp)
        .await
        .map_err(|e| handshake_failed(target, &e))?;
    let info = handshake_info(tls.get_ref().1, sni);
    Ok((tls, info))
}

// ---------------------------------------------------------------------------------------
// Server

/// The server's certificate and ALPN protocols.
#[derive(Debug, Clone, Default)]
pub struct TlsServerOptions {
    /// PEM certificate chain, leaf first. Goes with `key`.
    pub cert: Option<PathBuf>,
    /// PEM private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
    pub key: Option<PathBuf>,
    pub alpn: Vec<String>,
    /// Names for a generated certificate besides "localhost", 127.0.0.1 and ::1, e.g. the
    /// listen address, so clients that verify names can connect by it.
    pub names: Vec<String>,
}

/// The server's TLS side, built once at start.
#[derive(Debug, Clone)]
pub struct TlsServer {
    pub config: Arc<rustls::ServerConfig>,
    /// The leaf certificate we present; its fingerprint is what clients pin.
    pub cert: CertInfo,
    /// True when the certificate was generated (self-signed) rather than loaded.
    pub generated: bool,
}

/// Load `cert` + `key`, or without them generate a self-signed certificate, so that a TLS
/// server needs no preparation; clients then pin the fingerprint in [`TlsServer::cert`].
/// File problems are usage errors naming the file; a key that does not belong to the
/// certificate is caught here rather than as a confusing handshake failure later.
pub fn server(opts: &TlsServerOptions) -> Result<TlsServer> {
    let (certs, key, generated) = match (&opts.cert, &opts.key) {
        (Some(cert), Some(key)) => {
            let (certs, key_der) = load_cert_and_key(cert, key)?;
            (certs, key_der, false)
        }
        (None, None) => {
            let (certs, key) = generate(&opts.names)?;
            (certs, key, true)
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::TlsConfig {
                reason: "a certificate and its key go together; expected both --cert FILE and --key FILE, or neither for a generated self-signed certificate".into(),
            })
        }
    };
    let cert = cert_info(&certs[0]).map_err(|e| match (&opts.cert, e) {
        (Some(path), Error::TlsConfig { reason }) => cert_error(path, reason),
        (_, e) => e,
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::TlsConfig {
            reason: format!("the ring provider offers no TLS version ({e})"),
        })?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            let key_path = opts.key.as_deref().unwrap_or(Path::new("generated key"));
            let cert_path = opts.cert.as_deref().unwrap_or(Path::new("generated cert"));
            match e {
                rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch) => cert_error(
                    key_path,
                    format!(
                        "the key does not match the certificate in '{}'; expected the private key of that certificate",
                        cert_path.display()
                    ),
                ),
                e => cert_error(key_path, format!("the key cannot be used: {}", explain(&e))),
            }
        })?;
    config.alpn_protocols = opts.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    // No TLS 1.3 session tickets. A client that only sends (`ncat --ssl --send-only`,
    // a board pushing a log) never reads them, and a socket closed with unread data is
    // reset by the kernel, which throws away the client's last unsent bytes: the upload
    // arrived short with "connection reset". Resumption buys a debugging tool nothing.
    config.send_tls13_tickets = 0;
    Ok(TlsServer {
        config: Arc::new(config),
        cert,
        generated,
    })
}

type CertAndKey = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn load_cert_and_key(cert: &Path, key: &Path) -> Result<CertAndKey> {
    const CERT: &str = "certificate (expected PEM '-----BEGIN CERTIFICATE-----' blocks)";
    const KEY: &str = "private key (expected a PEM 'BEGIN PRIVATE KEY', 'BEGIN RSA PRIVATE KEY' or 'BEGIN EC PRIVATE KEY' block)";
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| pem_error(cert, e, CERT))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| pem_error(cert, e, CERT))?;
    if certs.is_empty() {
        return Err(cert_error(cert, format!("no {CERT}")));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| pem_error(key, e, KEY))?;
    Ok((certs, key_der))
}

/// A self-signed certificate valid from yesterday (clock skew) for a year. Extra names that
/// are neither DNS names nor IP addresses (e.g. "host:port") are left out rather than
/// failing the server's start.
fn generate(extra: &[String]) -> Result<CertAndKey> {
    let fail = |e: rcgen::Error| Error::TlsConfig {
        reason: format!("cannot generate a self-signed certificate: {e}"),
    };
    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    for n in extra {
        let n = n.trim_start_matches('[').trim_end_matches(']');
        let usable = n.parse::<IpAddr>().is_ok() || ServerName::try_from(n).is_ok();
        if usable && !n.is_empty() && !names.iter().any(|m| m.eq_ignore_ascii_case(n)) {
            names.push(n.to_string());
        }
    }
    let mut params = rcgen::CertificateParams::new(names).map_err(fail)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "socklab self-signed");
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let (start, end) = (
        today.yesterday(),
        today.saturating_add(jiff::Span::new().years(1)),
    );
    if let Ok(start) = start {
        params.not_before =
            rcgen::date_time_ymd(start.year().into(), start.month() as u8, start.day() as u8);
    }
    params.not_after = rcgen::date_time_ymd(end.year().into(), end.month() as u8, end.day() as u8);
    let key = rcgen::KeyPair::generate().map_err(fail)?;
    let cert = params.self_signed(&key).map_err(fail)?;
    let key = PrivateKeyDer::Pkcs8(key.serialize_der().into());
    Ok((vec![cert.der().clone()], key))
}

/// Handshake as a server with a client that connected from `peer`.
pub async fn accept(
    tcp: TcpStream,
    server: &TlsServer,
    peer: SocketAddr,
) -> Result<(ServerTls<TcpStream>, HandshakeInfo)> {
    let tls = TlsAcceptor::from(server.config.clone())
        .accept(tcp)
        .await
        .map_err(|e| handshake_failed(peer.to_string(), &e))?;
    let conn = &tls.get_ref().1;
    let sni = conn.server_name().map(str::to_string);
    let info = handshake_info(conn, sni);
    Ok((tls, info))
}

// ---------------------------------------------------------------------------------------
// Explanations

/// tokio-rustls reports rustls errors inside io::Error (InvalidData); the rest are the
/// socket's own errors, and a peer that hangs up mid-handshake is usually not speaking TLS.
/// A failed handshake in plain words; `rejected` when it was the peer's certificate that
/// this side refused.
fn handshake_failed(target: String, e: &std::io::Error) -> Error {
    let tls = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    Error::TlsHandshake {
        target,
        reason: tls.map_or_else(|| explain_io(e), explain),
        rejected: matches!(tls, Some(rustls::Error::InvalidCertificate(_))),
    }
}

/// An I/O failure during a handshake that is not rustls's own error.
fn explain_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::UnexpectedEof => {
            "the peer closed the connection during the handshake: is it speaking TLS?".into()
        }
        ErrorKind::ConnectionReset => {
            "the peer reset the connection during the handshake: is it speaking TLS?".into()
        }
        _ => format!("{e}"),
    }
}

fn unix(t: UnixTime) -> String {
    match i64::try_from(t.as_secs()).map(jiff::Timestamp::from_second) {
        Ok(Ok(ts)) => ts.to_string(),
        _ => format!("{} seconds after 1970", t.as_secs()),
    }
}

/// Plain-words explanation of a rustls error, with what to do about it where there is
/// something to do.
pub fn explain(e: &rustls::Error) -> String {
    use rustls::Error as E;
    const TRUST: &str = "use --ca FILE, --pin SHA256 or --insecure";
    // For a certificate that no CA file would fix.
    const ANYWAY: &str = "use --pin SHA256 or --insecure to accept it anyway";
    match e {
        E::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => format!(
                "the certificate is not signed by a CA we trust; {TRUST}"
            ),
            CertificateError::NotValidForNameContext { expected, presented } => format!(
                "the certificate is for {}, not '{}'; connect by one of its names, set --sni NAME, or {ANYWAY}",
                if presented.is_empty() {
                    "no name at all".to_string()
                } else {
                    presented.iter().map(|n| presented_name(n)).collect::<Vec<_>>().join(", ")
                },
                expected.to_str()
            ),
            CertificateError::NotValidForName => {
                format!("the certificate is not valid for the name we asked for; set --sni NAME, or {ANYWAY}")
            }
            CertificateError::ExpiredContext { time, not_after } => format!(
                "the certificate expired at {} (it is now {}); {ANYWAY}",
                unix(*not_after),
                unix(*time)
            ),
            CertificateError::Expired => format!("the certificate has expired; {ANYWAY}"),
            CertificateError::NotValidYetContext { time, not_before } => format!(
                "the certificate is not valid yet: it starts at {} (it is now {}; is a clock wrong?); {ANYWAY}",
                unix(*not_before),
                unix(*time)
            ),
            CertificateError::NotValidYet => {
                format!("the certificate is not valid yet (is a clock wrong?); {ANYWAY}")
            }
            CertificateError::Revoked => "the certificate has been revoked".into(),
            CertificateError::BadSignature => {
                format!("the certificate's signature does not verify; {TRUST}")
            }
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                format!("the certificate is not meant for a TLS server (extended key usage); {ANYWAY}")
            }
            CertificateError::Other(OtherError(inner)) => match inner.downcast_ref::<PinMismatch>() {
                Some(pin) => format!("{pin}; check --pin, or the server changed its certificate"),
                // webpki's error, which rustls passes on without a variant of its own (and
                // whose Display is its name): the usual self-signed certificate from
                // `openssl req -x509` is marked as a CA, and webpki refuses a CA as a leaf
                // even when it is the very anchor given with --ca.
                None if inner.to_string() == "CaUsedAsEndEntity" => format!(
                    "the certificate is a CA certificate (basicConstraints CA:TRUE, as `openssl req -x509` makes by default), which is refused as a server's own certificate even when --ca names it; {ANYWAY}, or make it with -addext basicConstraints=critical,CA:FALSE"
                ),
                None => format!("the certificate was rejected: {inner}"),
            },
            other => format!("the certificate was rejected: {other}"),
        },
        E::AlertReceived(alert) => explain_alert(*alert),
        E::PeerIncompatible(p) => match p {
            PeerIncompatible::NoCipherSuitesInCommon => {
                "no cipher suite in common with the peer".into()
            }
            PeerIncompatible::NoKxGroupsInCommon => {
                "no key exchange group in common with the peer".into()
            }
            PeerIncompatible::NoSignatureSchemesInCommon => {
                "no signature scheme in common with the peer".into()
            }
            PeerIncompatible::ServerDoesNotSupportTls12Or13
            | PeerIncompatible::SupportedVersionsExtensionRequired
            | PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled => {
                "no TLS version in common: the peer does not speak TLS 1.2 or 1.3".into()
            }
            other => format!("the peer is incompatible ({other:?})"),
        },
        E::NoApplicationProtocol => {
            "no ALPN protocol in common: the peer supports none of those offered (--alpn)".into()
        }
        E::InvalidMessage(
            InvalidMessage::InvalidContentType
            | InvalidMessage::UnknownProtocolVersion
            | InvalidMessage::MessageTooLarge,
        ) => "the peer answered with something that is not TLS: is it speaking TLS?".into(),
        E::InvalidMessage(m) => format!("the peer sent a malformed TLS message ({m:?})"),
        E::NoCertificatesPresented => "the peer sent no certificate".into(),
        E::InconsistentKeys(InconsistentKeys::KeyMismatch) => {
            "the private key does not match the certificate".into()
        }
        E::DecryptError => "a handshake message failed to decrypt or verify".into(),
        other => other.to_string(),
    }
}

/// webpki lists a certificate's names in Debug form (`DnsName("a.example")`,
/// `IpAddress(127.0.0.1)`); a person wants just the name.
fn presented_name(n: &str) -> &str {
    let quoted = n
        .strip_prefix("DnsName(\"")
        .and_then(|r| r.strip_suffix("\")"));
    let ip = n
        .strip_prefix("IpAddress(")
        .and_then(|r| r.strip_suffix(')'));
    quoted.or(ip).unwrap_or(n)
}

fn explain_alert(alert: AlertDescription) -> String {
    use AlertDescription as A;
    match alert {
        A::HandshakeFailure => "the peer refused the handshake (handshake_failure alert): no cipher suite, key exchange or signature scheme in common, or it wants a client certificate".into(),
        A::ProtocolVersion => "the peer refused our TLS versions (protocol_version alert): it speaks neither TLS 1.2 nor 1.3".into(),
        A::NoApplicationProtocol => "the peer supports none of the ALPN protocols offered (no_application_protocol alert)".into(),
        A::InsufficientSecurity => "the peer wants stronger ciphers than offered (insufficient_security alert)".into(),
        A::UnknownCA | A::BadCertificate | A::CertificateUnknown | A::UnsupportedCertificate => format!(
            "the peer does not accept our certificate ({alert:?} alert): a client must trust it, e.g. pin its SHA-256 or use --insecure"
        ),
        A::CertificateExpired => "the peer says our certificate has expired".into(),
        A::UnrecognisedName => "the server does not know the name we sent as SNI (unrecognized_name alert); try --sni NAME".into(),
        A::DecryptError => "the peer could not verify the handshake (decrypt_error alert)".into(),
        other => format!("the peer ended the handshake with a fatal {other:?} alert"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::process::{Child, Command, Stdio};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A scratch directory removed on drop (the tests write PEM files for the loaders).
    struct TempDir(PathBuf);

    impl TempDir {
        fn new() -> TempDir {
            static N: AtomicUsize = AtomicUsize::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("socklab-tls-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, contents).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A CA and a leaf for "localhost" and 127.0.0.1 signed by it, as PEM files.
    struct Pki {
        dir: TempDir,
        ca: PathBuf,
        cert: PathBuf,
        key: PathBuf,
        leaf_der: Vec<u8>,
    }

    fn pki(expired: bool) -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "socklab test CA");
        let ca =
            rcgen::CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let mut leaf =
            CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
        leaf.distinguished_name
            .push(DnType::CommonName, "socklab test leaf");
        if expired {
            leaf.not_before = rcgen::date_time_ymd(2000, 1, 1);
            leaf.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = leaf.signed_by(&leaf_key, &ca).unwrap();
        let dir = TempDir::new();
        Pki {
            ca: dir.write("ca.pem", ca.pem()),
            cert: dir.write("cert.pem", leaf.pem()),
            key: dir.write("key.pem", leaf_key.serialize_pem()),
            leaf_der: leaf.der().to_vec(),
            dir,
        }
    }

    fn pki_server(p: &Pki, alpn: &[&str]) -> TlsServer {
        server(&TlsServerOptions {
            cert: Some(p.cert.clone()),
            key: Some(p.key.clone()),
            alpn: alpn.iter().map(|s| s.to_string()).collect(),
            names: vec![],
        })
        .unwrap()
    }

    fn generated() -> TlsServer {
        server(&TlsServerOptions::default()).unwrap()
    }

    type Outcome = (Result<HandshakeInfo>, Result<HandshakeInfo>);

    /// One handshake over 127.0.0.1 between our client and our server; both outcomes.
    async fn handshake(server: &TlsServer, opts: TlsClientOptions, host: &str) -> Outcome {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let srv = server.clone();
        let accepting = tokio::spawn(async move {
            let (tcp, peer) = listener.accept().await.unwrap();
            accept(tcp, &srv, peer).await.map(|(_, info)| info)
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let client = match client_config(&opts) {
            Ok(config) => connect(tcp, host, config, &opts)
                .await
                .map(|(_, info)| info),
            Err(e) => Err(e),
        };
        let server = tokio::time::timeout(Duration::from_secs(10), accepting)
            .await
            .expect("the server side did not finish")
            .unwrap();
        (client, server)
    }

    fn reason(r: &Result<HandshakeInfo>) -> String {
        match r {
            Ok(info) => panic!("expected a failed handshake, got {info:?}"),
            Err(e) => {
                assert!(matches!(e, Error::TlsHandshake { .. }), "{e:?}");
                assert!(!e.is_usage());
                e.to_string()
            }
        }
    }

    fn pin(fp: Fingerprint) -> TlsClientOptions {
        TlsClientOptions {
            pin: Some(fp),
            ..Default::default()
        }
    }

    #[test]
    fn fingerprint_forms() {
        let fp = Fingerprint::of(b"some certificate");
        let upper = fp.to_string();
        assert_eq!(upper.len(), 64 + 31);
        assert_eq!(upper, upper.to_uppercase());
        let plain = upper.replace(':', "");
        for form in [
            upper.clone(),
            upper.to_lowercase(),
            plain.clone(),
            plain.to_lowercase(),
            format!("sha256:{plain}"),
            format!("SHA256={upper}"),
            format!("  {upper}\n"),
        ] {
            assert_eq!(form.parse::<Fingerprint>().unwrap(), fp, "{form}");
        }
        let err = |s: &str| {
            let e = s.parse::<Fingerprint>().unwrap_err();
            assert!(matches!(e, Error::Pin { .. }) && e.is_usage(), "{e:?}");
            assert!(e.to_string().contains("64 hex digits"), "{e}");
            e.to_string()
        };
        assert!(err(&plain[..62]).contains("it has 62 hex digits, not 64"));
        assert!(err(&format!("{plain}00")).contains("66 hex digits"));
        assert!(err(&plain.replacen('A', "G", 1).replacen('0', "G", 1))
            .contains("'G' is not a hex digit"));
        assert!(err(&upper[1..]).contains("is not two hex digits"));
        assert!(err("").contains("empty"));
        assert!(err("sha256:").contains("empty"));
        assert!(err("md5:00").contains("group 1 ('md5') is not two hex digits"));
    }

    #[test]
    fn generated_certificate_details() {
        let srv = server(&TlsServerOptions {
            names: vec![
                "example.test".into(),
                "[fe80::1]".into(),
                "LOCALHOST".into(),
            ],
            ..Default::default()
        })
        .unwrap();
        assert!(srv.generated);
        let c = &srv.cert;
        assert_eq!(
            c.names,
            ["localhost", "127.0.0.1", "::1", "example.test", "fe80::1"]
        );
        assert!(c.self_signed);
        assert_eq!(c.subject, "CN=socklab self-signed");
        assert!(
            c.not_before.ends_with('Z') && c.not_after.ends_with('Z'),
            "{c:?}"
        );
        assert!(c.not_before < c.not_after);
        let json = serde_json::to_value(c).unwrap();
        assert_eq!(json["sha256"], c.sha256.to_string());
        assert_eq!(json["self_signed"], true);
    }

    #[tokio::test]
    async fn pinned_handshake_fills_the_info() {
        let srv = generated();
        let (client, server) = handshake(&srv, pin(srv.cert.sha256), "localhost").await;
        let info = client.unwrap();
        assert_eq!(info.protocol, "TLSv1.3");
        assert!(info.cipher.starts_with("TLS13_"), "{}", info.cipher);
        assert_eq!(
            info.peer_cert.as_ref().map(|c| c.sha256),
            Some(srv.cert.sha256)
        );
        assert_eq!(info.sni.as_deref(), Some("localhost"));
        assert_eq!(info.alpn, None);
        let server = server.unwrap();
        assert_eq!(server.sni.as_deref(), Some("localhost"));
        assert_eq!(server.cipher, info.cipher);
        assert!(server.peer_cert.is_none());
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["protocol"], "TLSv1.3");
        assert_eq!(json["peer_cert"]["sha256"], srv.cert.sha256.to_string());
    }

    #[tokio::test]
    async fn wrong_pin_names_both_fingerprints() {
        let srv = generated();
        let wrong = Fingerprint([0xAB; 32]);
        let (client, server) = handshake(&srv, pin(wrong), "127.0.0.1").await;
        let msg = reason(&client);
        assert!(msg.contains(&wrong.to_string()), "{msg}");
        assert!(msg.contains(&srv.cert.sha256.to_string()), "{msg}");
        assert!(msg.contains("TLS handshake with 127.0.0.1:"), "{msg}");
        // Our client tells the server why; the server says its certificate was refused.
        assert!(reason(&server).contains("does not accept our certificate"));
    }

    #[tokio::test]
    async fn self_signed_is_an_unknown_ca() {
        let srv = generated();
        // An unrelated CA file, then the system roots where the machine has them.
        let other = pki(false);
        let opts = TlsClientOptions {
            ca: Some(other.ca.clone()),
            ..Default::default()
        };
        let (client, _) = handshake(&srv, opts, "localhost").await;
        let msg = reason(&client);
        assert!(
            msg.contains("not signed by a CA we trust; use --ca FILE, --pin SHA256 or --insecure"),
            "{msg}"
        );
        let (client, _) = handshake(&srv, TlsClientOptions::default(), "localhost").await;
        match client {
            Err(Error::TlsConfig { reason }) => assert!(reason.contains("--ca FILE"), "{reason}"),
            other => assert!(reason(&other).contains("not signed by a CA we trust")),
        }
    }

    #[tokio::test]
    async fn ca_file_verifies_names_and_ips() {
        let p = pki(false);
        let srv = pki_server(&p, &[]);
        assert!(!srv.generated);
        assert_eq!(srv.cert.sha256, Fingerprint::of(&p.leaf_der));
        assert!(!srv.cert.self_signed);
        assert_eq!(srv.cert.issuer, "CN=socklab test CA");
        let opts = TlsClientOptions {
            ca: Some(p.ca.clone()),
            ..Default::default()
        };
        let (client, _) = handshake(&srv, opts.clone(), "localhost").await;
        assert_eq!(
            client.unwrap().peer_cert.unwrap().names,
            ["localhost", "127.0.0.1"]
        );
        let (client, server) = handshake(&srv, opts.clone(), "127.0.0.1").await;
        assert_eq!(
            client.unwrap().sni,
            None,
            "an IP address is not sent as SNI"
        );
        assert_eq!(server.unwrap().sni, None);
        let (client, _) = handshake(&srv, opts.clone(), "[::1]").await;
        let msg = reason(&client);
        assert!(msg.contains("localhost, 127.0.0.1, not '::1'"), "{msg}");
        let wrong = TlsClientOptions {
            sni: Some("wrong.example".into()),
            ..opts
        };
        let (client, server) = handshake(&srv, wrong, "127.0.0.1").await;
        let msg = reason(&client);
        assert!(
            msg.contains("the certificate is for localhost, 127.0.0.1, not 'wrong.example'"),
            "{msg}"
        );
        assert_eq!(server.err().map(|e| e.is_usage()), Some(false));
    }

    #[tokio::test]
    async fn expired_certificate_says_when() {
        let p = pki(true);
        let srv = pki_server(&p, &[]);
        assert!(
            srv.cert.not_after.starts_with("2001-01-01T00:00:00"),
            "{:?}",
            srv.cert
        );
        let opts = TlsClientOptions {
            ca: Some(p.ca.clone()),
            ..Default::default()
        };
        let (client, _) = handshake(&srv, opts, "localhost").await;
        let msg = reason(&client);
        assert!(
            msg.contains("the certificate expired at 2001-01-01T00:00:00Z"),
            "{msg}"
        );
        // Pinning deliberately skips the dates: the user trusts exactly this certificate.
        let (client, _) = handshake(&srv, pin(srv.cert.sha256), "localhost").await;
        assert!(client.is_ok());
    }

    #[tokio::test]
    async fn alpn_is_negotiated_or_explained() {
        let srv = server(&TlsServerOptions {
            alpn: vec!["http/1.1".into()],
            ..Default::default()
        })
        .unwrap();
        let opts = TlsClientOptions {
            insecure: true,
            alpn: vec!["h2".into(), "http/1.1".into()],
            ..Default::default()
        };
        let (client, server) = handshake(&srv, opts, "localhost").await;
        assert_eq!(client.unwrap().alpn.as_deref(), Some("http/1.1"));
        assert_eq!(server.unwrap().alpn.as_deref(), Some("http/1.1"));
        let opts = TlsClientOptions {
            insecure: true,
            alpn: vec!["h2".into()],
            ..Default::default()
        };
        let (client, server) = handshake(&srv, opts, "localhost").await;
        assert!(reason(&client).contains("none of the ALPN protocols"));
        assert!(reason(&server).contains("no ALPN protocol in common"));
    }

    #[tokio::test]
    async fn insecure_accepts_anything() {
        let p = pki(true);
        let srv = pki_server(&p, &[]);
        let opts = TlsClientOptions {
            insecure: true,
            sni: Some("wrong.example".into()),
            ..Default::default()
        };
        let (client, server) = handshake(&srv, opts, "127.0.0.1").await;
        assert_eq!(client.unwrap().peer_cert.unwrap().sha256, srv.cert.sha256);
        assert_eq!(server.unwrap().sni.as_deref(), Some("wrong.example"));
    }

    #[test]
    fn server_files_are_checked() {
        let a = pki(false);
        let b = pki(false);
        let usage = |opts: TlsServerOptions| match server(&opts) {
            Ok(_) => panic!("expected an error for {opts:?}"),
            Err(e) => {
                assert!(e.is_usage(), "{e:?}");
                e.to_string()
            }
        };
        let msg = usage(TlsServerOptions {
            cert: Some(a.cert.clone()),
            key: Some(b.key.clone()),
            ..Default::default()
        });
        assert!(
            msg.contains("the key does not match the certificate"),
            "{msg}"
        );
        assert!(msg.contains(&b.key.display().to_string()), "{msg}");
        let missing = a.dir.0.join("nope.pem");
        let msg = usage(TlsServerOptions {
            cert: Some(missing.clone()),
            key: Some(a.key.clone()),
            ..Default::default()
        });
        assert!(
            msg.contains(&format!(
                "cannot use '{}': cannot read it",
                missing.display()
            )),
            "{msg}"
        );
        let msg = usage(TlsServerOptions {
            cert: Some(a.key.clone()),
            key: Some(a.key.clone()),
            ..Default::default()
        });
        assert!(msg.contains("no certificate"), "{msg}");
        let msg = usage(TlsServerOptions {
            cert: Some(a.cert.clone()),
            key: Some(a.cert.clone()),
            ..Default::default()
        });
        assert!(msg.contains("no private key"), "{msg}");
        let msg = usage(TlsServerOptions {
            cert: Some(a.cert.clone()),
            ..Default::default()
        });
        assert!(
            msg.contains("expected both --cert FILE and --key FILE"),
            "{msg}"
        );
        let msg = client_config(&TlsClientOptions {
            ca: Some(a.key.clone()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            msg.is_usage() && msg.to_string().contains("no certificate"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn a_peer_that_is_not_tls() {
        for reply in [&b"HTTP/1.0 400\r\n"[..], b""] {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                let (mut tcp, _) = listener.accept().await.unwrap();
                let mut hello = [0u8; 4096];
                let _ = tcp.read(&mut hello).await;
                let _ = tcp.write_all(reply).await;
                let _ = tcp.shutdown().await;
            });
            let opts = TlsClientOptions {
                insecure: true,
                ..Default::default()
            };
            let tcp = TcpStream::connect(addr).await.unwrap();
            let config = client_config(&opts).unwrap();
            let err = connect(tcp, "127.0.0.1", config, &opts).await.unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains("is it speaking TLS?"), "{msg}");
        }
    }

    /// Kills the child on drop, so a failed assertion leaves no openssl behind.
    struct Reap(Child);

    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn openssl() -> &'static str {
        let path = "/usr/bin/openssl";
        assert!(
            Path::new(path).exists(),
            "{path} is missing: the interop tests need it (apt-get install openssl)"
        );
        path
    }

    fn run_openssl(args: &[&str]) {
        let out = Command::new(openssl()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Connect to `openssl s_server` with a pin, then check that what it reads on stdin
    /// reaches us over TLS 1.3.
    #[tokio::test]
    async fn interop_with_openssl_s_server() {
        let p = pki(false);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = p.dir.0.join("s_server.log");
        let mut child = Reap(
            Command::new(openssl())
                .args([
                    "s_server",
                    "-accept",
                    &format!("127.0.0.1:{port}"),
                    "-naccept",
                    "1",
                    "-quiet",
                ])
                .arg("-cert")
                .arg(&p.cert)
                .arg("-key")
                .arg(&p.key)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .unwrap(),
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        let tcp = loop {
            match TcpStream::connect(("127.0.0.1", port)).await {
                Ok(tcp) => break tcp,
                Err(e) if Instant::now() > deadline => panic!(
                    "openssl s_server never listened on {port} ({e}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                ),
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        let opts = pin(Fingerprint::of(&p.leaf_der));
        let config = client_config(&opts).unwrap();
        let (mut tls, info) = connect(tcp, "localhost", config, &opts).await.unwrap();
        assert_eq!(info.protocol, "TLSv1.3");
        assert_eq!(info.peer_cert.unwrap().subject, "CN=socklab test leaf");
        use std::io::Write;
        let stdin = child.0.stdin.as_mut().unwrap();
        stdin.write_all(b"hello from openssl\n").unwrap();
        stdin.flush().unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        while !got.ends_with(b"\n") {
            let n = tokio::time::timeout(Duration::from_secs(10), tls.read(&mut buf))
                .await
                .expect("nothing from openssl within 10s")
                .unwrap();
            assert!(n > 0, "openssl closed after {got:?}");
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"hello from openssl\n");
    }

    /// Keys as openssl writes them: PKCS#1 (RSA) and SEC1 (EC), not only rcgen's PKCS#8.
    #[tokio::test]
    async fn openssl_made_keys_load() {
        let dir = TempDir::new();
        let (rsa_key, rsa_cert) = (dir.0.join("rsa.key"), dir.0.join("rsa.pem"));
        let (ec_key, ec_cert) = (dir.0.join("ec.key"), dir.0.join("ec.pem"));
        let path = |p: &PathBuf| p.display().to_string();
        run_openssl(&["genrsa", "-traditional", "-out", &path(&rsa_key), "2048"]);
        run_openssl(&[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            &path(&ec_key),
        ]);
        for (key, cert, head) in [
            (&rsa_key, &rsa_cert, "-----BEGIN RSA PRIVATE KEY-----"),
            (&ec_key, &ec_cert, "-----BEGIN EC PRIVATE KEY-----"),
        ] {
            assert!(std::fs::read_to_string(key).unwrap().starts_with(head));
            run_openssl(&[
                "req",
                "-x509",
                "-key",
                &path(key),
                "-out",
                &path(cert),
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost",
            ]);
            let srv = server(&TlsServerOptions {
                cert: Some(cert.clone()),
                key: Some(key.clone()),
                ..Default::default()
            })
            .unwrap();
            assert!(srv.cert.self_signed);
            let (client, _) = handshake(&srv, pin(srv.cert.sha256), "localhost").await;
            assert_eq!(client.unwrap().protocol, "TLSv1.3");
        }
    }
}
