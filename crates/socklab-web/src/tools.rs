//! The toolbox over the socket: each request calls the same socklab-net function as the
//! CLI command of the same name, and the result is the same report `--json` prints.

use serde::Deserialize;
use serde_json::Value;
use socklab_core::codec::Encoding;
use socklab_net::convert::{self, Form, Request};
use socklab_net::dns::{self, Protocol, Query, RecordType};
use socklab_net::ports::Catalog;
use socklab_net::{ifaces, subnet};

/// Run the tool `name` with the request's other fields as its arguments.
pub async fn run(name: &str, args: Value) -> Result<Value, String> {
    match name {
        "subnet" => {
            let a: SubnetArgs = parse(args)?;
            let words: Vec<&str> = a.input.split_whitespace().collect();
            let query = subnet::parse_args(&words).map_err(|e| e.to_string())?;
            report(&subnet::calculate(&query))
        }
        "ports" => {
            let a: PortsArgs = parse(args)?;
            let catalog = Catalog::system();
            let found = match a.query.as_deref().map(str::trim) {
                None | Some("") => catalog.builtin_services(),
                Some(q) => catalog.lookup(q).map_err(|e| e.to_string())?,
            };
            report(&found)
        }
        "ifaces" => {
            let a: IfacesArgs = parse(args)?;
            let name = a.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
            report(&ifaces::list(name).map_err(|e| e.to_string())?)
        }
        "convert" => {
            let a: ConvertArgs = parse(args)?;
            let req = Request {
                from: a.from,
                to: a.to,
                encoding: Encoding::from_label(a.encoding.as_deref().unwrap_or("utf-8"))
                    .map_err(|e| e.to_string())?,
                escapes: a.escapes,
            };
            report(&convert::convert(&a.data, &req).map_err(|e| e.to_string())?)
        }
        "dns" => {
            let a: DnsArgs = parse(args)?;
            let mut query =
                Query::new(dns::Target::parse(a.name.trim()).map_err(|e| e.to_string())?);
            for t in a.types.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
                query
                    .types
                    .push(RecordType::parse(t).map_err(|e| e.to_string())?);
            }
            query.server = a
                .server
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(dns::parse_server)
                .transpose()
                .map_err(|e| e.to_string())?;
            if a.tcp {
                query.protocol = Protocol::Tcp;
            }
            report(&dns::lookup(&query).await.map_err(|e| e.to_string())?)
        }
        other => Err(format!(
            "no tool '{other}'; expected subnet, ports, ifaces, convert or dns"
        )),
    }
}

fn parse<T: for<'de> Deserialize<'de>>(args: Value) -> Result<T, String> {
    serde_json::from_value(args).map_err(|e| format!("bad arguments: {e}"))
}

fn report<T: serde::Serialize>(r: &T) -> Result<Value, String> {
    serde_json::to_value(r).map_err(|e| e.to_string())
}

/// `socklab subnet` takes its words as arguments; the form has one text field.
#[derive(Deserialize)]
struct SubnetArgs {
    input: String,
}

#[derive(Deserialize)]
struct PortsArgs {
    #[serde(default)]
    query: Option<String>,
}

#[derive(Deserialize)]
struct IfacesArgs {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct ConvertArgs {
    data: String,
    #[serde(default = "text")]
    from: Form,
    #[serde(default = "hex")]
    to: Form,
    #[serde(default)]
    encoding: Option<String>,
    #[serde(default = "yes")]
    escapes: bool,
}

fn text() -> Form {
    Form::Text
}
fn hex() -> Form {
    Form::Hex
}
fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct DnsArgs {
    name: String,
    #[serde(default)]
    types: Vec<String>,
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    tcp: bool,
}
