//! `events serve`: the registry over HTTP, so that every `schemaRef.uri` resolves once `base-uri`
//! points at the server. It serves an in-memory copy of the registry as the build sees it (never
//! a file by its path), reloads it when the folder changes, and keeps serving the last good
//! registry when a reload fails its checks.

mod snapshot;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode, Uri};
use events_codegen::Config;
use serde_json::json;

use crate::registry_args::Package;
use crate::tools::{FINDINGS, USAGE};
use snapshot::{Doc, Snapshot};

/// How often the registry folder is looked at for changes.
const POLL: Duration = Duration::from_millis(300);

/// The registry being served, swapped whole on a reload.
type Shared = Arc<RwLock<Arc<Snapshot>>>;

pub fn run(config: Config, package: Package, addr: SocketAddr) -> u8 {
    let first = match snapshot::build(&config, &package) {
        Ok(s) => s,
        Err(e) => {
            eprint!("{e}");
            return FINDINGS;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the server's runtime: {e}");
            return FINDINGS;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {addr}: {e}");
                return USAGE;
            }
        };
        let local = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| addr.to_string());
        eprintln!(
            "events serve: listening on http://{local} ({} versions; schemas under {}, the catalog at /catalog/, AsyncAPI at /asyncapi.json)",
            first.versions, first.base_path
        );
        let shared: Shared = Arc::new(RwLock::new(Arc::new(first)));
        tokio::spawn(reload(config, package, shared.clone()));
        let app = axum::Router::new().fallback(answer).with_state(shared);
        let served = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        });
        match served.await {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: the server stopped: {e}");
                FINDINGS
            }
        }
    })
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
        .header(header::CONTENT_TYPE, "application/vnd.schemaregistry.v1+json")
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

async fn answer(State(shared): State<Shared>, method: Method, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let snapshot = shared.read().unwrap_or_else(|e| e.into_inner()).clone();
    if method != Method::GET && method != Method::HEAD {
        return error(StatusCode::METHOD_NOT_ALLOWED, 405, "HTTP 405 Method Not Allowed");
    }
    let path = uri.path();
    let query = uri.query().unwrap_or("");
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
