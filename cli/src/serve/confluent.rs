//! The Confluent Schema Registry REST API, read-only, for the `JSON` schema type: what Kafka
//! tooling (serializers, UIs, Connect converters) speaks, answered from the folder.
//!
//! Subjects are the registry's schema ids; a subject's versions are its contract versions'
//! envelope schemas (what a message on the wire is, shared definitions inlined), numbered 1, 2, 3
//! and identified by the ids of `schema-ids.lock`. `<schemaId>-payload` holds the payload schemas
//! as written, whose shared files are `references` (each shared file a subject of its own). Compatibility
//! questions are answered by the registry's own rules. Every write is refused as a read-only
//! Confluent registry does.

use axum::body::Body;
use axum::http::{Method, Response, StatusCode};
use events_codegen::compat::{Direction, Mode};
use serde_json::{json, Value};

use super::snapshot::{ApiVersion, Snapshot};
use super::{error, MEDIA_TYPE};

fn ok(value: Value) -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", MEDIA_TYPE)
        .body(Body::from(value.to_string()))
        .expect("a valid response")
}

fn read_only(subject: Option<&str>) -> Response<Body> {
    let message = match subject {
        Some(s) => format!("Subject {s} is in read-only mode"),
        None => "The registry is in read-only mode: its schemas come from the repository's registry folder".to_string(),
    };
    error(StatusCode::UNPROCESSABLE_ENTITY, 42205, message)
}

fn subject_not_found(s: &str) -> Response<Body> {
    error(StatusCode::NOT_FOUND, 40401, format!("Subject '{s}' not found."))
}

fn method_not_allowed() -> Response<Body> {
    error(StatusCode::METHOD_NOT_ALLOWED, 405, "HTTP 405 Method Not Allowed")
}

/// The query's parameters.
fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').filter_map(|p| p.split_once('=').or(Some((p, "")))).find(|(k, _)| *k == name).map(|(_, v)| v)
}

fn flag(query: &str, name: &str) -> bool {
    param(query, name).is_some_and(|v| v.is_empty() || v == "true")
}

/// A subject's version by `1`, `latest` or `-1`.
fn version<'a>(versions: &[&'a ApiVersion], subject: &str, text: &str) -> Result<&'a ApiVersion, Response<Body>> {
    if text == "latest" || text == "-1" {
        return versions.last().copied().ok_or_else(|| subject_not_found(subject));
    }
    let n: u32 = text.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
        error(
            StatusCode::UNPROCESSABLE_ENTITY,
            42202,
            format!("The specified version '{text}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""),
        )
    })?;
    versions
        .iter()
        .find(|v| v.version == n)
        .copied()
        .ok_or_else(|| error(StatusCode::NOT_FOUND, 40402, format!("Version {n} not found.")))
}

fn full(v: &ApiVersion) -> Value {
    json!({ "subject": v.subject, "version": v.version, "id": v.id, "schemaType": "JSON", "schema": v.text, "references": v.references })
}

/// The subject's mode: the one its newest version sets, when it sets one.
fn subject_mode(versions: &[&ApiVersion]) -> Option<Mode> {
    versions.last().and_then(|v| v.mode)
}

/// A candidate of `POST` requests: `{"schema": "...", "schemaType": "JSON"}`.
fn candidate(body: &[u8]) -> Result<Value, Response<Body>> {
    let request: Value = serde_json::from_slice(body)
        .map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, 42201, format!("Invalid request body: {e}")))?;
    match request.get("schemaType").and_then(Value::as_str) {
        None | Some("JSON") => {}
        Some(other) => {
            return Err(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                42201,
                format!("Invalid schema type {other}: this registry holds JSON schemas only"),
            ))
        }
    }
    let text = request.get("schema").and_then(Value::as_str).ok_or_else(|| {
        error(StatusCode::UNPROCESSABLE_ENTITY, 42201, "Invalid schema: `schema` must be the schema as a JSON string")
    })?;
    serde_json::from_str(text)
        .map_err(|e| error(StatusCode::UNPROCESSABLE_ENTITY, 42201, format!("Invalid schema: {e}")))
}

