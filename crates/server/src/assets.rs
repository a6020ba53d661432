//! The web console's files. Release builds embed `ui/dist` in the binary, so
//! `callboard` alone serves the console; debug builds read the folder from
//! disk, so a rebuilt UI shows without recompiling the server.

use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../ui/dist/"]
#[allow_missing = true]
struct Console;

/// Paths that never fall back to the console: their unknown routes answer
/// a JSON 404 for API clients.
pub fn is_api_path(path: &str) -> bool {
    path == "/api"
        || path.starts_with("/api/")
        || path.starts_with("/webhooks/")
        || path == "/webhooks"
        || path == "/healthz"
}

/// A file of the console, or `index.html` for the client-side routes
/// (`/live/sales`, `/masters/providers`, …). `None` for non-GET requests.
pub fn serve(method: &Method, uri: &Uri) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let path = uri.path().trim_start_matches('/');
    if !path.is_empty() {
        if let Some(file) = Console::get(path) {
            let mime = file.metadata.mimetype().to_string();
            // Vite fingerprints everything under assets/: cache it for good.
            let cache = if path.starts_with("assets/") {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            return Some(
                (
                    [
                        (header::CONTENT_TYPE, header_value(&mime)),
                        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
                    ],
                    file.data.into_owned(),
                )
                    .into_response(),
            );
        }
        // A missing asset is a 404, not the page: a stale tab asking for an
        // old bundle must not get HTML back as JavaScript.
        if path.starts_with("assets/") || path.rsplit('/').next().is_some_and(|f| f.contains('.')) {
            return Some((StatusCode::NOT_FOUND, "not found").into_response());
        }
    }
    Some(index())
}

fn index() -> Response {
    match Console::get("index.html") {
        Some(file) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            file.data.into_owned(),
        )
            .into_response(),
        None => Html(concat!(
            "<!doctype html><meta charset=utf-8><title>Callboard</title>",
            "<h1>Callboard receiver</h1><p>The receiver is running, but this build has no web console ",
            "(build it with <code>npm run build</code> in <code>ui/</code>, then rebuild). The API is described at ",
            "<a href=\"/api/openapi.json\">/api/openapi.json</a>.</p>"
        ))
        .into_response(),
    }
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}
