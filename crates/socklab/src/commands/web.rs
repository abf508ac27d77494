//! `socklab web`: the web UI (socklab-web) on loopback, behind a token printed in its URL.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Args;

use crate::commands::tui::LangArg;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  socklab web                      on 127.0.0.1, a free port; open the printed URL
  socklab web --open --lang zh     open the browser, in 中文
  socklab web --bind 127.0.0.1:8080

The URL carries a random token; the page trades it for a cookie on first load. Only the
bound address and localhost are accepted as Host, and the WebSocket only from the page.")]
pub struct WebArgs {
    /// Where to listen; a non-loopback address lets other machines try the token
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:0")]
    pub bind: SocketAddr,
    /// Open the page in the default browser (xdg-open)
    #[arg(long)]
    pub open: bool,
    /// Language of the page; by default the one chosen before, else the browser's
    #[arg(long, value_enum, value_name = "LANG")]
    pub lang: Option<LangArg>,
}

pub async fn run(args: WebArgs) -> anyhow::Result<ExitCode> {
    if !args.bind.ip().is_loopback() {
        eprintln!(
            "socklab web: warning: {} is not a loopback address; other machines can reach this page and only the token stands in their way",
            args.bind
        );
    }
    let bound = socklab_web::bind(socklab_web::Options {
        bind: args.bind,
        lang: args.lang.map(|l| {
            match l {
                LangArg::En => "en",
                LangArg::Zh => "zh",
            }
            .to_string()
        }),
    })
    .await?;
    let url = bound.url();
    // Flushed at once: scripts and tests wait for this line to connect.
    let mut out = std::io::stdout().lock();
    writeln!(out, "socklab web: {url}")?;
    out.flush()?;
    drop(out);
    if args.open {
        open_browser(&url);
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    bound.serve(shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

/// A browser that cannot be started is not a failure: the URL is printed anyway.
fn open_browser(url: &str) {
    match std::process::Command::new("xdg-open")
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        // Reaped on a thread so it never lingers as a zombie.
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(e) => eprintln!("socklab web: warning: cannot open a browser (xdg-open: {e}); open the URL above yourself"),
    }
}
