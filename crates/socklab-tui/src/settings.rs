//! What the window remembers between runs, and the named presets: a small TOML file in the
//! platform's config directory (`~/.config/socklab/tui.toml` on Linux).
//!
//! The file is the user's: one that cannot be read is reported and left alone (never
//! overwritten at exit), and an unknown value in it falls back to the default for that
//! field only, so a file written by a newer version still opens.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use socklab_core::codec::Encoding;

use crate::app::{App, Eol, Mode, Transport, View};
use crate::i18n::Lang;

/// Overrides the directory the settings live in (tests, portable installs).
pub const DIR_ENV: &str = "SOCKLAB_CONFIG_DIR";
const FILE: &str = "tui.toml";

/// One set of connection settings: what the panel holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preset {
    /// "client" or "server".
    pub mode: String,
    /// "tcp", "udp", "tls", "unix" or "unixgram"; absent in files from before it existed,
    /// which then keep TCP (or the scheme typed in the address).
    pub transport: String,
    /// TLS client: the certificate is not verified (Ctrl-V). Off unless asked for.
    pub tls_insecure: bool,
    /// A TCP, TLS or Unix client reconnects when the peer goes away (Ctrl-E).
    pub reconnect: bool,
    pub address: String,
    pub encoding: String,
    /// "none", "lf", "crlf" or "cr".
    pub eol: String,
    pub send_hex: bool,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// "en" or "zh"; empty follows the locale.
    pub lang: String,
    /// "text", "hex" or "both".
    pub view: String,
    pub timestamps: bool,
    /// The loop send's interval in milliseconds (Ctrl-T); 0 or absent is the default.
    pub loop_interval_ms: u64,
    /// The panel as it was at the last exit.
    pub last: Preset,
    pub presets: BTreeMap<String, Preset>,
}

/// Where the settings file is, if the platform has a config directory.
pub fn path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os(DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join(FILE));
    }
    directories::ProjectDirs::from("", "", "socklab").map(|d| d.config_dir().join(FILE))
}

/// The settings in `path`: defaults when there is no file yet, an error naming the file and
/// what is wrong with it otherwise.
pub fn load(path: &Path) -> Result<Settings, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    toml::from_str(&text).map_err(|e| {
        let first = e.message().lines().next().unwrap_or("not valid TOML");
        format!("{}: {first}", path.display())
    })
}

