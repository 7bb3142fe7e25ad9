//! `events serve`: the registry over HTTP, so that every `schemaRef.uri` resolves once `base-uri`
//! points at the server. It serves an in-memory copy of the registry as the build sees it (never
//! a file by its path), reloads it when the folder changes, and keeps serving the last good
//! registry when a reload fails its checks.

mod confluent;
mod snapshot;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use events_codegen::Config;
use serde_json::json;

use crate::failure::{Failure, FailureKind, Outcome};
use crate::registry_args::Package;
use snapshot::{Doc, Snapshot};

/// How often the registry folder is looked at for changes.
const POLL: Duration = Duration::from_millis(300);

/// The registry being served, swapped whole on a reload.
type Shared = Arc<RwLock<Arc<Snapshot>>>;

/// The media type of the Confluent API's answers and errors.
pub const MEDIA_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// The largest request body taken: a schema of a megabyte is far beyond any contract's.
pub const BODY_LIMIT: usize = 1 << 20;

/// How long a client may take: to send its request's headers, and then its body.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
}

#[derive(Clone)]
struct App {
    shared: Shared,
    limits: Limits,
}

pub fn run(config: Config, package: Package, addr: SocketAddr, limits: Limits) -> Result<Outcome, Failure> {
    let first = snapshot::build(&config, &package).map_err(|e| Failure::new(FailureKind::Registry, e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::caused(FailureKind::Io, "cannot start the server's runtime", e))?;
    runtime.block_on(async move {
        // An address in use or not ours to take is the caller's to change, as a bad flag is.
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Failure::caused(FailureKind::Usage, format!("cannot listen on {addr}"), e))?;
        let local = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| addr.to_string());
        eprintln!(
            "events serve: listening on http://{local} ({} versions; schemas under {}, the catalog at /catalog/, AsyncAPI at /asyncapi.json)",
            first.versions, first.base_path
        );
        if !first.api.recorded {
            eprintln!("events serve: the registry records no schema ids (schema-ids.lock); the API numbers versions by position until `events ids`");
        }
        let shared: Shared = Arc::new(RwLock::new(Arc::new(first)));
        tokio::spawn(reload(config, package, shared.clone()));
        let app = axum::Router::new().fallback(answer).with_state(App { shared, limits });
        serve(listener, app, limits).await;
        Ok(Outcome::Clean)
    })
}

/// Accepts connections until interrupted. Each connection gets hyper's header timeout (which
/// `axum::serve` does not set): a client that never finishes its headers is dropped.
async fn serve(listener: tokio::net::TcpListener, app: axum::Router, limits: Limits) {
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stop => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let _ = connection.await;
        });
    }
}

/// Watches the registry folder; a changed folder is loaded and checked again, and replaces what
/// is served only when it passes.
async fn reload(config: Config, package: Package, shared: Shared) {
    let dir = config.registry_dir().to_path_buf();
    let mut last = fingerprint(&dir);
    loop {
        tokio::time::sleep(POLL).await;
        let dir2 = dir.clone();
        let now = tokio::task::spawn_blocking(move || fingerprint(&dir2)).await.unwrap_or_default();
        if now == last {
            continue;
        }
        last = now;
        let (c, p) = (config.clone(), package.clone());
        match tokio::task::spawn_blocking(move || snapshot::build(&c, &p)).await {
            Ok(Ok(s)) => {
                eprintln!("events serve: reloaded the registry ({} versions)", s.versions);
                *shared.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(s);
            }
            Ok(Err(e)) => {
                eprint!("events serve: the changed registry fails its checks; still serving the last good one:\n{e}")
            }
            Err(e) => eprintln!("events serve: the reload failed: {e}"),
        }
    }
}

/// Every file under `dir` with its size and modification time: what a change changes.
fn fingerprint(dir: &Path) -> Vec<(PathBuf, u64, SystemTime)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, u64, SystemTime)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                walk(&path, out);
            } else {
                out.push((path, meta.len(), meta.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// The Confluent Schema Registry's error shape, used for every error.
pub fn error(status: StatusCode, code: u32, message: impl Into<String>) -> Response<Body> {
    let body = json!({ "error_code": code, "message": message.into() }).to_string();
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, MEDIA_TYPE)
        .body(Body::from(body))
        .expect("a valid response")
}

fn send(doc: &Doc, headers: &HeaderMap, immutable: bool) -> Response<Body> {
    let cache = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == doc.etag || t.trim() == "*"));
    let builder = Response::builder()
        .header(header::ETAG, HeaderValue::from_str(&doc.etag).expect("an ETag is ASCII"))
        .header(header::CACHE_CONTROL, cache);
    if matches {
        return builder.status(StatusCode::NOT_MODIFIED).body(Body::empty()).expect("a valid response");
    }
    builder
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, doc.content_type)
        .body(Body::from(doc.body.clone()))
        .expect("a valid response")
}

