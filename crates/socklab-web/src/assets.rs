//! The page: plain files under `assets/` (HTML, an ES module, CSS, the string catalogue),
//! embedded in release builds and read from the source tree in debug ones (rust-embed's
//! behaviour), so there is no build step and no Node.

use axum::extract::Path;
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "assets/"]
struct Assets;

pub async fn index() -> Response {
    serve("index.html")
}

pub async fn file(Path(path): Path<String>) -> Response {
    serve(&path)
}

fn serve(path: &str) -> Response {
    match Assets::get(path) {
        Some(file) => {
            let mime = file.metadata.mimetype();
            let mut r = file.data.into_owned().into_response();
            if let Ok(v) = HeaderValue::from_str(mime) {
                r.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            r
        }
        None => (
            StatusCode::NOT_FOUND,
            format!("socklab web: no file '{path}' in the page\n"),
        )
            .into_response(),
    }
}

/// The string catalogue, for the test that every key is in every language.
pub fn catalogue() -> Option<Vec<u8>> {
    Assets::get("i18n.json").map(|f| f.data.into_owned())
}

/// Every file of the page, for tests.
pub fn names() -> Vec<String> {
    Assets::iter().map(|n| n.into_owned()).collect()
}

pub fn get(path: &str) -> Option<Vec<u8>> {
    Assets::get(path).map(|f| f.data.into_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;

    fn keys(lang: &Value) -> BTreeSet<String> {
        lang.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Every string the page shows is in both languages, and every key the page names
    /// exists: a label missing in one language fails here, not in front of a user.
    #[test]
    fn every_key_is_in_every_language() {
        let cat: Value =
            serde_json::from_slice(&catalogue().expect("assets/i18n.json")).expect("valid JSON");
        let en = keys(&cat["en"]);
        let zh = keys(&cat["zh"]);
        assert!(!en.is_empty());
        let only_en: Vec<_> = en.difference(&zh).collect();
        let only_zh: Vec<_> = zh.difference(&en).collect();
        assert!(only_en.is_empty(), "missing in zh: {only_en:?}");
        assert!(only_zh.is_empty(), "missing in en: {only_zh:?}");
        for lang in ["en", "zh"] {
            for (k, v) in cat[lang].as_object().into_iter().flatten() {
                assert!(
                    v.as_str().is_some_and(|s| !s.trim().is_empty()),
                    "{lang}.{k} is empty"
                );
            }
        }
        let mut used = BTreeSet::new();
        for file in ["index.html", "app.js", "tools.js"] {
            let text = String::from_utf8(get(file).expect(file)).expect("UTF-8");
            for marker in [
                "data-i18n=\"",
                "data-i18n-title=\"",
                "data-i18n-placeholder=\"",
                "t('",
            ] {
                for (at, _) in text.match_indices(marker) {
                    // `t('` alone, not the end of another name (`getContext('2d')`).
                    let before = text[..at].chars().next_back();
                    if marker == "t('"
                        && before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                    {
                        continue;
                    }
                    let rest = &text[at + marker.len()..];
                    // `t('state.' + s)` names a family of keys, listed below in full.
                    let Some(end) = rest.find(['"', '\'']) else {
                        continue;
                    };
                    let key = &rest[..end];
                    if !key.ends_with('.') {
                        used.insert(key.to_string());
                    }
                }
            }
        }
        for mode in [
            "tcp-client",
            "tcp-server",
            "udp-client",
            "udp-server",
            "tls-client",
            "tls-server",
            "unix-client",
            "unix-server",
        ] {
            used.insert(format!("mode.{mode}"));
        }
        for state in ["idle", "connecting", "connected", "listening", "closed"] {
            used.insert(format!("state.{state}"));
        }
        // tools.js: the waterfall's bars and total, the ping header, the convert forms.
        for phase in [
            "dns", "connect", "tls", "request", "ttfb", "transfer", "total",
        ] {
            used.insert(format!("trace.phase.{phase}"));
        }
        for key in [
            "ping.to.tcp",
            "ping.to.icmp",
            "form.text",
            "form.hex",
            "form.base64",
        ] {
            used.insert(key.to_string());
        }
        let missing: Vec<_> = used.difference(&en).collect();
        assert!(
            missing.is_empty(),
            "used by the page, not in the catalogue: {missing:?}"
        );
    }

    #[test]
    fn the_page_is_all_there() {
        let names = names();
        for f in [
            "index.html",
            "app.js",
            "tools.js",
            "dom.js",
            "chart.js",
            "style.css",
            "i18n.json",
        ] {
            assert!(names.iter().any(|n| n == f), "{f} not in {names:?}");
        }
    }
}
