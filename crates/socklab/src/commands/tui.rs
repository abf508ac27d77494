//! `socklab tui`: the full-screen terminal UI (socklab-tui) over the same session engine.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use socklab_core::codec::Encoding;
use socklab_core::endpoint::Endpoint;
use socklab_tui::i18n::Lang;
use socklab_tui::settings::{self, Settings};

use crate::UsageError;

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// Open this at once: a server to connect to (host:port, udp://, tls://, unix:), or
    /// with --listen where to listen. Without it the settings are focused.
    #[arg(value_name = "ENDPOINT")]
    pub endpoint: Option<String>,
    /// Be a server on ENDPOINT (or, without one, start in server mode)
    #[arg(short, long)]
    pub listen: bool,
    /// Language of the UI; the default follows LC_ALL / LC_MESSAGES / LANG (zh_* → 中文)
    #[arg(long, value_enum, value_name = "LANG")]
    pub lang: Option<LangArg>,
    /// Text encoding for input and display: utf-8, gbk, gb18030, big5, shift_jis ... or auto
    /// (default: the one remembered, else utf-8)
    #[arg(short = 'e', long, value_name = "ENC", value_parser = crate::cli::parse_encoding)]
    pub encoding: Option<Encoding>,
    /// Start with a preset saved in the window (Ctrl-S); the command line still wins
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// How many received entries to keep; older ones are dropped
    #[arg(long, value_name = "N", default_value_t = socklab_tui::scrollback::DEFAULT_LIMIT)]
    pub scrollback: usize,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LangArg {
    En,
    Zh,
}

pub async fn run(args: TuiArgs) -> anyhow::Result<ExitCode> {
    // A bad endpoint on the command line is a usage error before the screen is taken over;
    // in the window, the same mistake is shown in the status bar.
    if let Some(ep) = &args.endpoint {
        let parsed = if args.listen {
            Endpoint::parse_listen(ep)
        } else {
            Endpoint::parse_connect(ep)
        };
        parsed.map_err(|e| UsageError(e.to_string()))?;
    }
    if args.scrollback == 0 {
        return Err(UsageError(
            "--scrollback 0 would keep nothing; expected 1 or more entries".into(),
        )
        .into());
    }
    // The settings are read before the screen is taken, so a preset that does not exist is
    // a usage error on the shell; a file that cannot be read is shown in the window instead
    // and left untouched.
    let path = settings::path();
    let (saved, error) = match path.as_deref().map(settings::load) {
        Some(Ok(s)) => (s, None),
        Some(Err(e)) => (Settings::default(), Some(e)),
        None => (Settings::default(), None),
    };
    if let Some(name) = &args.preset {
        if !saved.presets.contains_key(name) {
            let known: Vec<&str> = saved.presets.keys().map(String::as_str).collect();
            let list = if known.is_empty() {
                "there are none yet (Ctrl-S in the window saves one)".to_string()
            } else {
                format!("expected one of: {}", known.join(", "))
            };
            return Err(
                UsageError(format!("--preset {name:?} is not a saved preset; {list}")).into(),
            );
        }
    }
    let lang = match args.lang {
        Some(LangArg::En) => Lang::En,
        Some(LangArg::Zh) => Lang::Zh,
        None => saved.lang().unwrap_or_else(Lang::from_env),
    };
    socklab_tui::run(socklab_tui::Options {
        lang,
        endpoint: args.endpoint,
        listen: args.listen,
        encoding: args.encoding,
        scrollback: args.scrollback,
        settings_path: if error.is_some() { None } else { path },
        settings: saved,
        settings_error: error,
        preset: args.preset,
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}
