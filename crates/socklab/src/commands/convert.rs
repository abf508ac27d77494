//! `socklab convert`: parses its arguments, asks socklab-net for the conversion, prints it.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use socklab_core::codec::Encoding;
use socklab_net::convert::{self, Form, Request};

use crate::report;
use crate::UsageError;

#[derive(Debug, Args)]
#[command(after_help = "Examples:
  socklab convert 我是文本                      e6 88 91 e6 98 af e6 96 87 e6 9c ac
  socklab convert 我是文本 -e gbk               ce d2 ca c7 ce c4 b1 be
  socklab convert 'ce d2 ca c7' --from hex --to text -e gbk
  socklab convert 'PING\\r\\n' --to base64
  printf 'hi' | socklab convert - --to hex")]
pub struct ConvertArgs {
    /// The data; '-' reads it from stdin (as UTF-8 text for --from text, escapes not applied)
    #[arg(value_name = "DATA", allow_hyphen_values = true)]
    pub data: String,
    /// What DATA is written as
    #[arg(long, value_enum, default_value = "text")]
    pub from: FormArg,
    /// What to write it as
    #[arg(long, value_enum, default_value = "hex")]
    pub to: FormArg,
    /// The encoding text is read or written in (auto: detect when decoding)
    #[arg(short = 'e', long, value_name = "ENC", default_value = "utf-8", value_parser = parse_encoding)]
    pub encoding: Encoding,
    /// Take backslashes in DATA as they are (by default \r \n \t \0 \\ \xHH are understood)
    #[arg(long)]
    pub no_escapes: bool,
    /// One JSON document on stdout (see the README for the fields)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormArg {
    Text,
    Hex,
    Base64,
}

impl From<FormArg> for Form {
    fn from(f: FormArg) -> Form {
        match f {
            FormArg::Text => Form::Text,
            FormArg::Hex => Form::Hex,
            FormArg::Base64 => Form::Base64,
        }
    }
}

fn parse_encoding(s: &str) -> Result<Encoding, String> {
    Encoding::from_label(s).map_err(|e| e.to_string())
}

pub async fn run(args: ConvertArgs) -> anyhow::Result<ExitCode> {
    let from_stdin = args.data == "-";
    let input = if from_stdin {
        let mut bytes = Vec::new();
        std::io::stdin().lock().read_to_end(&mut bytes)?;
        String::from_utf8(bytes).map_err(|e| {
            UsageError(format!(
                "stdin is not UTF-8 text (byte {} is not valid); expected text, or --from hex / --from base64",
                e.utf8_error().valid_up_to()
            ))
        })?
    } else {
        args.data.clone()
    };
    let req = Request {
        from: args.from.into(),
        to: args.to.into(),
        encoding: args.encoding,
        escapes: !args.no_escapes && !from_stdin,
    };
    let r = convert::convert(&input, &req)?;
    if args.json {
        report::print_json(&r)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = r.output;
    // Text goes out exactly as decoded when piped (a newline would be a byte that was not
    // there); hex and base64 are lines, as xxd -p and base64 print them.
    if req.to != Form::Text || (std::io::stdout().is_terminal() && !out.ends_with('\n')) {
        out.push('\n');
    }
    report::print(&out)?;
    Ok(ExitCode::SUCCESS)
}
