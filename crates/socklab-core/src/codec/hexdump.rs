//! The `hexdump -C` view.
//!
//! The layout is byte for byte the one of `hexdump -C`, because people compare it with
//! dumps from other tools, and diff them. Lines are built from lookup tables in a stack
//! buffer (as hexyl does): a busy peer can send megabytes, and formatting must not be where
//! the time goes.
//!
//! ```text
//! 00000000  48 65 6c 6c 6f 20 77 6f  72 6c 64 0a              |Hello world.|
//! 0000000c
//! ```

use crate::codec::hex::pair;

/// Bytes per line.
const WIDTH: usize = 16;

/// The width between the offset and the `|` opening the ASCII column: two spaces, sixteen
/// `"xx "`, the space between the two halves and one more space.
const HEX_COLUMNS: usize = 2 + WIDTH * 3 + 1 + 1;

/// What each byte shows as in the ASCII column: itself if printable ASCII, else `.`.
static ASCII: [u8; 256] = build_ascii();

const fn build_ascii() -> [u8; 256] {
    let mut table = [b'.'; 256];
    let mut i = 0x20;
    while i <= 0x7e {
        table[i] = i as u8;
        i += 1;
    }
    table
}

/// A full line with an offset below 2^32: 8 offset digits, the hex columns, `|`, 16
/// characters, `|`, newline.
const FULL_LINE: usize = 8 + HEX_COLUMNS + 1 + WIDTH + 2;

/// The fixed parts of a full line (spaces, bars, newline); the rest is filled in place.
static FULL_TEMPLATE: [u8; FULL_LINE] = build_template();

const fn build_template() -> [u8; FULL_LINE] {
    let mut t = [b' '; FULL_LINE];
    t[8 + HEX_COLUMNS] = b'|';
    t[FULL_LINE - 2] = b'|';
    t[FULL_LINE - 1] = b'\n';
    t
}

/// The common case, written straight into `out`: every position is fixed, so there is no
/// stack buffer to copy and no digit loop.
fn write_full_line(out: &mut Vec<u8>, offset: u32, line: &[u8; WIDTH]) {
    let start = out.len();
    out.extend_from_slice(&FULL_TEMPLATE);
    let Ok(buf) = <&mut [u8; FULL_LINE]>::try_from(&mut out[start..]) else {
        return;
    };
    for (i, b) in offset.to_be_bytes().into_iter().enumerate() {
        buf[2 * i..2 * i + 2].copy_from_slice(&pair(b));
    }
    for (i, &b) in line.iter().enumerate() {
        let at = 10 + i * 3 + usize::from(i >= 8);
        buf[at..at + 2].copy_from_slice(&pair(b));
        buf[8 + HEX_COLUMNS + 1 + i] = ASCII[usize::from(b)];
    }
}

/// Appends the `hexdump -C` lines for `bytes`, the first one labelled `offset`.
///
/// Lines start at `offset` and are not aligned to 16, so a received chunk starts a line of
/// its own, labelled with its position in the stream. Runs of identical full lines are
/// squeezed into one `*` line as `hexdump -C` does (within this call). The final line with
/// the bare end offset is left out: a stream goes on, and the caller knows where it ends.
pub fn write_lines(out: &mut Vec<u8>, offset: u64, bytes: &[u8]) {
    out.reserve(bytes.len().div_ceil(WIDTH) * (8 + HEX_COLUMNS + WIDTH + 3));
    let mut previous: Option<&[u8]> = None;
    let mut squeezing = false;
    let mut line_offset = offset;
    for line in bytes.chunks(WIDTH) {
        if line.len() == WIDTH && previous == Some(line) {
            if !squeezing {
                out.extend_from_slice(b"*\n");
                squeezing = true;
            }
        } else {
            squeezing = false;
            match (<&[u8; WIDTH]>::try_from(line), u32::try_from(line_offset)) {
                (Ok(full), Ok(short)) => write_full_line(out, short, full),
                _ => write_line(out, line_offset, line),
            }
        }
        previous = Some(line);
        line_offset = line_offset.wrapping_add(WIDTH as u64);
    }
}

/// Exactly what `hexdump -C` prints for `bytes`: the lines, then the total length on a line
/// of its own. Empty input prints nothing, as `hexdump -C` does.
pub fn canonical(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if bytes.is_empty() {
        return out;
    }
    write_lines(&mut out, 0, bytes);
    let mut buf = [0u8; 17];
    let n = put_offset(&mut buf, bytes.len() as u64);
    buf[n] = b'\n';
    out.extend_from_slice(&buf[..=n]);
    out
}

fn write_line(out: &mut Vec<u8>, offset: u64, line: &[u8]) {
    // 16 offset digits at most, then the hex columns, `|`, 16 characters, `|` and newline.
    let mut buf = [b' '; 16 + HEX_COLUMNS + 1 + WIDTH + 2];
    let mut n = put_offset(&mut buf, offset);
    let hex_start = n + 2;
    for (i, &b) in line.iter().enumerate() {
        let at = hex_start + i * 3 + usize::from(i >= 8);
        buf[at..at + 2].copy_from_slice(&pair(b));
    }
    n += HEX_COLUMNS;
    buf[n] = b'|';
    n += 1;
    for &b in line {
        buf[n] = ASCII[usize::from(b)];
        n += 1;
    }
    buf[n] = b'|';
    buf[n + 1] = b'\n';
    out.extend_from_slice(&buf[..n + 2]);
}

