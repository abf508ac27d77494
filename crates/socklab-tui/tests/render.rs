//! What the window looks like, on ratatui's TestBackend, checked against snapshot files
//! (tests/snapshots; review changes with `cargo insta review`, CI runs INSTA_UPDATE=no).
//! Timestamps are off and the clock is fixed, so a snapshot depends on nothing but the state.

use bytes::Bytes;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use socklab_core::session::{Addr, CloseReason, Data, Event, EventKind, Peer, PeerId, Scheme};
use socklab_tui::app::{
    App, FileSend, Focus, Mode, PromptKind, SendTarget, State, Transport, View,
};
use socklab_tui::i18n::Lang;
use socklab_tui::ui;
use tui_input::Input;

const T0: i64 = 1_764_000_000;

fn at(secs: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(T0 + secs).unwrap()
}

fn peer(id: PeerId, port: u16) -> Peer {
    Peer {
        id,
        addr: Addr::Ip(format!("127.0.0.1:{port}").parse().unwrap()),
    }
}

fn ev(secs: i64, kind: EventKind) -> Event {
    Event {
        time: at(secs),
        kind,
    }
}

fn connected(secs: i64, id: PeerId, port: u16) -> Event {
    ev(
        secs,
        EventKind::Connected {
            peer: peer(id, port),
            local: Addr::Ip("127.0.0.1:7788".parse().unwrap()),
            transport: Scheme::Tcp,
            cred: None,
        },
    )
}

fn data(secs: i64, id: PeerId, port: u16, received: bool, bytes: &[u8]) -> Event {
    let data = Data::new(
        Bytes::copy_from_slice(bytes),
        String::from_utf8_lossy(bytes).into_owned(),
    );
    let peer = peer(id, port);
    ev(
        secs,
        if received {
            EventKind::Received { peer, data }
        } else {
            EventKind::Sent { peer, data }
        },
    )
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(f, app)).unwrap();
    term.backend().to_string()
}

fn app(lang: Lang, mode: Mode, addr: &str) -> App {
    let mut app = App::new(lang, 1000);
    app.mode = mode;
    app.address = Input::new(addr.into());
    app.now = at(75);
    app
}

fn client_with_data(lang: Lang) -> App {
    let mut app = app(lang, Mode::Client, "127.0.0.1:7788");
    app.state = State::Connecting;
    app.apply(&connected(0, 1, 7788));
    app.apply(&data(
        1,
        1,
        7788,
        true,
        "欢迎 welcome to the server\r\n".as_bytes(),
    ));
    app.apply(&data(2, 1, 7788, false, b"ping\n"));
    app.apply(&data(3, 1, 7788, true, b"pong\nline two\n"));
    app.apply(&data(
        4,
        1,
        7788,
        true,
        &[0x01, 0x03, 0x02, 0x00, 0x2a, 0xff, b'\n'],
    ));
    app.send = Input::new("hello\\r\\n".into());
    app.focus = Focus::Send;
    app.counters.tick();
    app
}

#[test]
fn client_connected_with_received_data() {
    let app = client_with_data(Lang::En);
    insta::assert_snapshot!(render(&app, 90, 20));
}

#[test]
fn client_hex_view() {
    let mut app = client_with_data(Lang::En);
    app.view = View::Hex;
    insta::assert_snapshot!(render(&app, 90, 22));
}

fn server_with_three_clients(lang: Lang) -> App {
    let mut app = app(lang, Mode::Server, "7788");
    app.apply(&ev(
        0,
        EventKind::Listening {
            addr: Addr::Ip("0.0.0.0:7788".parse().unwrap()),
            transport: Scheme::Tcp,
        },
    ));
    for (i, port) in [(1, 40001), (2, 40002), (3, 40003)] {
        app.apply(&connected(i as i64 * 10, i, port));
    }
    app.apply(&data(31, 2, 40002, true, b"temperature=21.5\n"));
    app.apply(&data(32, 1, 40001, true, b"hello from one\n"));
    app.apply(&data(33, 3, 40003, true, "三号设备\n".as_bytes()));
    app.apply(&data(34, 2, 40002, false, b"ack\n"));
    app.focus = Focus::Clients;
    app.selected = 2;
    app.target = SendTarget::Peer(2);
    app.local_addrs = vec!["192.168.1.10 eth0".into(), "127.0.0.1 lo".into()];
    app
}

#[test]
fn server_with_three_clients_and_one_chosen() {
    let app = server_with_three_clients(Lang::En);
    insta::assert_snapshot!(render(&app, 110, 20));
}

#[test]
fn server_with_three_clients_in_chinese() {
    let app = server_with_three_clients(Lang::Zh);
    insta::assert_snapshot!(render(&app, 110, 20));
}

#[test]
fn both_view_shows_text_then_hex() {
    let mut app = client_with_data(Lang::En);
    app.view = View::Both;
    insta::assert_snapshot!(render(&app, 90, 24));
}

#[test]
fn naming_a_preset() {
    let mut app = client_with_data(Lang::En);
    app.ask(PromptKind::Preset, "plc-line-2".into());
    insta::assert_snapshot!(render(&app, 90, 20));
}

#[test]
fn bad_hex_error_in_the_status_bar() {
    let mut app = client_with_data(Lang::En);
    app.send_hex = true;
    app.send = Input::new("01 03 0g 00".into());
    let _ = app.submit();
    insta::assert_snapshot!(render(&app, 90, 20));
}