/// `normalize=true`: member order never matters in parsed JSON; `required` lists compare as sets.
fn normalized(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let x = match (k.as_str(), x) {
                        ("required", Value::Array(items)) => {
                            let mut items = items.clone();
                            items.sort_by_key(|i| i.to_string());
                            Value::Array(items)
                        }
                        _ => normalized(x),
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

/// Answers a path of the API, or `None` when the path is not one of its routes.
pub fn answer(s: &Snapshot, method: &Method, segments: &[String], query: &str, body: &[u8]) -> Option<Response<Body>> {
    let api = &s.api;
    let get = *method == Method::GET || *method == Method::HEAD;
    let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
    let response = match parts.as_slice() {
        [] => match get {
            true => ok(json!({})),
            false => method_not_allowed(),
        },
        ["schemas", "types"] if get => ok(json!(["JSON"])),
        ["schemas"] if get => {
            let prefix = param(query, "subjectPrefix").unwrap_or("");
            let latest_only = flag(query, "latestOnly");
            let mut out = Vec::new();
            for v in api.versions.iter().filter(|v| v.subject.starts_with(prefix)) {
                if latest_only && api.subject(&v.subject).last().map(|l| l.version) != Some(v.version) {
                    continue;
                }
                out.push(full(v));
            }
            ok(Value::Array(out))
        }
        ["schemas", "ids", id, rest @ ..] => {
            let Some(v) = id.parse().ok().and_then(|n: u32| api.by_id(n)) else {
                return Some(error(StatusCode::NOT_FOUND, 40403, format!("Schema {id} not found")));
            };
            match (rest, get) {
                ([], true) => ok(json!({ "schemaType": "JSON", "schema": v.text, "references": v.references })),
                (["schema"], true) => ok(v.schema.clone()),
                (["subjects"], true) => ok(json!([v.subject])),
                (["versions"], true) => ok(json!([{ "subject": v.subject, "version": v.version }])),
                ([] | ["schema"] | ["subjects"] | ["versions"], false) => method_not_allowed(),
                _ => return None,
            }
        }
        ["subjects"] if get => {
            let prefix = param(query, "subjectPrefix").unwrap_or("");
            let mut names: Vec<&str> =
                api.versions.iter().map(|v| v.subject.as_str()).filter(|n| n.starts_with(prefix)).collect();
            names.dedup();
            ok(json!(names))
        }
        ["subjects", subject, rest @ ..] => {
            let versions = api.subject(subject);
            match (rest, method.as_str()) {
                ([], "POST") => {
                    if versions.is_empty() {
                        return Some(subject_not_found(subject));
                    }
                    let candidate = match candidate(body) {
                        Ok(c) => c,
                        Err(e) => return Some(e),
                    };
                    let normalize = flag(query, "normalize");
                    let same = |v: &&&ApiVersion| {
                        if normalize {
                            normalized(&v.schema) == normalized(&candidate)
                        } else {
                            v.schema == candidate
                        }
                    };
                    match versions.iter().find(same) {
                        Some(v) => ok(
                            json!({ "subject": v.subject, "id": v.id, "version": v.version, "schemaType": "JSON", "schema": v.text }),
                        ),
                        None => error(StatusCode::NOT_FOUND, 40403, "Schema not found"),
                    }
                }
                ([], "DELETE") | (["versions"], "POST") | (["versions", _], "DELETE") => read_only(Some(subject)),
                _ if versions.is_empty() => subject_not_found(subject),
                (["versions"], "GET" | "HEAD") => ok(json!(versions.iter().map(|v| v.version).collect::<Vec<_>>())),
                (["versions", v], "GET" | "HEAD") => match version(&versions, subject, v) {
                    Ok(v) => ok(full(v)),
                    Err(e) => e,
                },
                (["versions", v, "schema"], "GET" | "HEAD") => match version(&versions, subject, v) {
                    Ok(v) => ok(v.schema.clone()),
                    Err(e) => e,
                },
                (["versions", v, "referencedby"], "GET" | "HEAD") => match version(&versions, subject, v) {
                    Ok(target) => {
                        let users: Vec<u32> = api
                            .versions
                            .iter()
                            .filter(|u| {
                                u.references
                                    .iter()
                                    .any(|r| r["subject"] == target.subject.as_str() && r["version"] == target.version)
                            })
                            .map(|u| u.id)
                            .collect();
                        ok(json!(users))
                    }
                    Err(e) => e,
                },
                ([] | ["versions"] | ["versions", _] | ["versions", _, "schema" | "referencedby"], _) => {
                    method_not_allowed()
                }
                _ => return None,
            }
        }
        ["compatibility", "subjects", subject, "versions", rest @ ..] => {
            if *method != Method::POST {
                return Some(method_not_allowed());
            }
            let versions = api.subject(subject);
            if versions.is_empty() {
                return Some(subject_not_found(subject));
            }
            let against: Vec<&ApiVersion> = match rest {
                [] => versions.clone(),
                [v] => match version(&versions, subject, v) {
                    Ok(v) => vec![v],
                    Err(e) => return Some(e),
                },
                _ => return None,
            };
            let candidate = match candidate(body) {
                Ok(c) => c,
                Err(e) => return Some(e),
            };
            let mode = subject_mode(&versions).unwrap_or(api.default_mode);
            let mut messages = Vec::new();
            for old in against {
                for (direction, finding) in mode.check(&old.schema, &candidate) {
                    let reading = match direction {
                        Direction::Backward => {
                            format!("the candidate cannot read data written with version {}", old.version)
                        }
                        Direction::Forward => {
                            format!("version {} cannot read data written with the candidate", old.version)
                        }
                    };
                    messages.push(format!(
                        "{mode}: {reading}: {} [{}] at {}",
                        finding.message,
                        finding.rule,
                        if finding.writer.is_empty() { "/" } else { &finding.writer }
                    ));
                }
            }
            let mut out = json!({ "is_compatible": messages.is_empty() });
            if flag(query, "verbose") {
                out["messages"] = json!(messages);
            }
            ok(out)
        }
        ["config"] => match get {
            true => ok(json!({ "compatibilityLevel": api.default_mode.name() })),
            false if *method == Method::PUT || *method == Method::DELETE => read_only(None),
            false => method_not_allowed(),
        },
        ["config", subject] => {
            if !get {
                return Some(if *method == Method::PUT || *method == Method::DELETE {
                    read_only(Some(subject))
                } else {
                    method_not_allowed()
                });
            }
            let versions = api.subject(subject);
            if versions.is_empty() {
                return Some(subject_not_found(subject));
            }
            match subject_mode(&versions) {
                Some(mode) => ok(json!({ "compatibilityLevel": mode.name() })),
                None if flag(query, "defaultToGlobal") => ok(json!({ "compatibilityLevel": api.default_mode.name() })),
                None => error(
                    StatusCode::NOT_FOUND,
                    40408,
                    format!("Subject '{subject}' does not have subject-level compatibility configured"),
                ),
            }
        }
        ["mode"] | ["mode", _] => match get {
            true => ok(json!({ "mode": "READONLY" })),
            false if *method == Method::PUT || *method == Method::DELETE => read_only(parts.get(1).copied()),
            false => method_not_allowed(),
        },
        ["contexts"] if get => ok(json!(["."])),
        ["schemas" | "subjects" | "contexts" | "schemas", ..] if !get => method_not_allowed(),
        _ => return None,
    };
    Some(response)
}
