//! Every word the UI shows, in English and Simplified Chinese. Received data is never
//! passed through here: it is the peer's, not ours.
//!
//! One table per language, keyed by [`Key`]; a unit test fails when either table lacks a
//! key, so a label added in one language cannot silently show up empty in the other.

/// The language of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// From the locale variables as POSIX ranks them: `LC_ALL`, then `LC_MESSAGES`, then
    /// `LANG`. `zh_*` (any region, any script) means Chinese; anything else English.
    pub fn from_locale(
        lc_all: Option<&str>,
        lc_messages: Option<&str>,
        lang: Option<&str>,
    ) -> Lang {
        let chosen = [lc_all, lc_messages, lang]
            .into_iter()
            .flatten()
            .find(|v| !v.is_empty());
        match chosen {
            Some(v) if v.to_ascii_lowercase().starts_with("zh") => Lang::Zh,
            _ => Lang::En,
        }
    }

    /// The locale of this process.
    pub fn from_env() -> Lang {
        let var = |k| std::env::var(k).ok();
        Lang::from_locale(
            var("LC_ALL").as_deref(),
            var("LC_MESSAGES").as_deref(),
            var("LANG").as_deref(),
        )
    }

    pub fn toggle(self) -> Lang {
        match self {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        }
    }
}

macro_rules! keys {
    ($($k:ident),* $(,)?) => {
        /// A label, hint or message of the UI.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Key { $($k),* }
        impl Key {
            pub const ALL: &'static [Key] = &[$(Key::$k),*];
        }
    };
}

keys! {
    Title, Settings, Mode, Address, Encoding, Open, Close, TcpClient, TcpServer,
    Received, Send, Clients, All, Target, Text, Hex, Follow, Paused, Timestamps,
    Eol, EolNone, StateIdle, StateConnecting, StateConnected, StateListening, StateClosed,
    Peers, BytesIn, BytesOut, KeyHints, HelpTitle, HelpClose,
    HelpFocus, HelpEnter, HelpOpen, HelpView, HelpSendHex, HelpEol, HelpMode, HelpEncoding,
    HelpTimestamps, HelpLang, HelpQuit, HelpScroll, HelpPause, HelpClear, HelpKick, HelpSelect,
    HelpHelp, ErrNotOpen, ErrBadAddress, ErrBadHex, ErrBind, ErrConnect, ErrClosedWhileOpen,
    MsgSent, MsgKicked, MsgClosed, MsgCleared, NoClient, Listening, ConnectedTo, Disconnected,
    Lines, HelpPresetSave, HelpPresetNext, HelpHistory, PresetName, MsgPresetSaved, MsgPreset,
    NoPresets, ErrSettings, ErrBusy, LocalAddresses, Both,
    UdpClient, UdpServer, TlsClient, TlsServer, UnixClient, UnixServer, UnixGramClient,
    UnixGramServer, Verify, On, Off, HelpVerify, TlsGenerated, TlsLoaded, TlsPinHint, TlsSecured,
    HintVerify, MsgInterval, ErrInterval, MsgLoopStopped, Sends, NotFound, NoSearch, Found,
    EmptyFile, FileStopped, FileSent, BytesWord, Looping, PromptInterval, PromptFile,
    PromptSearch, PromptSave, ErrFile, MsgSaved, ErrSave, HelpNewline, HelpLoop, HelpInterval,
    HelpFile, HelpSearch, HelpSearchNext, HelpSave, HelpMouse, SendingFile, FileCancelled,
    Reconnect, HelpReconnect, ReconnectingIn,
}

/// The text of `key` in `lang`.
pub fn t(lang: Lang, key: Key) -> &'static str {
    let table = match lang {
        Lang::En => EN,
        Lang::Zh => ZH,
    };
    lookup(table, key).unwrap_or("?")
}

