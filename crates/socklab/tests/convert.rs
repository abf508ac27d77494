//! `socklab convert` as a user runs it: the seed's encode/decode appendix, stdin, JSON,
//! and every bad input. Round trips in every encoding are a property test in socklab-net.

use serde_json::Value;

use crate::support::{python3, run, text, usage_error};

#[test]
fn the_seeds_text_in_utf8_and_gbk_matches_python() {
    // python3 is the oracle: the seed itself uses str.encode.
    let py = std::process::Command::new(python3())
        .args([
            "-c",
            "import sys; print(' '.join(f'{b:02x}' for b in '我是文本'.encode(sys.argv[1])))",
        ])
        .arg("gbk")
        .output()
        .expect("python3 runs");
    let want_gbk = text(&py.stdout).trim().to_string();
    let out = run(&["convert", "我是文本", "-e", "gbk"], b"");
    assert_eq!(text(&out.stdout).trim(), want_gbk);
    let out = run(&["convert", "我是文本"], b"");
    assert_eq!(text(&out.stdout), "e6 88 91 e6 98 af e6 96 87 e6 9c ac\n");
    // And back, exactly: no newline added when piped.
    let out = run(
        &[
            "convert", &want_gbk, "--from", "hex", "--to", "text", "-e", "gbk",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout, "我是文本".as_bytes());
}

#[test]
fn stdin_is_read_when_data_is_a_dash() {
    let out = run(&["convert", "-", "--to", "base64"], "第一行\n".as_bytes());
    assert_eq!(text(&out.stdout), "56ys5LiA6KGMCg==\n");
    let out = run(
        &["convert", "-", "--from", "base64", "--to", "hex"],
        b"56ys5LiA\n6KGMCg==\n",
    );
    assert_eq!(text(&out.stdout), "e7 ac ac e4 b8 80 e8 a1 8c 0a\n");
    // Escapes apply to DATA typed on the command line, not to data read from stdin.
    let out = run(&["convert", "-"], b"a\\n");
    assert_eq!(text(&out.stdout), "61 5c 6e\n");
    let out = run(&["convert", "a\\r\\n"], b"");
    assert_eq!(text(&out.stdout), "61 0d 0a\n");
    let out = run(&["convert", "a\\r\\n", "--no-escapes"], b"");
    assert_eq!(text(&out.stdout), "61 5c 72 5c 6e\n");
}

#[test]
fn json_keeps_the_bytes_and_names_a_detected_encoding() {
    let gbk = "ce d2 ca c7 b8 f6 cd f8 c2 e7 b5 f7 ca d4 d6 fa ca d6 a3 ac d3 c3 c0 b4 b7 a2 cb cd ca fd be dd";
    let out = run(
        &[
            "convert", gbk, "--from", "hex", "--to", "text", "-e", "auto", "--json",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["from"], "hex");
    assert_eq!(v["to"], "text");
    assert_eq!(v["encoding"], "gbk");
    assert_eq!(v["bytes"], 32);
    assert_eq!(v["hex"], gbk);
    assert_eq!(v["output"], "我是个网络调试助手，用来发送数据");
}

#[test]
fn bad_input_exits_2_with_what_was_wrong() {
    for (args, stdin, needles) in [
        (
            &["convert", "4 8 6", "--from", "hex"][..],
            &b""[..],
            &["bad hex", "expected pairs"][..],
        ),
        (&["convert", "abc", "--from", "hex"], b"", &["bad hex"]),
        (
            &["convert", "aGV*", "--from", "base64"],
            b"",
            &["bad base64"],
        ),
        (
            &["convert", "ff", "--from", "hex", "--to", "text"],
            b"",
            &["not valid utf-8", "offset 0"],
        ),
        (
            &["convert", "61 e4 b8", "--from", "hex", "--to", "text"],
            b"",
            &["not valid utf-8", "offset 1", "e4 b8"],
        ),
        (
            &["convert", "😀", "-e", "gbk"],
            b"",
            &["cannot be encoded in gbk"],
        ),
        (
            &["convert", "x", "-e", "klingon"],
            b"",
            &["unknown encoding 'klingon'"],
        ),
        (&["convert", "a\\q"], b"", &["bad escape"]),
        (&["convert", "-"], b"\xff\xfe", &["stdin is not UTF-8 text"]),
    ] {
        let out = run(args, stdin);
        usage_error(&out, needles);
    }
    let out = run(&["convert", "x", "--to", "octal"], b"");
    assert_eq!(out.status.code(), Some(2), "clap refuses an unknown form");
}
