//! The socket protocol: one WebSocket per page, JSON text messages both ways.
//!
//! Page → server: `{"op":"open","sid","mode","address","encoding"}`,
//! `{"op":"send","sid","to","data","hex","eol"[,"rid"]}` (`to`: "all", an id or a list of
//! ids; with `rid` the send waits for room and is answered `{"rid","result":{"queued":N}}`),
//! `{"op":"kick","sid","peer"}`, `{"op":"close","sid"}`, `{"op":"sync"}`,
//! `{"op":"tool","rid","tool",...args}`, `{"op":"stop","rid"}` (end a running tool: a ping
//! gives its summary so far).
//!
//! Server → page: `{"sync":{"lang","version","sessions":[...]}}` first and on request;
//! `{"sid","session":{...}}` when a session opens; `{"sid","events":[EVENT...],"stats":{...}
//! [,"skipped":{"events","bytes"}]}` at most every 50 ms per session, each EVENT exactly as
//! `--json` prints it and the stats the session's exact counters; `{"sid","state"}`;
//! `{"sid","error"}`; `{"sid","removed":true}`; `{"rid","progress"}` while a tool runs (each
//! ping try), then `{"rid","result"}` or `{"rid","error"}`; `{"dropped":N}` when this page
//! fell behind and
//! N messages were skipped; `{"error"}` for a message that could not be read.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::guard::refuse;
use crate::sessions::{OpenRequest, SendRequest};
use crate::AppState;

/// Replies meant for this page only (tool results, errors of its own requests). A page
/// that does not read them loses the newest, counted in the next `dropped` marker.
const REPLIES: usize = 64;

/// Tools one page may have running at once (pings, scans, traces in flight).
const RUNNING_TOOLS: usize = 16;

/// The largest message a page may send: a send box, not a file upload.
const MAX_MESSAGE: usize = 4 << 20;

pub async fn upgrade(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    if !state.guard.origin_allowed(&headers) {
        return refuse(
            StatusCode::FORBIDDEN,
            "the WebSocket must come from this page; expected Origin http://<the Host header>",
        );
    }
    match ws {
        Ok(ws) => ws
            .max_message_size(MAX_MESSAGE)
            .on_upgrade(move |socket| serve(socket, state)),
        Err(e) => e.into_response(),
    }
}

async fn serve(mut socket: WebSocket, state: Arc<AppState>) {
    let (mut out, snaps) = state.hub.subscribe();
    let (reply_tx, mut replies) = mpsc::channel::<Value>(REPLIES);
    let mut dropped: u64 = 0;
    // How to stop each running tool of this page, by its rid (as JSON text). A tool
    // also stops when this page goes away: its replies channel closes.
    let mut running: HashMap<String, oneshot::Sender<()>> = HashMap::new();
    if send(&mut socket, &sync(&state, snaps)).await.is_err() {
        return;
    }
    loop {
        let msg = tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let r = Replies { tx: &reply_tx, dropped: &mut dropped, running: &mut running };
                    if let Some(answer) = handle(&state, text.as_str(), r) {
                        answer
                    } else {
                        continue;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => continue,
            },
            broadcast = out.recv() => match broadcast {
                Ok(text) => {
                    if socket.send(Message::Text(Utf8Bytes::from(&*text))).await.is_err() {
                        break;
                    }
                    continue;
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    dropped += n;
                    json!({ "dropped": std::mem::take(&mut dropped) })
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            Some(reply) = replies.recv() => reply,
        };
        if dropped > 0 && msg.get("dropped").is_none() {
            let marker = json!({ "dropped": std::mem::take(&mut dropped) });
            if send(&mut socket, &marker).await.is_err() {
                break;
            }
        }
        if send(&mut socket, &msg).await.is_err() {
            break;
        }
    }
}

/// The way back to this page for answers that come later (tools run in their own task).
struct Replies<'a> {
    tx: &'a mpsc::Sender<Value>,
    dropped: &'a mut u64,
    running: &'a mut HashMap<String, oneshot::Sender<()>>,
}

fn sync(state: &AppState, sessions: Vec<crate::sessions::Snapshot>) -> Value {
    json!({ "sync": {
        "lang": state.lang,
        "version": env!("CARGO_PKG_VERSION"),
        "sessions": sessions,
    }})
}

async fn send(socket: &mut WebSocket, msg: &Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(msg.to_string().into())).await
}

