//! `socklab ifaces`: parses its arguments, asks socklab-net for the report, prints it.

use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub struct IfacesArgs {
    /// Arguments (not built yet)
    pub rest: Vec<String>,
    /// One JSON document on stdout (see the README for the fields)
    #[arg(long)]
    pub json: bool,
}

pub async fn run(_args: IfacesArgs) -> anyhow::Result<ExitCode> {
    Err(socklab_net::Error::NotYet("socklab ifaces").into())
}
