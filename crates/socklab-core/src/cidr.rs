//! Address ranges as people type them: `10.0.0.0/8`, `192.168.1.7` (one host),
//! `fd00::/8`, `10.1.0.0/255.255.0.0`. One parser for every place that takes a range:
//! `listen --allow/--deny` and the `subnet` calculator, so both accept the same forms and
//! refuse bad ones with the same words.
//!
//! Errors are returned as a reason without the input: each caller already names the value
//! (clap says "invalid value '…' for '--allow <CIDR>'", `subnet` says "bad subnet '…'").

use std::net::IpAddr;

pub use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// What a range looks like, for error messages that say what was expected.
pub const EXPECTED: &str =
    "an address or a range such as 192.168.1.7, 10.0.0.0/8, 10.1.0.0/255.255.0.0 or fd00::/8";

/// A range: `ADDR/PREFIX`, `ADDR/MASK` (IPv4 dotted or IPv6), or a bare address, which
/// means that one host (/32 for IPv4, /128 for IPv6).
///
/// Host bits after the prefix are dropped (`10.1.2.3/8` is `10.0.0.0/8`), as `ip route` and
/// ncat do: what was meant is never in doubt, and refusing it would only annoy.
///
/// An IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) becomes the IPv4 range it names, so it
/// matches IPv4 peers whichever way the socket reports them.
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("nothing given".into());
    }
    let (ip_text, prefix_text) = match text.split_once('/') {
        Some((ip, prefix)) => (ip, Some(prefix)),
        None => (text, None),
    };
    let address = parse_ip(ip_text)?;
    let prefix = match prefix_text {
        Some(p) => parse_prefix(p, address)?,
        None if address.is_ipv4() => 32,
        None => 128,
    };
    let net = match address {
        // Both in range: parse_prefix checked the prefix against the address's family.
        IpAddr::V4(a) => Ipv4Net::new(a, prefix).map(IpNet::V4),
        IpAddr::V6(a) => Ipv6Net::new(a, prefix).map(IpNet::V6),
    }
    .map_err(|_| format!("prefix length {prefix} does not fit {address}"))?;
    Ok(canonical(net.trunc()))
}

fn parse_ip(text: &str) -> Result<IpAddr, String> {
    let text = text.trim();
    // `[::1]` as in a socket address: accept the brackets people copy along.
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    bare.parse::<IpAddr>()
        .map_err(|_| format!("'{text}' is not an IPv4 or IPv6 address"))
}

/// A prefix length (`24`), or a mask (`255.255.255.0`, `ffff:ffff::`) of the address's
/// family whose one bits are contiguous: `255.0.255.0` describes no network, so it is
/// refused rather than guessed at.
pub fn parse_prefix(text: &str, address: IpAddr) -> Result<u8, String> {
    let text = text.trim();
    let (max, family) = if address.is_ipv4() {
        (32u8, "IPv4")
    } else {
        (128u8, "IPv6")
    };
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<u8>() {
            Ok(p) if p <= max => Ok(p),
            _ => Err(format!(
                "prefix length {text} is more than {max}, the length of an {family} address"
            )),
        };
    }
    // One check for both families: an IPv4 mask is moved to the top of 128 bits, where
    // its one bits must come first just as an IPv6 mask's do.
    let bits = match (address, text.parse::<IpAddr>()) {
        (IpAddr::V4(_), Ok(IpAddr::V4(mask))) => Some(u128::from(u32::from(mask)) << 96),
        (IpAddr::V6(_), Ok(IpAddr::V6(mask))) => Some(u128::from(mask)),
        _ => None,
    };
    match bits {
        Some(bits) => {
            let ones = bits.leading_ones();
            if bits.checked_shl(ones).unwrap_or(0) != 0 {
                let example = if address.is_ipv4() {
                    "255.255.255.0"
                } else {
                    "ffff:ffff:ffff:ffff::"
                };
                return Err(format!(
                    "mask {text} is not contiguous (its one bits must all come first, as in {example})"
                ));
            }
            // At most 128 (or 32 for IPv4, whose mask fills the top 32 bits only).
            Ok(ones as u8)
        }
        None => Err(format!(
            "'{text}' is neither a prefix length (0-{max}) nor an {family} mask"
        )),
    }
}

/// `::ffff:a.b.c.d/N` with N ≥ 96 as the IPv4 range `a.b.c.d/(N-96)`.
fn canonical(net: IpNet) -> IpNet {
    if let IpNet::V6(n) = net {
        if let (Some(v4), true) = (n.network().to_ipv4_mapped(), n.prefix_len() >= 96) {
            if let Ok(v4net) = Ipv4Net::new(v4, n.prefix_len() - 96) {
                return IpNet::V4(v4net);
            }
        }
    }
    net
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> String {
        parse_cidr(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .to_string()
    }

    fn err(text: &str) -> String {
        parse_cidr(text).expect_err(text)
    }

    #[test]
    fn forms_people_type() {
        assert_eq!(ok("10.0.0.0/8"), "10.0.0.0/8");
        assert_eq!(ok("192.168.1.7"), "192.168.1.7/32");
        assert_eq!(ok("::1"), "::1/128");
        assert_eq!(ok("[::1]"), "::1/128");
        assert_eq!(ok("fd00::/8"), "fd00::/8");
        assert_eq!(ok("10.1.0.0/255.255.0.0"), "10.1.0.0/16");
        assert_eq!(ok(" 0.0.0.0/0 "), "0.0.0.0/0");
    }

    #[test]
    fn host_bits_are_dropped() {
        assert_eq!(ok("10.1.2.3/8"), "10.0.0.0/8");
        assert_eq!(ok("2001:db8::1/32"), "2001:db8::/32");
    }

    #[test]
    fn mapped_ranges_become_ipv4() {
        assert_eq!(ok("::ffff:127.0.0.2"), "127.0.0.2/32");
        assert_eq!(ok("::ffff:10.0.0.0/104"), "10.0.0.0/8");
        // Wider than the mapped block: a genuine IPv6 range, left as it is.
        assert_eq!(ok("::ffff:0:0/95"), "::fffe:0:0/95");
    }

    #[test]
    fn bad_ranges_say_what_was_wrong() {
        assert!(err("10.0.0.0/33")
            .contains("prefix length 33 is more than 32, the length of an IPv4 address"));
        assert!(err("::/129").contains("more than 128, the length of an IPv6 address"));
        assert!(err("10.0.0.0/999").contains("999 is more than 32"));
        assert!(err("10.0.0.256").contains("'10.0.0.256' is not an IPv4 or IPv6 address"));
        assert!(err("example.com/8").contains("not an IPv4 or IPv6 address"));
        assert!(err("10.0.0.0/255.0.255.0").contains("not contiguous"));
        assert!(err("10.0.0.0/ffff::").contains("neither a prefix length (0-32)"));
        assert!(err("10.0.0.0/").contains("neither a prefix length"));
        assert!(err("10.0.0.0/-1").contains("neither a prefix length"));
        assert!(err("").contains("nothing given"));
    }
}
