//! `socklab tui`: the full-screen terminal UI (socklab-tui) over the same session engine.

use std::process::ExitCode;

use clap::{Args, ValueEnum};
use socklab_core::codec::Encoding;
use socklab_core::endpoint::Endpoint;
use socklab_tui::i18n::Lang;

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
    #[arg(short = 'e', long, value_name = "ENC", default_value = "utf-8", value_parser = crate::cli::parse_encoding)]
    pub encoding: Encoding,
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
    let lang = match args.lang {
        Some(LangArg::En) => Lang::En,
        Some(LangArg::Zh) => Lang::Zh,
        None => Lang::from_env(),
    };
    socklab_tui::run(socklab_tui::Options {
        lang,
        endpoint: args.endpoint,
        listen: args.listen,
        encoding: args.encoding,
        scrollback: args.scrollback,
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}
