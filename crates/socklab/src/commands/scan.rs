//! `socklab scan`: parses its arguments, asks socklab-net for the report, prints it.

use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Arguments (not built yet)
    pub rest: Vec<String>,
    /// One JSON document on stdout (see the README for the fields)
    #[arg(long)]
    pub json: bool,
}

pub async fn run(_args: ScanArgs) -> anyhow::Result<ExitCode> {
    Err(socklab_net::Error::NotYet("socklab scan").into())
}