/// One request; the answer to send at once, if any.
fn handle(state: &Arc<AppState>, text: &str, replies: Replies<'_>) -> Option<Value> {
    let req: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Some(json!({ "error": format!("not a JSON message: {e}") })),
    };
    let op = req.get("op").and_then(Value::as_str).unwrap_or("");
    let sid = req.get("sid").cloned().unwrap_or(Value::Null);
    let fail = |e: String| Some(json!({ "sid": sid, "error": e }));
    match op {
        "open" => {
            let open: OpenRequest = match serde_json::from_value(req.clone()) {
                Ok(o) => o,
                Err(e) => return fail(format!("bad open request: {e}")),
            };
            // Binding or resolving can take a moment; the socket goes on meanwhile.
            let hub = Arc::clone(&state.hub);
            let tx = replies.tx.clone();
            tokio::spawn(async move {
                if let Err(e) = hub.open(open).await {
                    let _ = tx.send(json!({ "sid": sid, "error": e })).await;
                }
            });
            None
        }
        "send" => match serde_json::from_value::<SendRequest>(req.clone()) {
            // With a rid the page waits for its answer before the next piece (a file), and
            // the send waits for room in the queue instead of being refused as busy.
            Ok(s) => match req.get("rid").cloned() {
                Some(rid) => {
                    let hub = Arc::clone(&state.hub);
                    let tx = replies.tx.clone();
                    tokio::spawn(async move {
                        let answer = match hub.send_waiting(s).await {
                            Ok(n) => json!({ "rid": rid, "result": { "queued": n } }),
                            Err(e) => json!({ "rid": rid, "error": e }),
                        };
                        let _ = tx.send(answer).await;
                    });
                    None
                }
                None => state.hub.send(s).err().and_then(fail),
            },
            Err(e) => fail(format!("bad send request: {e}")),
        },
        "kick" => match (
            req.get("sid").and_then(Value::as_str),
            req.get("peer").and_then(Value::as_u64),
        ) {
            (Some(s), Some(p)) => state.hub.kick(s, p).err().and_then(fail),
            _ => fail("kick needs a sid and a peer id (a number)".into()),
        },
        "close" => match req.get("sid").and_then(Value::as_str) {
            Some(s) => state.hub.close(s).err().and_then(fail),
            None => fail("close needs a sid".into()),
        },
        "sync" => Some(sync(state, state.hub.snapshots())),
        "tool" => {
            let rid = req.get("rid").cloned().unwrap_or(Value::Null);
            let name = req
                .get("tool")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let tx = replies.tx.clone();
            if tx.capacity() == 0 {
                *replies.dropped += 1;
                return None;
            }
            // A finished tool dropped its end of the stop channel.
            replies.running.retain(|_, stop| !stop.is_closed());
            let key = rid.to_string();
            if replies.running.contains_key(&key) {
                return Some(
                    json!({ "rid": rid, "error": format!("a tool with rid {key} is still running; expected a new rid") }),
                );
            }
            if replies.running.len() >= RUNNING_TOOLS {
                return Some(
                    json!({ "rid": rid, "error": format!("{RUNNING_TOOLS} tools are running on this page already; stop one or wait for it") }),
                );
            }
            let (stop_tx, stop_rx) = oneshot::channel::<()>();
            replies.running.insert(key, stop_tx);
            tokio::spawn(async move {
                let gone = tx.clone();
                let stop = async move {
                    tokio::select! {
                        _ = stop_rx => {}
                        _ = gone.closed() => {}
                    }
                };
                // Progress is for watching: when the page is behind, a try is skipped
                // here (the result lists them all) rather than held in memory.
                let progress_tx = tx.clone();
                let progress_rid = rid.clone();
                let progress = move |p: Value| {
                    let _ = progress_tx.try_send(json!({ "rid": progress_rid, "progress": p }));
                };
                let answer = match crate::tools::run(&name, req, progress, stop).await {
                    Ok(result) => json!({ "rid": rid, "result": result }),
                    Err(error) => json!({ "rid": rid, "error": error }),
                };
                let _ = tx.send(answer).await;
            });
            None
        }
        "stop" => {
            let rid = req.get("rid").cloned().unwrap_or(Value::Null);
            match replies.running.remove(&rid.to_string()) {
                // The tool answers for itself (a ping with its summary).
                Some(stop) => {
                    let _ = stop.send(());
                    None
                }
                None => Some(json!({ "rid": rid, "error": "no tool with this rid is running" })),
            }
        }
        other => Some(json!({
            "error": format!("unknown op '{other}'; expected open, send, kick, close, sync, tool or stop")
        })),
    }
}
