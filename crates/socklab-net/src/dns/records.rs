//! Records as socklab reports them: the zone-file text form that dig prints (`data`), and
//! for the types whose text packs several fields (MX, SRV, SOA, TXT) the fields themselves,
//! so that a script does not have to split strings.

use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use serde::Serialize;

/// One resource record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// The owner name, absolute (`a.test.`).
    pub name: String,
    pub ttl: u32,
    /// `IN` for anything on the Internet.
    pub class: String,
    /// `A`, `MX` ..., or `TYPE65` for a type socklab has no name for (RFC 3597).
    #[serde(rename = "type")]
    pub rtype: String,
    /// The data as a zone file writes it: `192.0.2.10`, `10 mail.test.`, `"v=spf1 -all"`.
    pub data: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Fields>,
}

/// The parts of a record's data, for the types with more than one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Fields {
    Mx {
        preference: u16,
        exchange: String,
    },
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    Soa {
        mname: String,
        rname: String,
        serial: u32,
        refresh: u32,
        retry: u32,
        expire: u32,
        minimum: u32,
    },
    /// Each character-string of the record, as text; bytes that are not UTF-8 are written
    /// `\DDD` as in `data`.
    Txt {
        strings: Vec<String>,
    },
}

impl Answer {
    pub(crate) fn from_record(record: &Record) -> Answer {
        let (data, fields) = data(&record.data);
        Answer {
            name: name(&record.name),
            ttl: record.ttl,
            class: class(record.dns_class),
            rtype: type_name(record.record_type()),
            data,
            fields,
        }
    }
}

/// The wire form, escaped where needed: what was sent, not a Unicode rendering of it.
fn name(n: &Name) -> String {
    n.to_ascii()
}

pub(crate) fn type_name(t: RecordType) -> String {
    match t {
        RecordType::Unknown(code) => format!("TYPE{code}"),
        t => t.to_string(),
    }
}

fn class(c: DNSClass) -> String {
    match c {
        DNSClass::Unknown(code) | DNSClass::OPT(code) => format!("CLASS{code}"),
        c => c.to_string(),
    }
}

/// SOA timers are unsigned 32-bit on the wire (RFC 1035 3.3.13); hickory keeps some as i32.
fn unsigned(v: i32) -> u32 {
    u32::from_ne_bytes(v.to_ne_bytes())
}

fn data(rdata: &RData) -> (String, Option<Fields>) {
    match rdata {
        RData::A(a) => (a.0.to_string(), None),
        RData::AAAA(a) => (a.0.to_string(), None),
        RData::CNAME(n) => (name(&n.0), None),
        RData::NS(n) => (name(&n.0), None),
        RData::PTR(n) => (name(&n.0), None),
        RData::MX(mx) => {
            let exchange = name(&mx.exchange);
            (
                format!("{} {exchange}", mx.preference),
                Some(Fields::Mx {
                    preference: mx.preference,
                    exchange,
                }),
            )
        }
        RData::SRV(srv) => {
            let target = name(&srv.target);
            (
                format!("{} {} {} {target}", srv.priority, srv.weight, srv.port),
                Some(Fields::Srv {
                    priority: srv.priority,
                    weight: srv.weight,
                    port: srv.port,
                    target,
                }),
            )
        }
        RData::SOA(soa) => {
            let (mname, rname) = (name(&soa.mname), name(&soa.rname));
            let (serial, minimum) = (soa.serial, soa.minimum);
            let refresh = unsigned(soa.refresh);
            let retry = unsigned(soa.retry);
            let expire = unsigned(soa.expire);
            (
                format!("{mname} {rname} {serial} {refresh} {retry} {expire} {minimum}"),
                Some(Fields::Soa {
                    mname,
                    rname,
                    serial,
                    refresh,
                    retry,
                    expire,
                    minimum,
                }),
            )
        }
        RData::TXT(txt) => {
            let strings: Vec<String> = txt.txt_data.iter().map(|s| text(s, false)).collect();
            let data = txt
                .txt_data
                .iter()
                .map(|s| format!("\"{}\"", text(s, true)))
                .collect::<Vec<_>>()
                .join(" ");
            (data, Some(Fields::Txt { strings }))
        }
        other => (other.to_string(), None),
    }
}

/// A character-string as text. UTF-8 stays readable (a Chinese TXT record shows as
/// Chinese); control characters and bytes that are not UTF-8 become `\DDD` (decimal, as in
/// zone files), so nothing is lost or hidden. Inside quotes, `"` and `\` are escaped too.
fn text(bytes: &[u8], quoted: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' | '\\' if quoted => {
                    out.push('\\');
                    out.push(c);
                }
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("\\{b:03}"));
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\{b:03}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::{MX, SOA, SRV, TXT};
    use std::str::FromStr;

    fn n(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    #[test]
    fn mx_srv_soa_have_fields_and_dig_text() {
        let (text, fields) = super::data(&RData::MX(MX::new(10, n("mail.test."))));
        assert_eq!(text, "10 mail.test.");
        assert_eq!(
            fields,
            Some(Fields::Mx {
                preference: 10,
                exchange: "mail.test.".into()
            })
        );
        let (text, _) = super::data(&RData::SRV(SRV::new(0, 5, 5060, n("sip.test."))));
        assert_eq!(text, "0 5 5060 sip.test.");
        let soa = SOA::new(n("ns.test."), n("admin.test."), 7, 3600, 600, 86400, 300);
        let (text, fields) = super::data(&RData::SOA(soa));
        assert_eq!(text, "ns.test. admin.test. 7 3600 600 86400 300");
        assert!(matches!(fields, Some(Fields::Soa { serial: 7, .. })));
    }

    #[test]
    fn txt_strings_are_quoted_and_escaped() {
        let txt = TXT::from_bytes(vec![
            b"v=spf1 -all",
            b"say \"hi\"\\",
            b"\x01\xff",
            "网络".as_bytes(),
        ]);
        let (text, fields) = super::data(&RData::TXT(txt));
        assert_eq!(text, r#""v=spf1 -all" "say \"hi\"\\" "\001\255" "网络""#);
        assert_eq!(
            fields,
            Some(Fields::Txt {
                strings: vec![
                    "v=spf1 -all".into(),
                    "say \"hi\"\\".into(),
                    "\\001\\255".into(),
                    "网络".into()
                ]
            })
        );
    }

    #[test]
    fn unknown_types_read_as_rfc3597() {
        assert_eq!(type_name(RecordType::Unknown(65280)), "TYPE65280");
        assert_eq!(type_name(RecordType::AAAA), "AAAA");
    }
}
