//! Checksums appended to a message as it is sent (`--checksum`), because device protocols
//! (Modbus RTU, XMODEM, many serial-over-TCP gateways) reject a frame without one and
//! working them out by hand is what people reach for a debugging tool to avoid.
//!
//! Names follow the CRC catalogue (reveng's "Catalogue of parametrised CRC algorithms"), and
//! the CRCs come from the `crc` crate's copy of that catalogue rather than from tables
//! written here: a wrong polynomial or reflection would look plausible and be wrong on
//! every device.

use std::fmt;
use std::str::FromStr;

use crc::{Crc, CRC_16_IBM_3740, CRC_16_MODBUS, CRC_16_XMODEM, CRC_32_ISO_HDLC, CRC_8_SMBUS};

use crate::error::{Error, Result};

/// What `--checksum` accepts, for error messages and help.
pub const EXPECTED: &str = "sum8, xor8, crc8, crc16-modbus, crc16-xmodem, crc16-ccitt-false or crc32, with :le or :be after a 16- or 32-bit one to choose the byte order";

/// The algorithms. Each name is the short form people type; the doc says which catalogue
/// entry it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// The low 8 bits of the sum of all bytes.
    Sum8,
    /// All bytes XORed together (the "BCC" of many serial protocols).
    Xor8,
    /// CRC-8/SMBUS: poly 0x07, init 0, not reflected.
    Crc8,
    /// CRC-16/MODBUS: poly 0x8005 reflected, init 0xFFFF; sent low byte first.
    Crc16Modbus,
    /// CRC-16/XMODEM: poly 0x1021, init 0.
    Crc16Xmodem,
    /// CRC-16/IBM-3740, commonly called CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF.
    Crc16CcittFalse,
    /// CRC-32/ISO-HDLC, the CRC-32 of zip, PNG and Ethernet.
    Crc32,
}

const ALGORITHMS: [(&str, Algorithm); 7] = [
    ("sum8", Algorithm::Sum8),
    ("xor8", Algorithm::Xor8),
    ("crc8", Algorithm::Crc8),
    ("crc16-modbus", Algorithm::Crc16Modbus),
    ("crc16-xmodem", Algorithm::Crc16Xmodem),
    ("crc16-ccitt-false", Algorithm::Crc16CcittFalse),
    ("crc32", Algorithm::Crc32),
];

// The `Crc` values hold their 256-entry tables; as constants they are built at compile time.
const CRC8: Crc<u8> = Crc::<u8>::new(&CRC_8_SMBUS);
const CRC16_MODBUS: Crc<u16> = Crc::<u16>::new(&CRC_16_MODBUS);
const CRC16_XMODEM: Crc<u16> = Crc::<u16>::new(&CRC_16_XMODEM);
const CRC16_CCITT_FALSE: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_3740);
const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

impl Algorithm {
    /// The name `--checksum` takes.
    pub fn name(self) -> &'static str {
        ALGORITHMS
            .iter()
            .find(|(_, a)| *a == self)
            .map_or("?", |(n, _)| n)
    }

    /// Bytes appended: 1, 2 or 4.
    pub fn width(self) -> usize {
        match self {
            Algorithm::Sum8 | Algorithm::Xor8 | Algorithm::Crc8 => 1,
            Algorithm::Crc16Modbus | Algorithm::Crc16Xmodem | Algorithm::Crc16CcittFalse => 2,
            Algorithm::Crc32 => 4,
        }
    }

    /// The checksum of `bytes` as a number (the catalogue's "check" over `123456789`).
    pub fn compute(self, bytes: &[u8]) -> u32 {
        match self {
            Algorithm::Sum8 => u32::from(bytes.iter().fold(0u8, |s, b| s.wrapping_add(*b))),
            Algorithm::Xor8 => u32::from(bytes.iter().fold(0u8, |s, b| s ^ b)),
            Algorithm::Crc8 => u32::from(CRC8.checksum(bytes)),
            Algorithm::Crc16Modbus => u32::from(CRC16_MODBUS.checksum(bytes)),
            Algorithm::Crc16Xmodem => u32::from(CRC16_XMODEM.checksum(bytes)),
            Algorithm::Crc16CcittFalse => u32::from(CRC16_CCITT_FALSE.checksum(bytes)),
            Algorithm::Crc32 => CRC32.checksum(bytes),
        }
    }

    /// Modbus RTU sends its CRC low byte first (the Modbus over serial line spec, 6.2.2);
    /// the other protocols these come from send high byte first.
    fn default_order(self) -> ByteOrder {
        match self {
            Algorithm::Crc16Modbus => ByteOrder::Little,
            _ => ByteOrder::Big,
        }
    }
}