#[test]
fn refused_error_in_the_status_bar_in_chinese() {
    let mut app = app(Lang::Zh, Mode::Client, "127.0.0.1:9");
    app.state = State::Connecting;
    app.apply(&ev(
        0,
        EventKind::ConnectFailed {
            addr: "127.0.0.1:9".parse().unwrap(),
            reason: "connection refused".into(),
        },
    ));
    app.state = State::Closed;
    insta::assert_snapshot!(render(&app, 90, 12));
}

#[test]
fn a_client_that_left_is_gone_from_the_list() {
    let mut app = server_with_three_clients(Lang::En);
    app.apply(&ev(
        40,
        EventKind::Closed {
            peer: peer(2, 40002),
            reason: CloseReason::Kicked,
            bytes_in: 17,
            bytes_out: 4,
        },
    ));
    let screen = render(&app, 110, 20);
    assert!(screen.contains("Clients (2)"), "{screen}");
    assert!(screen.contains("#2 127.0.0.1:40002 - kicked"), "{screen}");
    assert!(
        screen.contains("● All clients"),
        "the target went back to all: {screen}"
    );
    assert!(screen.contains("#3 127.0.0.1:40003"), "{screen}");
}

#[test]
fn help_lists_every_key() {
    let mut app = client_with_data(Lang::En);
    app.help = true;
    insta::assert_snapshot!(render(&app, 100, 36));
    // On a short terminal the end of the help is reached by scrolling.
    app.help_scroll = 99;
    let short = render(&app, 100, 20);
    assert!(short.contains("F10, Ctrl-C, q"), "{short}");
}

#[test]
fn udp_server_panel_with_two_peers() {
    let mut app = app(Lang::En, Mode::Server, "127.0.0.1:5000");
    app.transport = Transport::Udp;
    app.apply(&ev(
        0,
        EventKind::Listening {
            addr: Addr::Ip("127.0.0.1:5000".parse().unwrap()),
            transport: Scheme::Udp,
        },
    ));
    app.apply(&connected(1, 1, 40001));
    app.apply(&data(1, 1, 40001, true, b"hello over udp\n"));
    app.apply(&connected(2, 2, 40002));
    app.apply(&data(2, 2, 40002, true, b"\x01\x02"));
    insta::assert_snapshot!(render(&app, 100, 16));
}

#[test]
fn tls_client_panel_shows_verification_off() {
    let mut app = app(Lang::Zh, Mode::Client, "localhost:8443");
    app.transport = Transport::Tls;
    app.tls_verify = false;
    let screen = render(&app, 100, 12);
    assert!(screen.contains("TLS 客户端"), "{screen}");
    assert!(screen.contains("验证证书: 关"), "{screen}");
}

#[test]
fn search_highlights_matches_in_text_and_hex() {
    let mut app = client_with_data(Lang::En);
    app.search_for("pong");
    let text = render(&app, 90, 20);
    assert!(text.contains("match pong: 1/1"), "{text}");
    // The match itself is marked: "pong" on the line that starts "< pong".
    let mut term = Terminal::new(TestBackend::new(90, 20)).unwrap();
    term.draw(|f| ui::draw(f, &app)).unwrap();
    let buf = term.backend().buffer().clone();
    let row = (0..20)
        .find(|y| {
            (0..90)
                .map(|x| buf[(x, *y)].symbol())
                .collect::<String>()
                .contains("< pong")
        })
        .expect("the pong line");
    let x0 = (0..90).find(|x| buf[(*x, row)].symbol() == "<").unwrap() + 2;
    for x in x0..x0 + 4 {
        assert_eq!(
            buf[(x, row)].bg,
            ratatui::style::Color::Yellow,
            "column {x}"
        );
    }
    assert_ne!(buf[(x0 + 4, row)].bg, ratatui::style::Color::Yellow);
    insta::assert_snapshot!("search_text", text);
    app.view = View::Hex;
    app.research();
    insta::assert_snapshot!("search_hex", render(&app, 90, 22));
    // In hex, the bytes of "pong" are marked in the hex column and in the ASCII column.
    let mut term = Terminal::new(TestBackend::new(90, 22)).unwrap();
    term.draw(|f| ui::draw(f, &app)).unwrap();
    let buf = term.backend().buffer().clone();
    let line = |y: u16| (0..90).map(|x| buf[(x, y)].symbol()).collect::<String>();
    let row = (0..22)
        .find(|y| line(*y).contains("< 70 6f"))
        .expect("the pong row");
    let yellow = |x: u16| buf[(x, row)].bg == ratatui::style::Color::Yellow;
    let hex_at = (0..90u16)
        .find(|x| buf[(*x, row)].symbol() == "<")
        .expect("the arrow")
        + 2;
    assert!((hex_at..hex_at + 11).all(yellow), "70 6f 6e 67 marked");
    assert!(!yellow(hex_at + 12), "0a not marked");
    assert!(
        !yellow(hex_at + 11),
        "the space after the last byte is not marked"
    );
}

#[test]
fn multi_line_send_box_and_loop_in_the_status_bar() {
    let mut app = client_with_data(Lang::En);
    app.send = Input::new("GET / HTTP/1.0\nHost: example\n".into());
    app.toggle_loop(std::time::Instant::now());
    if let Some(l) = app.looping.as_mut() {
        l.count = 12;
    }
    insta::assert_snapshot!(render(&app, 90, 20));
}

#[test]
fn file_send_gauge() {
    let mut app = client_with_data(Lang::En);
    app.file_send = Some(FileSend {
        path: "firmware.bin".into(),
        total: 4096,
        sent: 1024,
    });
    insta::assert_snapshot!(render(&app, 90, 20));
}
