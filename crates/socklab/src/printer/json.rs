//! `--json` and `--log`: one serialized event per line, the same form for both (and for the
//! web socket later). Serialization of our own event type cannot fail: every field is a
//! string, number or list of those.

use socklab_core::session::Event;

pub fn json_line(ev: &Event, out: &mut Vec<u8>) {
    if serde_json::to_writer(&mut *out, ev).is_ok() {
        out.push(b'\n');
    }
}
