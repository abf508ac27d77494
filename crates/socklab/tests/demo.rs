//! `socklab demo`, the README's first command.

use crate::support::*;

#[test]
fn demo_runs_the_seed_exchange() {
    let out = run(&["demo"], b"");
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}{}", text(&out.stderr));
    for step in [
        "listening on 127.0.0.1:",
        "resolving localhost",
        "connected to",
        "你好啊",
        "c4 e3 ba c3 b0 a1",
        "thank you !",
        "74 68 61 6e 6b 20 79 6f  75 20 21",
        "closed by peer",
        "Try next:",
    ] {
        assert!(shown.contains(step), "{step:?} missing from:\n{shown}");
    }
}