fn lookup(table: &[(Key, &'static str)], key: Key) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, s)| *s)
}

use Key::*;

static EN: &[(Key, &str)] = &[
    (Title, "socklab"),
    (Settings, "Settings"),
    (Mode, "Mode"),
    (Address, "Address"),
    (Encoding, "Encoding"),
    (Open, "Open"),
    (Close, "Close"),
    (TcpClient, "TCP client"),
    (TcpServer, "TCP server"),
    (Received, "Received"),
    (Send, "Send"),
    (Clients, "Clients"),
    (All, "All clients"),
    (Target, "to"),
    (Text, "text"),
    (Hex, "hex"),
    (Follow, "follow"),
    (Paused, "paused"),
    (Timestamps, "timestamps"),
    (Eol, "EOL"),
    (EolNone, "none"),
    (StateIdle, "closed"),
    (StateConnecting, "connecting"),
    (StateConnected, "connected"),
    (StateListening, "listening"),
    (StateClosed, "closed"),
    (Peers, "peers"),
    (BytesIn, "in"),
    (BytesOut, "out"),
    (
        KeyHints,
        "F1/? help  F2 open/close  F3 text/hex  Tab focus  F10 quit",
    ),
    (HelpTitle, "Keys"),
    (HelpClose, "any key closes this"),
    (
        HelpFocus,
        "Tab / Shift-Tab   move focus: address, send box, clients, received",
    ),
    (
        HelpEnter,
        "Enter             address: open/close; send box: send; clients: choose target",
    ),
    (HelpOpen, "F2                open or close"),
    (
        HelpView,
        "F3                received view: text / hex / both",
    ),
    (
        HelpSendHex,
        "F4                send box: text with escapes / hex",
    ),
    (
        HelpEol,
        "F5                line end added to text sends: none, LF, CRLF, CR",
    ),
    (
        HelpMode,
        "F6 / Shift-F6     mode: TCP, UDP, TLS, Unix; client or server (when closed)",
    ),
    (HelpEncoding, "F7                encoding (when closed)"),
    (HelpTimestamps, "F8                timestamps on/off"),
    (HelpLang, "F9                language: English / 中文"),
    (HelpQuit, "F10, Ctrl-C, q    quit (q outside text boxes)"),
    (
        HelpScroll,
        "PgUp / PgDn / End scroll the received pane; End follows again",
    ),
    (HelpPause, "Space (received)  pause / follow"),
    (HelpClear, "Ctrl-L            clear the received pane"),
    (HelpKick, "Delete / k        kick the selected client"),
    (
        HelpSelect,
        "Up / Down         choose a client (clients list)",
    ),
    (
        HelpHelp,
        "F1, ?             this help (? outside text boxes)",
    ),
    (ErrNotOpen, "not open: press F2 to open first"),
    (ErrBadAddress, "bad address"),
    (ErrBadHex, "bad hex, nothing sent"),
    (ErrBind, "cannot listen"),
    (ErrConnect, "cannot connect"),
    (ErrClosedWhileOpen, "close first (F2) to change this"),
    (MsgSent, "sent"),
    (MsgKicked, "kicked"),
    (MsgClosed, "closed"),
    (MsgCleared, "cleared"),
    (NoClient, "no client connected"),
    (Listening, "listening on"),
    (ConnectedTo, "connected to"),
    (Disconnected, "disconnected"),
    (Lines, "entries"),
    (
        HelpPresetSave,
        "Ctrl-S            save the settings as a named preset",
    ),
    (
        HelpPresetNext,
        "Ctrl-P            load the next preset (when closed)",
    ),
    (
        HelpHistory,
        "Up / Down         send box: earlier lines sent",
    ),
    (PresetName, "Preset name (Enter saves, Esc cancels)"),
    (MsgPresetSaved, "saved preset"),
    (MsgPreset, "preset"),
    (
        NoPresets,
        "no presets yet: Ctrl-S saves the settings as one",
    ),
    (ErrSettings, "settings not read, and not saved at exit"),
    (ErrBusy, "busy: the send queue is full, nothing sent"),
    (LocalAddresses, "This machine"),
    (Both, "text + hex"),
    (UdpClient, "UDP client"),
    (UdpServer, "UDP server"),
    (TlsClient, "TLS client"),
    (TlsServer, "TLS server"),
    (UnixClient, "Unix client"),
    (UnixServer, "Unix server"),
    (UnixGramClient, "Unix datagram client"),
    (UnixGramServer, "Unix datagram server"),
    (Verify, "Verify cert"),
    (On, "on"),
    (Off, "off"),
    (
        HelpVerify,
        "Ctrl-V            TLS client: verify the certificate on/off (when closed)",
    ),
    (Reconnect, "Reconnect"),
    (
        HelpReconnect,
        "Ctrl-E            TCP/TLS/Unix client: reconnect when the peer goes away, on/off",
    ),
    (ReconnectingIn, "reconnecting in"),
    (TlsGenerated, "TLS: a self-signed certificate made at start"),
    (TlsLoaded, "TLS certificate"),
    (TlsPinHint, "clients can pin sha256"),
    (TlsSecured, "TLS secured"),
    (
        HintVerify,
        "(Ctrl-V turns certificate verification off for a test server)",
    ),
    (MsgInterval, "loop interval"),
    (ErrInterval, "bad interval"),
    (MsgLoopStopped, "loop stopped"),
    (Sends, "sends"),
    (NotFound, "not found"),
    (NoSearch, "no search yet: / finds text"),
    (Found, "match"),
    (EmptyFile, "empty file, nothing sent:"),
    (FileStopped, "file not sent whole"),
    (FileCancelled, "cancelled"),
    (FileSent, "file sent"),
    (BytesWord, "bytes"),
    (Looping, "looping every"),
    (
        PromptInterval,
        "Loop interval, e.g. 500ms, 2s (Enter sets, Esc cancels)",
    ),
    (PromptFile, "File to send (Enter sends, Esc cancels)"),
    (PromptSearch, "Find (hex digits find bytes in the hex view)"),
    (
        PromptSave,
        "Save the received pane as viewed to (Enter saves)",
    ),
    (ErrFile, "cannot send the file, nothing sent"),
    (MsgSaved, "wrote"),
    (ErrSave, "cannot save"),
    (
        HelpNewline,
        "Ctrl-J, Alt-Enter send box: a new line (Up/Down move between lines)",
    ),
    (
        HelpLoop,
        "Ctrl-R            loop send the send box on/off (status bar counts)",
    ),
    (HelpInterval, "Ctrl-T            set the loop interval"),
    (
        HelpFile,
        "Ctrl-O            send a file (a gauge shows bytes sent); again: cancel",
    ),
    (
        HelpSearch,
        "/ (received)      find text, or bytes in the hex view",
    ),
    (HelpSearchNext, "n / N (received)  older / newer match"),
    (
        HelpSave,
        "Ctrl-X            save the received pane as viewed to a file",
    ),
    (
        HelpMouse,
        "Mouse             wheel scrolls; click a client to send to it, a box to focus",
    ),
    (SendingFile, "sending"),
];

static ZH: &[(Key, &str)] = &[
    (Title, "socklab 网络调试助手"),
    (Settings, "设置"),
    (Mode, "模式"),
    (Address, "地址"),
    (Encoding, "编码"),
    (Open, "打开"),
    (Close, "关闭"),
    (TcpClient, "TCP 客户端"),
    (TcpServer, "TCP 服务器"),
    (Received, "接收"),
    (Send, "发送"),
    (Clients, "客户端"),
    (All, "全部客户端"),
    (Target, "发往"),
    (Text, "文本"),
    (Hex, "十六进制"),
    (Follow, "跟随"),
    (Paused, "已暂停"),
    (Timestamps, "时间戳"),
    (Eol, "行尾"),
    (EolNone, "无"),
    (StateIdle, "未打开"),
    (StateConnecting, "连接中"),
    (StateConnected, "已连接"),
    (StateListening, "监听中"),
    (StateClosed, "已关闭"),
    (Peers, "连接数"),
    (BytesIn, "收"),
    (BytesOut, "发"),
    (
        KeyHints,
        "F1/? 帮助  F2 打开/关闭  F3 文本/十六进制  Tab 切换焦点  F10 退出",
    ),
    (HelpTitle, "按键"),
    (HelpClose, "按任意键关闭"),
    (
        HelpFocus,
        "Tab / Shift-Tab   切换焦点：地址、发送框、客户端、接收区",
    ),
    (
        HelpEnter,
        "Enter             地址：打开/关闭；发送框：发送；客户端：选为发送目标",
    ),
    (HelpOpen, "F2                打开或关闭"),
    (
        HelpView,
        "F3                接收区显示：文本 / 十六进制 / 两者",
    ),
    (
        HelpSendHex,
        "F4                发送框：文本（支持转义）/ 十六进制",
    ),
    (
        HelpEol,
        "F5                文本发送的行尾：无、LF、CRLF、CR",
    ),
    (
        HelpMode,
        "F6 / Shift-F6     模式：TCP、UDP、TLS、Unix；客户端或服务器（关闭时）",
    ),
    (HelpEncoding, "F7                编码（关闭时）"),
    (HelpTimestamps, "F8                显示/隐藏时间戳"),
    (HelpLang, "F9                语言：English / 中文"),
    (HelpQuit, "F10、Ctrl-C、q    退出（q 在输入框外）"),
    (HelpScroll, "PgUp / PgDn / End 滚动接收区；End 恢复跟随"),
    (HelpPause, "空格（接收区）    暂停 / 跟随"),
    (HelpClear, "Ctrl-L            清空接收区"),
    (HelpKick, "Delete / k        断开所选客户端"),
    (HelpSelect, "Up / Down         选择客户端（客户端列表）"),
    (HelpHelp, "F1、?             本帮助（? 在输入框外）"),
    (ErrNotOpen, "未打开：请先按 F2 打开"),
    (ErrBadAddress, "地址无效"),
    (ErrBadHex, "十六进制无效，未发送"),
    (ErrBind, "无法监听"),
    (ErrConnect, "无法连接"),
    (ErrClosedWhileOpen, "请先关闭（F2）再修改"),
    (MsgSent, "已发送"),
    (MsgKicked, "已断开"),
    (MsgClosed, "已关闭"),
    (MsgCleared, "已清空"),
    (NoClient, "没有已连接的客户端"),
    (Listening, "正在监听"),
    (ConnectedTo, "已连接到"),
    (Disconnected, "已断开"),
    (Lines, "条"),
    (HelpPresetSave, "Ctrl-S            将设置保存为命名预设"),
    (HelpPresetNext, "Ctrl-P            载入下一个预设（关闭时）"),
    (HelpHistory, "Up / Down         发送框：之前发送过的内容"),
    (PresetName, "预设名称（Enter 保存，Esc 取消）"),
    (MsgPresetSaved, "已保存预设"),
    (MsgPreset, "预设"),
    (NoPresets, "还没有预设：按 Ctrl-S 将当前设置保存为预设"),
    (ErrSettings, "设置未能读取，退出时也不会保存"),
    (ErrBusy, "忙：发送队列已满，未发送"),
    (LocalAddresses, "本机地址"),
    (Both, "文本 + 十六进制"),
    (UdpClient, "UDP 客户端"),
    (UdpServer, "UDP 服务器"),
    (TlsClient, "TLS 客户端"),
    (TlsServer, "TLS 服务器"),
    (UnixClient, "Unix 客户端"),
    (UnixServer, "Unix 服务器"),
    (UnixGramClient, "Unix 数据报客户端"),
    (UnixGramServer, "Unix 数据报服务器"),
    (Verify, "验证证书"),
    (On, "开"),
    (Off, "关"),
    (
        HelpVerify,
        "Ctrl-V            TLS 客户端：开/关证书验证（关闭时）",
    ),
    (Reconnect, "自动重连"),
    (
        HelpReconnect,
        "Ctrl-E            TCP/TLS/Unix 客户端：对方断开后自动重连，开/关（关闭时）",
    ),
    (ReconnectingIn, "重连等待"),
    (TlsGenerated, "TLS：启动时生成的自签名证书"),
    (TlsLoaded, "TLS 证书"),
    (TlsPinHint, "客户端可固定 sha256"),
    (TlsSecured, "TLS 已加密"),
    (HintVerify, "（测试服务器可按 Ctrl-V 关闭证书验证）"),
    (MsgInterval, "循环间隔"),
    (ErrInterval, "间隔无效"),
    (MsgLoopStopped, "循环发送已停止"),
    (Sends, "次"),
    (NotFound, "未找到"),
    (NoSearch, "还没有搜索：按 / 查找"),
    (Found, "匹配"),
    (EmptyFile, "空文件，未发送："),
    (FileStopped, "文件未完整发送"),
    (FileCancelled, "已取消"),
    (FileSent, "文件已发送"),
    (BytesWord, "字节"),
    (Looping, "循环发送，间隔"),
    (
        PromptInterval,
        "循环间隔，如 500ms、2s（Enter 设置，Esc 取消）",
    ),
    (PromptFile, "要发送的文件（Enter 发送，Esc 取消）"),
    (PromptSearch, "查找（十六进制视图中输入十六进制查找字节）"),
    (PromptSave, "将接收区按当前视图保存到（Enter 保存）"),
    (ErrFile, "无法发送文件，未发送"),
    (MsgSaved, "已写入"),
    (ErrSave, "无法保存"),
    (
        HelpNewline,
        "Ctrl-J、Alt-Enter 发送框：换行（Up/Down 在行间移动）",
    ),
    (HelpLoop, "Ctrl-R            开/关循环发送（状态栏计数）"),
    (HelpInterval, "Ctrl-T            设置循环间隔"),
    (
        HelpFile,
        "Ctrl-O            发送文件（进度条显示已发送字节）；再按：取消",
    ),
    (
        HelpSearch,
        "/（接收区）       查找文本，十六进制视图中查找字节",
    ),
    (HelpSearchNext, "n / N（接收区）   上一个 / 下一个匹配"),
    (HelpSave, "Ctrl-X            将接收区按当前视图保存到文件"),
    (
        HelpMouse,
        "鼠标              滚轮滚动；点击客户端设为发送目标，点击输入框切换焦点",
    ),
    (SendingFile, "正在发送"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_in_both_languages_once() {
        for (name, table) in [("en", EN), ("zh", ZH)] {
            for key in Key::ALL {
                let n = table.iter().filter(|(k, _)| k == key).count();
                assert_eq!(n, 1, "{key:?} appears {n} times in the {name} table");
                assert!(!lookup(table, *key).unwrap_or_default().is_empty());
            }
            assert_eq!(table.len(), Key::ALL.len(), "{name} has keys twice");
        }
    }

    #[test]
    fn chinese_is_not_english_copied() {
        // Labels that are the same in both would be untranslated, except names of things.
        let same: Vec<_> = Key::ALL
            .iter()
            .filter(|k| t(Lang::En, **k) == t(Lang::Zh, **k))
            .collect();
        assert!(same.is_empty(), "untranslated: {same:?}");
    }

    #[test]
    fn locale_picks_the_language() {
        assert_eq!(Lang::from_locale(None, None, Some("zh_CN.UTF-8")), Lang::Zh);
        assert_eq!(Lang::from_locale(None, None, Some("zh_TW")), Lang::Zh);
        assert_eq!(Lang::from_locale(None, None, Some("en_US.UTF-8")), Lang::En);
        assert_eq!(Lang::from_locale(Some("C"), None, Some("zh_CN")), Lang::En);
        assert_eq!(Lang::from_locale(Some(""), None, Some("zh_CN")), Lang::Zh);
        assert_eq!(
            Lang::from_locale(None, Some("zh_SG"), Some("en_GB")),
            Lang::Zh
        );
        assert_eq!(Lang::from_locale(None, None, None), Lang::En);
    }
}