/// Request bodies the API reads are JSON, in one of the media types Confluent accepts.
fn acceptable(headers: &HeaderMap) -> bool {
    match headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(v) => {
            let media = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            matches!(
                media.as_str(),
                "application/vnd.schemaregistry.v1+json"
                    | "application/vnd.schemaregistry+json"
                    | "application/json"
                    | "application/octet-stream"
            )
        }
    }
}

/// `%2e%2e` and the like, decoded per path segment: a segment is a name, never a path.
fn decode_segment(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn answer(State(app): State<App>, request: axum::extract::Request) -> Response<Body> {
    let snapshot = app.shared.read().unwrap_or_else(|e| e.into_inner()).clone();
    let (parts, body) = request.into_parts();
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    let reads_body = method == Method::POST || method == Method::PUT;
    if reads_body && !acceptable(&headers) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            415,
            "HTTP 415 Unsupported Media Type: send application/vnd.schemaregistry.v1+json or application/json",
        );
    }
    let body = if reads_body {
        match tokio::time::timeout(app.limits.body_timeout, axum::body::to_bytes(body, BODY_LIMIT)).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(_)) => {
                return error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    413,
                    format!("HTTP 413 Payload Too Large: the limit is {BODY_LIMIT} bytes"),
                )
            }
            Err(_) => {
                return error(
                    StatusCode::REQUEST_TIMEOUT,
                    408,
                    "HTTP 408 Request Timeout: the body did not arrive in time",
                )
            }
        }
    } else {
        axum::body::Bytes::new()
    };
    let path = uri.path();
    let query = uri.query().unwrap_or("");
    let segments: Option<Vec<String>> = path.split('/').filter(|s| !s.is_empty()).map(decode_segment).collect();
    let Some(segments) = segments else {
        return error(StatusCode::NOT_FOUND, 404, "HTTP 404 Not Found");
    };
    if let Some(response) = confluent::answer(&snapshot, &method, &segments, query, &body) {
        return response;
    }
    if method != Method::GET && method != Method::HEAD {
        return error(StatusCode::METHOD_NOT_ALLOWED, 405, "HTTP 405 Method Not Allowed");
    }
    if path == "/catalog" {
        return Response::builder()
            .status(StatusCode::PERMANENT_REDIRECT)
            .header(header::LOCATION, "/catalog/")
            .body(Body::empty())
            .expect("a valid response");
    }
    if let Some(file) = path.strip_prefix("/catalog/") {
        let file = if file.is_empty() { "index.html" } else { file };
        return match snapshot.catalog.get(file) {
            Some(doc) => send(doc, &headers, false),
            None => error(StatusCode::NOT_FOUND, 404, format!("No catalog page {file}.")),
        };
    }
    if path == "/asyncapi.json" {
        return send(&snapshot.asyncapi, &headers, false);
    }
    let rest = if snapshot.base_path == "/" {
        path.strip_prefix('/')
    } else {
        path.strip_prefix(snapshot.base_path.as_str()).and_then(|r| r.strip_prefix('/'))
    };
    if let Some(rest) = rest {
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            [id] if !id.is_empty() => {
                if let Some(doc) = snapshot.subjects.get(*id) {
                    return send(doc, &headers, false);
                }
                return error(StatusCode::NOT_FOUND, 40401, format!("Schema id '{id}' not found."));
            }
            [id, version] => {
                let key = (id.to_string(), version.to_string());
                let envelope = query.split('&').any(|p| p == "envelope" || p.starts_with("envelope="));
                let found = if envelope { snapshot.envelopes.get(&key) } else { snapshot.schemas.get(&key) };
                return match found {
                    Some(doc) => send(doc, &headers, true),
                    None if snapshot.subjects.contains_key(*id) => {
                        error(StatusCode::NOT_FOUND, 40402, format!("Version {version} of schema id '{id}' not found."))
                    }
                    None => error(StatusCode::NOT_FOUND, 40401, format!("Schema id '{id}' not found.")),
                };
            }
            _ => {}
        }
    }
    error(StatusCode::NOT_FOUND, 404, "HTTP 404 Not Found")
}