/// The order the bytes of a 16- or 32-bit checksum go out in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    /// Low byte first (`:le`).
    Little,
    /// High byte first (`:be`).
    Big,
}

/// The outcome of checking a received message's trailing checksum; `expected` is what the
/// bytes before it sum to, `got` what the message carries, both in hex as on the wire.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verified {
    pub algorithm: String,
    pub ok: bool,
    pub expected: String,
    pub got: String,
}

/// A checksum as `--checksum` names it: an algorithm and the byte order it is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checksum {
    pub algorithm: Algorithm,
    pub order: ByteOrder,
}

impl Checksum {
    /// `algorithm` in its usual byte order.
    pub fn new(algorithm: Algorithm) -> Checksum {
        Checksum {
            algorithm,
            order: algorithm.default_order(),
        }
    }

    /// The checksum of `bytes` as it goes on the wire.
    pub fn bytes(&self, bytes: &[u8]) -> Vec<u8> {
        let value = self.algorithm.compute(bytes);
        let width = self.algorithm.width();
        // `width` is 1, 2 or 4, so the slices below are within the 4 bytes.
        match self.order {
            ByteOrder::Big => value.to_be_bytes()[4 - width..].to_vec(),
            ByteOrder::Little => value.to_le_bytes()[..width].to_vec(),
        }
    }

    /// Check a received message whose last bytes are its checksum over everything before
    /// them, laid out as [`Checksum::append`] lays it out. A message shorter than the
    /// checksum cannot hold one and fails.
    pub fn verify(&self, message: &[u8]) -> Verified {
        let width = self.algorithm.width();
        let (body, got) = match message.len().checked_sub(width) {
            Some(at) => message.split_at(at),
            None => (&[][..], message),
        };
        let expected = self.bytes(body);
        Verified {
            algorithm: self.to_string(),
            ok: got.len() == width && expected == got,
            expected: crate::codec::hex::encode_hex(&expected),
            got: crate::codec::hex::encode_hex(got),
        }
    }

    /// Append the checksum of everything in `message` to it.
    pub fn append(&self, message: &mut Vec<u8>) {
        let sum = self.bytes(message);
        message.extend_from_slice(&sum);
    }
}

impl FromStr for Checksum {
    type Err = Error;

