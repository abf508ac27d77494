//! One message to send, as every face builds it: the template (text, escapes, placeholders
//! or hex), then the line ending, then the checksum over all of that.
//!
//! The checksum comes last and covers everything before it, line ending included: what is
//! summed is exactly what precedes the checksum on the wire, the way Modbus RTU, XMODEM and
//! most binary frames are laid out, so a receiver can check a frame without knowing how it
//! was typed. Binary frames rarely want a line ending, which is why the binary gives typed
//! lines none when `--checksum` is on unless `--eol` asks for one.

use crate::codec::checksum::Checksum;
use crate::codec::template::Template;
use crate::error::Result;

/// A message ready to be sent once or once per `--repeat` round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    template: Template,
    checksum: Option<Checksum>,
}

impl Message {
    /// `template` already holds the line ending, if any.
    pub fn new(template: Template, checksum: Option<Checksum>) -> Message {
        Message { template, checksum }
    }

    /// The bytes of round `counter` (1 for the first), checksum included.
    pub fn render(&self, counter: u64) -> Result<Vec<u8>> {
        let mut bytes = self.template.render(counter)?;
        if let Some(c) = &self.checksum {
            c.append(&mut bytes);
        }
        Ok(bytes)
    }

    fn checksum_len(&self) -> u64 {
        self.checksum.map_or(0, |c| c.algorithm.width() as u64)
    }

    /// The length of round `counter`, without expanding it.
    pub fn len_at(&self, counter: u64) -> u64 {
        self.template.len_at(counter) + self.checksum_len()
    }

    /// The bytes of rounds 1 to `rounds` together (saturating).
    pub fn total_len(&self, rounds: u64) -> u64 {
        self.template
            .total_len(rounds)
            .saturating_add(self.checksum_len().saturating_mul(rounds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::InputOptions;

    #[test]
    fn checksum_covers_the_line_ending_and_comes_last() {
        let mut t = Template::parse("seq={counter}", &InputOptions::default()).unwrap();
        t.push_bytes(b"\n");
        let m = Message::new(t, Some("xor8".parse().unwrap()));
        let out = m.render(3).unwrap();
        assert_eq!(&out[..6], b"seq=3\n");
        let xor = b"seq=3\n".iter().fold(0u8, |a, b| a ^ b);
        assert_eq!(out[6], xor);
        assert_eq!(m.len_at(3), 7);
        assert_eq!(m.total_len(10), 9 * 7 + 8);
    }

    #[test]
    fn without_checksum_it_is_the_template() {
        let t = Template::parse("ab", &InputOptions::default()).unwrap();
        let m = Message::new(t, None);
        assert_eq!(m.render(1).unwrap(), b"ab");
        assert_eq!(m.total_len(4), 8);
    }
}
