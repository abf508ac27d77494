//! What a user may ask about: a domain name, checked here before anything is sent, or an
//! IP address, which stands for its reverse (PTR) name.

use std::net::IpAddr;

use hickory_proto::rr::domain::Label;
use hickory_proto::rr::Name;

use crate::error::{Error, Result};

/// RFC 1035 2.3.4: a label is at most 63 bytes.
pub const MAX_LABEL: usize = 63;
/// RFC 1035 2.3.4 allows 255 bytes on the wire, which is 253 characters written with dots
/// and without the final one.
pub const MAX_NAME: usize = 253;

/// The name to ask about, checked and in its wire (ASCII) form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// With the final dot, as DNS writes absolute names: `a.test.`, `_sip._tcp.test.`,
    /// `10.2.0.192.in-addr.arpa.`, `xn--fsqu00a.xn--0zwm56d.` for `例子.测试`.
    pub name: String,
    /// The address the user typed, when this is a reverse lookup.
    pub reverse_of: Option<IpAddr>,
    labels: Vec<Vec<u8>>,
}

impl Target {
    /// Reads what the user typed: an IP address means its reverse name; anything else must
    /// be a domain name. The name is taken as absolute (as `dig` does): no search domains
    /// from resolv.conf are appended, so what is asked is exactly what was typed.
    pub fn parse(input: &str) -> Result<Target> {
        if let Ok(ip) = input.parse::<IpAddr>() {
            return Ok(Target::reverse(ip));
        }
        let labels = labels(input).map_err(|reason| Error::DnsName {
            input: input.to_string(),
            reason,
        })?;
        Ok(Target::from_labels(labels, None))
    }

    /// The `in-addr.arpa.` or `ip6.arpa.` name of an address (RFC 1035 3.5, RFC 3596 2.5).
    pub fn reverse(ip: IpAddr) -> Target {
        let mut labels: Vec<Vec<u8>> = Vec::new();
        match ip {
            IpAddr::V4(v4) => {
                labels.extend(v4.octets().iter().rev().map(|o| o.to_string().into_bytes()));
                labels.push(b"in-addr".to_vec());
            }
            IpAddr::V6(v6) => {
                for byte in v6.octets().iter().rev() {
                    labels.push(format!("{:x}", byte & 0x0f).into_bytes());
                    labels.push(format!("{:x}", byte >> 4).into_bytes());
                }
                labels.push(b"ip6".to_vec());
            }
        }
        labels.push(b"arpa".to_vec());
        Target::from_labels(labels, Some(ip))
    }

    fn from_labels(labels: Vec<Vec<u8>>, reverse_of: Option<IpAddr>) -> Target {
        let mut name = String::new();
        for label in &labels {
            // Labels are checked ASCII (letters, digits, '-', '_', or punycode).
            name.push_str(&String::from_utf8_lossy(label));
            name.push('.');
        }
        if name.is_empty() {
            name.push('.');
        }
        Target {
            name,
            reverse_of,
            labels,
        }
    }

    /// The name as hickory's type, for the question.
    pub(crate) fn to_name(&self) -> Result<Name> {
        Name::from_labels(self.labels.iter().map(|l| l.as_slice())).map_err(|e| Error::DnsName {
            input: self.name.clone(),
            reason: e.to_string(),
        })
    }
}

/// Splits and checks a name; the error is the reason, for the message.
fn labels(input: &str) -> std::result::Result<Vec<Vec<u8>>, String> {
    if input.is_empty() {
        return Err("the name is empty".into());
    }
    if input == "." {
        return Ok(Vec::new()); // the root, as in `socklab dns . --type NS`
    }
    let body = input.strip_suffix('.').unwrap_or(input);
    let mut labels = Vec::new();
    for (i, label) in body.split('.').enumerate() {
        if label.is_empty() {
            return Err(if i == 0 {
                "empty label (the name starts with a dot)".into()
            } else {
                "empty label (two dots in a row)".into()
            });
        }
        let ascii = if label.is_ascii() {
            label.to_string()
        } else {
            // An internationalised label goes on the wire as punycode (IDNA): 测试 is
            // xn--0zwm56d.
            let idna = Label::from_utf8(label)
                .map_err(|_| format!("'{label}' is not a valid internationalised label"))?;
            String::from_utf8_lossy(idna.as_bytes()).into_owned()
        };
        if let Some(bad) = ascii
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(format!("the character {bad:?} is not allowed"));
        }
        if ascii.len() > MAX_LABEL {
            return Err(format!(
                "the label '{}…' is {} bytes long, more than {MAX_LABEL}",
                &ascii[..12],
                ascii.len()
            ));
        }
        labels.push(ascii.into_bytes());
    }
    let len = labels.iter().map(Vec::len).sum::<usize>() + labels.len() - 1;
    if len > MAX_NAME {
        return Err(format!(
            "the name is {len} bytes long, more than {MAX_NAME}"
        ));
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(input: &str) -> String {
        match Target::parse(input) {
            Err(Error::DnsName { reason, .. }) => reason,
            other => panic!("{input:?} gave {other:?}"),
        }
    }

    #[test]
    fn names_are_absolute_with_one_final_dot() {
        assert_eq!(Target::parse("a.test").unwrap().name, "a.test.");
        assert_eq!(Target::parse("a.test.").unwrap().name, "a.test.");
        assert_eq!(Target::parse("A.Test").unwrap().name, "A.Test.");
        assert_eq!(Target::parse(".").unwrap().name, ".");
        assert_eq!(Target::parse("localhost").unwrap().name, "localhost.");
    }

    #[test]
    fn srv_names_keep_their_underscores() {
        let t = Target::parse("_sip._tcp.example.test").unwrap();
        assert_eq!(t.name, "_sip._tcp.example.test.");
        assert_eq!(t.to_name().unwrap().to_ascii(), "_sip._tcp.example.test.");
    }

    #[test]
    fn internationalised_names_become_punycode() {
        assert_eq!(
            Target::parse("例子.测试").unwrap().name,
            "xn--fsqu00a.xn--0zwm56d."
        );
    }

    #[test]
    fn bad_names_say_why() {
        assert_eq!(reason(""), "the name is empty");
        assert!(reason("a..b").contains("two dots in a row"));
        assert!(reason(".a").contains("starts with a dot"));
        assert!(reason("a.test..").contains("two dots"));
        assert!(reason("a b.test").contains("' '"));
        assert!(reason("a/b").contains("'/'"));
        assert!(reason("http://a.test").contains("':'"));
        let long = "x".repeat(64);
        assert!(reason(&format!("{long}.test")).contains("64 bytes long, more than 63"));
        assert!(Target::parse(&format!("{}.test", "x".repeat(63))).is_ok());
        // 4 labels of 63 plus 3 dots is 255; 3 labels of 63 + one of 61 is 253.
        let l63 = "y".repeat(63);
        assert!(reason(&format!("{l63}.{l63}.{l63}.{l63}")).contains("255 bytes long"));
        assert!(Target::parse(&format!("{l63}.{l63}.{l63}.{}", "z".repeat(61))).is_ok());
    }

    #[test]
    fn an_address_means_its_reverse_name() {
        let t = Target::parse("192.0.2.1").unwrap();
        assert_eq!(t.name, "1.2.0.192.in-addr.arpa.");
        assert_eq!(t.reverse_of, Some("192.0.2.1".parse().unwrap()));
        let t = Target::parse("2001:db8::1").unwrap();
        assert_eq!(
            t.name,
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
        );
        // hickory knows the same mapping; the two must agree.
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(Name::from(ip).to_ascii(), t.name);
    }
}