/// Writes `offset` as at least eight lowercase hex digits (`%08x`) and returns how many.
fn put_offset(buf: &mut [u8], offset: u64) -> usize {
    let significant = (64 - offset.leading_zeros() as usize).div_ceil(4);
    let digits = significant.max(8);
    for (i, slot) in buf[..digits].iter_mut().enumerate() {
        let shift = 4 * (digits - 1 - i);
        *slot = pair((offset >> shift) as u8 & 0xf)[1];
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::{Command, Stdio};

    const HEXDUMP: &str = "/usr/bin/hexdump";

    fn text(bytes: &[u8]) -> String {
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    fn lines(offset: u64, bytes: &[u8]) -> String {
        let mut out = Vec::new();
        write_lines(&mut out, offset, bytes);
        text(&out)
    }

    /// What the real program prints, in the C locale so that only ASCII counts as printable.
    fn real_hexdump(input: &[u8]) -> Vec<u8> {
        let mut child = match Command::new(HEXDUMP)
            .arg("-C")
            .env("LC_ALL", "C")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => panic!(
                "cannot run {HEXDUMP} ({e}); this test compares with the real hexdump -C: \
                 install it with `apt-get install bsdextrautils` (or bsdmainutils on older systems)"
            ),
        };
        let mut stdin = child.stdin.take().unwrap();
        let data = input.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&data));
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(output.status.success(), "hexdump -C failed: {output:?}");
        output.stdout
    }

    #[test]
    fn matches_real_hexdump() {
        let mut random_ish = Vec::new();
        let mut x: u32 = 0x1234_5678;
        for _ in 0..100 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            random_ish.push(x as u8);
        }
        let mut repeated_then_different = vec![b'a'; 64];
        repeated_then_different.extend_from_slice(b"0123456789abcdef0123");
        let mut repeated_with_partial = vec![0u8; 40];
        repeated_with_partial.extend_from_slice(&[0u8; 8]);
        let mut two_runs = vec![1u8; 48];
        two_runs.extend_from_slice(&[2u8; 48]);
        two_runs.extend_from_slice(&[1u8; 48]);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", vec![]),
            ("one byte", vec![b'A']),
            ("hello", b"Hello world\n".to_vec()),
            ("8 bytes", b"01234567".to_vec()),
            ("9 bytes", b"012345678".to_vec()),
            ("15 bytes", (0..15).collect()),
            ("16 bytes", (0..16).collect()),
            ("17 bytes", (0..17).collect()),
            ("32 identical", vec![b'x'; 32]),
            ("random-ish 100", random_ish),
            ("all 256 values", (0..=255).collect()),
            ("1000 zeros", vec![0; 1000]),
            ("run then different", repeated_then_different),
            ("run with partial tail", repeated_with_partial),
            ("two runs", two_runs),
        ];
        for (name, input) in cases {
            let expected = real_hexdump(&input);
            let got = canonical(&input);
            assert_eq!(
                text(&got),
                text(&expected),
                "{name}: canonical() differs from hexdump -C"
            );
        }
    }

    #[test]
    fn layout() {
        assert_eq!(
            text(&canonical(b"Hello world\n")),
            "00000000  48 65 6c 6c 6f 20 77 6f  72 6c 64 0a              |Hello world.|\n\
             0000000c\n"
        );
        assert_eq!(canonical(b""), b"");
    }

    #[test]
    fn non_printable_is_a_dot() {
        let line = lines(0, &[0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff, b'\n']);
        assert!(line.ends_with("|. ~....|\n"), "{line}");
    }

    #[test]
    fn lines_start_at_offset_unaligned() {
        assert_eq!(
            lines(5, b"abc"),
            "00000005  61 62 63                                          |abc|\n"
        );
        let two = lines(0x1_0000_0000, &[b'z'; 17]);
        assert_eq!(
            two,
            "100000000  7a 7a 7a 7a 7a 7a 7a 7a  7a 7a 7a 7a 7a 7a 7a 7a  |zzzzzzzzzzzzzzzz|\n\
             100000010  7a                                                |z|\n"
        );
    }

    #[test]
    fn squeezes_without_final_offset() {
        assert_eq!(
            lines(16, &[0; 64]),
            "00000010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n*\n"
        );
        assert_eq!(lines(0, b""), "");
    }

    #[test]
    fn offsets_wider_than_eight_digits() {
        let mut buf = [0u8; 16];
        assert_eq!(put_offset(&mut buf, 0), 8);
        assert_eq!(&buf[..8], b"00000000");
        assert_eq!(put_offset(&mut buf, u64::MAX), 16);
        assert_eq!(&buf[..16], b"ffffffffffffffff");
        assert_eq!(put_offset(&mut buf, 0xabc_def0_1234), 11);
        assert_eq!(&buf[..11], b"abcdef01234");
    }
}
