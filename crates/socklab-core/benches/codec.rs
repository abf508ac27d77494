//! Throughput of the codec paths that see every received or sent byte.
//!
//! `cargo bench -p socklab-core --bench codec`

use divan::counter::BytesCount;
use divan::{black_box, Bencher};
use socklab_core::codec::{hex, hexdump, Encoding};

fn main() {
    divan::main();
}

const MIB: usize = 1 << 20;

/// Deterministic noise (xorshift), so runs are comparable.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 32) as u8
        })
        .collect()
}

/// About 1 MiB of GBK: Chinese with ASCII mixed in, like a chatty device.
fn gbk_text() -> Vec<u8> {
    let line = "服务器已经收到你的信息, status=ok 温度 23.5°C 湿度 40%\r\n";
    let mut text = String::new();
    while text.len() < MIB * 3 / 2 {
        text.push_str(line);
    }
    let mut bytes = Encoding::from_label("gbk")
        .and_then(|gbk| gbk.encode(&text))
        .unwrap_or_default();
    bytes.truncate(MIB);
    bytes
}

#[divan::bench]
fn hexdump_write_lines_1mib(bencher: Bencher) {
    let data = random_bytes(MIB);
    let mut out = Vec::with_capacity(MIB * 5);
    bencher
        .counter(BytesCount::of_slice(&data))
        .bench_local(|| {
            out.clear();
            hexdump::write_lines(&mut out, 0, black_box(&data));
            out.len()
        });
}

#[divan::bench(args = ["gbk", "auto"])]
fn decode_gbk_1mib_in_4kib_chunks(bencher: Bencher, label: &str) {
    let data = gbk_text();
    let Ok(encoding) = Encoding::from_label(label) else {
        return;
    };
    let mut out = String::with_capacity(MIB * 2);
    bencher
        .counter(BytesCount::of_slice(&data))
        .bench_local(|| {
            out.clear();
            let mut decoder = encoding.decoder();
            for chunk in black_box(&data).chunks(4096) {
                decoder.decode(chunk, &mut out);
            }
            decoder.finish(&mut out);
            out.len()
        });
}

#[divan::bench]
fn parse_hex_64kib_spaced(bencher: Bencher) {
    let mut spaced = String::new();
    hex::encode_hex_spaced(&random_bytes(64 * 1024 / 3), &mut spaced);
    bencher
        .counter(BytesCount::of_str(&spaced))
        .bench_local(|| hex::parse_hex(black_box(&spaced)).map(|v| v.len()));
}

#[divan::bench]
fn encode_hex_1mib(bencher: Bencher) {
    let data = random_bytes(MIB);
    bencher
        .counter(BytesCount::of_slice(&data))
        .bench_local(|| hex::encode_hex(black_box(&data)).len());
}

#[divan::bench]
fn encode_hex_spaced_1mib(bencher: Bencher) {
    let data = random_bytes(MIB);
    let mut out = String::with_capacity(MIB * 3);
    bencher
        .counter(BytesCount::of_slice(&data))
        .bench_local(|| {
            out.clear();
            hex::encode_hex_spaced(black_box(&data), &mut out);
            out.len()
        });
}