    /// `crc16-modbus`, `crc32:le`, `CRC16-XMODEM:be`. Case is ignored; a byte order on a
    /// one-byte checksum is refused rather than ignored, since it suggests a mix-up.
    fn from_str(input: &str) -> Result<Checksum> {
        let bad = |reason: String| Error::Checksum {
            input: input.to_string(),
            reason,
        };
        let lower = input.trim().to_ascii_lowercase();
        let (name, order) = match lower.split_once(':') {
            Some((name, order)) => (name, Some(order)),
            None => (lower.as_str(), None),
        };
        let Some(&(_, algorithm)) = ALGORITHMS.iter().find(|(n, _)| *n == name) else {
            let reason = if name.is_empty() {
                "no algorithm named".to_string()
            } else {
                format!("unknown algorithm '{name}'")
            };
            return Err(bad(reason));
        };
        let mut checksum = Checksum::new(algorithm);
        if let Some(order) = order {
            checksum.order = match order {
                "le" => ByteOrder::Little,
                "be" => ByteOrder::Big,
                other => {
                    return Err(bad(format!(
                        "unknown byte order ':{other}', only :le and :be exist"
                    )))
                }
            };
            if algorithm.width() == 1 {
                return Err(bad(format!(
                    "{name} is a single byte, so :{order} has nothing to order"
                )));
            }
        }
        Ok(checksum)
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.algorithm.name())?;
        if self.algorithm.width() > 1 && self.order != self.algorithm.default_order() {
            f.write_str(match self.order {
                ByteOrder::Little => ":le",
                ByteOrder::Big => ":be",
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_checks_what_append_appends() {
        let c: Checksum = "crc16-modbus".parse().unwrap();
        let mut frame = vec![0x01, 0x03, 0x00, 0x00, 0x00, 0x0a];
        c.append(&mut frame);
        // The Modbus example frame's CRC, low byte first.
        assert_eq!(&frame[6..], &[0xc5, 0xcd]);
        let v = c.verify(&frame);
        assert!(v.ok, "{v:?}");
        assert_eq!(v.algorithm, "crc16-modbus");
        assert_eq!(v.expected, "c5cd");
        assert_eq!(v.got, "c5cd");
        frame[2] = 1;
        let v = c.verify(&frame);
        assert!(!v.ok);
        assert_eq!(v.got, "c5cd");
        assert_ne!(v.expected, "c5cd");
        let v = c.verify(&[7]);
        assert!(!v.ok);
        assert_eq!(v.got, "07");
        let c: Checksum = "crc32:le".parse().unwrap();
        let v = c.verify(b"123456789\x26\x39\xf4\xcb");
        assert!(v.ok, "{v:?}");
        assert_eq!(v.algorithm, "crc32:le");
    }

    const CHECK: &[u8] = b"123456789";

    fn wire(spec: &str, data: &[u8]) -> Vec<u8> {
        let c: Checksum = spec.parse().unwrap();
        let mut m = data.to_vec();
        c.append(&mut m);
        m[data.len()..].to_vec()
    }

    /// The catalogue's check values (the checksum of "123456789"), which is how an
    /// implementation proves it is the named algorithm and not a near relative.
    #[test]
    fn check_values() {
        let cases: [(&str, u32); 7] = [
            ("sum8", 0xDD),
            ("xor8", 0x31),
            ("crc8", 0xF4),
            ("crc16-modbus", 0x4B37),
            ("crc16-xmodem", 0x31C3),
            ("crc16-ccitt-false", 0x29B1),
            ("crc32", 0xCBF4_3926),
        ];
        for (name, want) in cases {
            let c: Checksum = name.parse().unwrap();
            assert_eq!(c.algorithm.compute(CHECK), want, "{name}");
            assert_eq!(c.to_string(), name);
        }
    }

    #[test]
    fn byte_order_on_the_wire() {
        assert_eq!(wire("sum8", CHECK), [0xDD]);
        assert_eq!(wire("xor8", CHECK), [0x31]);
        assert_eq!(wire("crc8", CHECK), [0xF4]);
        // Modbus: low byte first unless told otherwise.
        assert_eq!(wire("crc16-modbus", CHECK), [0x37, 0x4B]);
        assert_eq!(wire("crc16-modbus:be", CHECK), [0x4B, 0x37]);
        assert_eq!(wire("crc16-modbus:le", CHECK), [0x37, 0x4B]);
        assert_eq!(wire("crc16-xmodem", CHECK), [0x31, 0xC3]);
        assert_eq!(wire("crc16-xmodem:le", CHECK), [0xC3, 0x31]);
        assert_eq!(wire("crc16-ccitt-false", CHECK), [0x29, 0xB1]);
        assert_eq!(wire("crc32", CHECK), [0xCB, 0xF4, 0x39, 0x26]);
        assert_eq!(wire("crc32:le", CHECK), [0x26, 0x39, 0xF4, 0xCB]);
        assert_eq!(wire("CRC32:BE", CHECK), [0xCB, 0xF4, 0x39, 0x26]);
    }

    #[test]
    fn a_real_modbus_frame() {
        // Read holding registers 0..2 of unit 1: the CRC every Modbus tool shows is C4 0B.
        assert_eq!(
            wire("crc16-modbus", &[0x01, 0x03, 0x00, 0x00, 0x00, 0x02]),
            [0xC4, 0x0B]
        );
    }

    #[test]
    fn append_keeps_the_message_and_adds_width_bytes() {
        let c: Checksum = "crc32".parse().unwrap();
        let mut m = b"abc".to_vec();
        c.append(&mut m);
        assert_eq!(&m[..3], b"abc");
        assert_eq!(m.len(), 3 + c.algorithm.width());
        // The empty message has a checksum too (CRC-32 of nothing is 0).
        let mut empty = Vec::new();
        c.append(&mut empty);
        assert_eq!(empty, [0, 0, 0, 0]);
    }

    #[test]
    fn bad_specs_say_what_was_wrong_and_what_is_expected() {
        for (spec, needle) in [
            ("crc16", "unknown algorithm 'crc16'"),
            ("md5", "unknown algorithm 'md5'"),
            ("", "no algorithm named"),
            ("crc32:xx", "unknown byte order ':xx'"),
            ("crc32:", "unknown byte order ':'"),
            ("sum8:le", "single byte"),
        ] {
            let e = spec.parse::<Checksum>().unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains(needle), "{spec}: {msg}");
            assert!(msg.contains("expected sum8, xor8, crc8"), "{spec}: {msg}");
            assert!(e.is_usage(), "{spec}");
        }
    }
}