/// Write `settings` to `path` whole or not at all: a crash mid-write leaves the old file.
pub fn save(path: &Path, settings: &Settings) -> io::Result<()> {
    let text = toml::to_string(settings).map_err(io::Error::other)?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

impl Preset {
    /// The panel of `app` as a preset.
    pub fn of(app: &App) -> Preset {
        Preset {
            mode: match app.mode {
                Mode::Client => "client",
                Mode::Server => "server",
            }
            .into(),
            transport: app.transport.name().into(),
            tls_insecure: !app.tls_verify,
            reconnect: app.reconnect,
            address: app.address.value().to_string(),
            encoding: app.encoding.name().to_ascii_lowercase(),
            eol: match app.eol {
                Eol::None => "none",
                Eol::Lf => "lf",
                Eol::CrLf => "crlf",
                Eol::Cr => "cr",
            }
            .into(),
            send_hex: app.send_hex,
        }
    }

    /// Put this preset in the panel of `app`; a field it does not know keeps its value.
    pub fn apply(&self, app: &mut App) {
        match self.mode.as_str() {
            "client" => app.mode = Mode::Client,
            "server" => app.mode = Mode::Server,
            _ => {}
        }
        // Empty: a file from before transports were a setting, when the panel was TCP.
        match Transport::from_name(&self.transport) {
            Some(tr) => app.transport = tr,
            None if self.transport.is_empty() => app.transport = Transport::Tcp,
            None => {}
        }
        app.tls_verify = !self.tls_insecure;
        app.reconnect = self.reconnect;
        if !self.address.is_empty() {
            app.address = tui_input::Input::new(self.address.clone());
        }
        if let Ok(e) = Encoding::from_label(&self.encoding) {
            app.encoding = e;
        }
        match self.eol.as_str() {
            "none" => app.eol = Eol::None,
            "lf" => app.eol = Eol::Lf,
            "crlf" => app.eol = Eol::CrLf,
            "cr" => app.eol = Eol::Cr,
            _ => {}
        }
        app.send_hex = self.send_hex;
        app.dirty = true;
    }
}

impl Settings {
    pub fn lang(&self) -> Option<Lang> {
        match self.lang.as_str() {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// Everything but the presets from `app`, to be saved at exit.
    pub fn remember(&mut self, app: &App) {
        self.lang = match app.lang {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
        .into();
        self.view = match app.view {
            View::Text => "text",
            View::Hex => "hex",
            View::Both => "both",
        }
        .into();
        self.timestamps = app.timestamps;
        self.loop_interval_ms = u64::try_from(app.loop_interval.as_millis()).unwrap_or(0);
        self.last = Preset::of(app);
    }

    /// The view and timestamps toggles, and the last panel, into `app`.
    pub fn restore(&self, app: &mut App) {
        match self.view.as_str() {
            "text" => app.view = View::Text,
            "hex" => app.view = View::Hex,
            "both" => app.view = View::Both,
            _ => {}
        }
        app.timestamps = self.timestamps;
        // Read back through the same bounds as typed, so a hand-edited 0 cannot spin.
        if let Ok(d) = crate::app::parse_interval(&format!("{}ms", self.loop_interval_ms)) {
            app.loop_interval = d;
        }
        self.last.apply(app);
    }

    /// The preset after `current` in name order (the first when `current` is the last or
    /// unknown), for a key that cycles through them.
    pub fn next_preset(&self, current: Option<&str>) -> Option<(&String, &Preset)> {
        let after = current.and_then(|c| {
            self.presets
                .range::<str, _>((std::ops::Bound::Excluded(c), std::ops::Bound::Unbounded))
                .next()
        });
        after.or_else(|| self.presets.iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("socklab-settings-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_panel_survives_a_round_trip_through_the_file() {
        let mut app = App::new(Lang::Zh, 10);
        app.mode = Mode::Server;
        app.transport = Transport::Udp;
        app.tls_verify = false;
        app.address = tui_input::Input::new("0.0.0.0:7788".into());
        app.encoding = Encoding::from_label("gbk").expect("gbk");
        app.eol = Eol::CrLf;
        app.view = View::Hex;
        app.timestamps = true;
        app.loop_interval = std::time::Duration::from_millis(250);
        let mut s = Settings::default();
        s.remember(&app);
        s.presets.insert("board".into(), Preset::of(&app));
        let dir = temp_dir("round");
        let path = dir.join("deeper").join(FILE);
        save(&path, &s).expect("save");
        let back = load(&path).expect("load");
        assert_eq!(back, s);
        let mut fresh = App::new(Lang::En, 10);
        back.restore(&mut fresh);
        assert_eq!(back.lang(), Some(Lang::Zh));
        assert_eq!(fresh.mode, Mode::Server);
        assert_eq!(fresh.transport, Transport::Udp);
        assert!(!fresh.tls_verify);
        assert_eq!(fresh.address.value(), "0.0.0.0:7788");
        assert_eq!(fresh.encoding.name(), "gbk");
        assert_eq!(fresh.eol, Eol::CrLf);
        assert_eq!(fresh.view, View::Hex);
        assert!(fresh.timestamps);
        assert_eq!(fresh.loop_interval, std::time::Duration::from_millis(250));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn no_file_is_the_defaults_and_a_bad_one_is_named() {
        let dir = temp_dir("bad");
        let path = dir.join(FILE);
        assert_eq!(load(&path), Ok(Settings::default()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(&path, "lang = [").expect("write");
        let err = load(&path).expect_err("bad TOML");
        assert!(err.contains(&path.display().to_string()), "{err}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn unknown_values_keep_the_defaults() {
        let s: Settings = toml::from_str(
            "lang = \"fr\"\nview = \"octal\"\n[last]\nmode = \"relay\"\nencoding = \"klingon\"\neol = \"lfcr\"\naddress = \"127.0.0.1:9\"\n",
        )
        .expect("parse");
        let mut app = App::new(Lang::En, 10);
        s.restore(&mut app);
        assert_eq!(s.lang(), None);
        assert_eq!(app.mode, Mode::Client);
        assert_eq!(app.view, View::Text);
        assert_eq!(app.encoding.name(), "utf-8");
        assert_eq!(app.eol, Eol::Lf);
        assert_eq!(app.address.value(), "127.0.0.1:9");
    }

    /// A file written before the transport was a setting: TCP, verification on, and an
    /// address with a scheme picks its transport when the window starts.
    #[test]
    fn an_old_file_without_a_transport_still_loads() {
        let s: Settings = toml::from_str(
            "lang = \"en\"\n[last]\nmode = \"server\"\naddress = \"udp://127.0.0.1:5000\"\nencoding = \"gbk\"\neol = \"lf\"\nsend_hex = false\n[presets.plc]\nmode = \"client\"\naddress = \"10.0.0.7:502\"\n",
        )
        .expect("parse");
        let mut app = App::new(Lang::En, 10);
        s.restore(&mut app);
        assert_eq!(app.transport, Transport::Tcp);
        assert!(app.tls_verify);
        assert_eq!(app.loop_interval, crate::app::LOOP_DEFAULT);
        app.adopt_scheme();
        assert_eq!((app.transport, app.mode), (Transport::Udp, Mode::Server));
        assert_eq!(app.address.value(), "127.0.0.1:5000");
        s.presets["plc"].apply(&mut app);
        assert_eq!(
            app.transport,
            Transport::Tcp,
            "a preset without one was TCP"
        );
        assert_eq!(app.mode, Mode::Client);
    }

    #[test]
    fn presets_cycle_in_name_order() {
        let mut s = Settings::default();
        for n in ["plc", "board", "redis"] {
            s.presets.insert(n.into(), Preset::default());
        }
        let names: Vec<&str> = std::iter::successors(s.next_preset(None), |(n, _)| {
            s.next_preset(Some(n.as_str()))
        })
        .take(4)
        .map(|(n, _)| n.as_str())
        .collect();
        assert_eq!(names, ["board", "plc", "redis", "board"]);
        assert!(Settings::default().next_preset(None).is_none());
    }
}
