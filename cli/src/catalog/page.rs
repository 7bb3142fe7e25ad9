//! The catalog's pages, as HTML text: every value from the registry escaped.

use std::collections::BTreeSet;
use std::fmt::Write;

use events_codegen::compat::{Report, Verdict};
use events_codegen::registry::SchemaFile;
use events_codegen::Inspection;
use serde_json::Value;

use super::{diff, fields, Contract, Field};
use crate::example::{self, Ids, InOrder};
use crate::registry_args::Package;

/// Text as HTML.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn head(title: &str, root: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<link rel=\"stylesheet\" href=\"{root}catalog.css\">\n</head>\n<body>\n",
        esc(title)
    )
}

fn foot(root: &str) -> String {
    format!("<script src=\"{root}catalog.js\"></script>\n</body>\n</html>\n")
}

fn options(id: &str, label: &str, values: &BTreeSet<String>) -> String {
    let mut out =
        format!("<select id=\"filter-{id}\" aria-label=\"{}\"><option value=\"\">{}</option>", esc(label), esc(label));
    for v in values {
        let _ = write!(out, "<option value=\"{}\">{}</option>", esc(v), esc(v));
    }
    out.push_str("</select>");
    out
}

pub fn index(registry: &Inspection, contracts: &[Contract<'_>], package: &Package) -> String {
    let mut kinds = BTreeSet::new();
    let mut types = BTreeSet::new();
    let mut sources = BTreeSet::new();
    let mut tags = BTreeSet::new();
    let mut items = String::new();
    for c in contracts {
        let newest = c.newest();
        let (kind, event_type) = c.kind();
        kinds.insert(kind.to_string());
        if let Some(t) = event_type {
            types.insert(t.to_string());
        }
        let source = newest.contract.source.clone().unwrap_or_default();
        if !source.is_empty() {
            sources.insert(source.clone());
        }
        tags.extend(newest.contract.tags.iter().cloned());
        let fields = registry.bundled(newest).map(fields).unwrap_or_default();
        let description = newest.contract.description.clone().unwrap_or_default();
        let search: Vec<String> = std::iter::once(c.name.to_string())
            .chain([description.clone(), source.clone(), kind.to_string(), event_type.unwrap_or("").to_string()])
            .chain(newest.contract.tags.iter().cloned())
            .chain(fields.iter().map(|f| f.path.clone()))
            .chain(fields.iter().filter_map(|f| f.description.clone()))
            .collect();
        let versions: Vec<String> = c.versions.iter().map(|f| f.schema_ref.version.to_string()).collect();
        let from = match (source.is_empty(), registry.registry().publishers(newest)) {
            (false, _) => format!("from {source}"),
            (true, senders) if !senders.is_empty() => format!("sent by {}", senders.join(", ")),
            _ => "sent by nobody yet".to_string(),
        };
        let _ = write!(
            items,
            "<li class=\"contract\" data-name=\"{name}\" data-kind=\"{kind}\" data-type=\"{ty}\" data-source=\"{src}\" data-tag=\"{tag}\" data-search=\"{search}\">\n<h2><a href=\"contracts/{name}.html\">{name}</a>{dep}</h2>\n<div class=\"meta\">{kind_text} · {src_text} · version{s} {versions}</div>\n<p>{description}</p>\n<div>{tags}</div>\n<div class=\"meta\">fields: {fields}</div>\n</li>\n",
            name = esc(c.name),
            kind = esc(kind),
            ty = esc(event_type.unwrap_or("")),
            src = esc(&source),
            tag = esc(&newest.contract.tags.join(" ")),
            search = esc(&search.join(" ").to_lowercase()),
            dep = if newest.contract.deprecated.is_some() { " <span class=\"badge deprecated\">deprecated</span>" } else { "" },
            kind_text = esc(&event_type.map(|t| format!("{t} event")).unwrap_or_else(|| "command".into())),
            src_text = esc(&from),
            s = if versions.len() == 1 { "" } else { "s" },
            versions = esc(&versions.join(", ")),
            description = esc(&description),
            tags = newest.contract.tags.iter().map(|t| format!("<span class=\"tag\">{}</span>", esc(t))).collect::<String>(),
            fields = esc(&fields.iter().map(|f| f.path.as_str()).collect::<Vec<_>>().join(", ")),
        );
    }
    let title = format!("{} event registry", package.name);
    let mut out = head(&title, "");
    let _ = write!(
        out,
        "<header>\n<h1>{}</h1>\n<p>{} contracts. Search by name, description, tag or field; filter by kind, event type, source and tag.</p>\n</header>\n<main>\n<div class=\"controls\">\n<input id=\"search\" type=\"search\" placeholder=\"Search contracts, fields, tags…\" aria-label=\"Search\">\n{}{}{}{}\n<span id=\"count\"></span>\n</div>\n<ul id=\"contracts\">\n{items}</ul>\n</main>\n",
        esc(&title),
        contracts.len(),
        options("kind", "every kind", &kinds),
        options("type", "every event type", &types),
        options("source", "every source", &sources),
        options("tag", "every tag", &tags),
    );
    out.push_str(&foot(""));
    out
}

pub fn contract(
    registry: &Inspection,
    report: &Report,
    c: &Contract<'_>,
    related: &[&Contract<'_>],
    package: &Package,
) -> String {
    let newest = c.newest();
    let (kind, event_type) = c.kind();
    let mut out = head(&format!("{} · {} event registry", c.name, package.name), "../");
    let _ = write!(
        out,
        "<header>\n<nav class=\"crumbs\"><a href=\"../index.html\">← all contracts</a></nav>\n<h1>{}</h1>\n<p>{} · subject <code>{}</code></p>\n</header>\n<main>\n",
        esc(c.name),
        esc(&event_type.map(|t| format!("{t} event from {}", newest.contract.source.as_deref().unwrap_or("?"))).unwrap_or_else(|| kind.to_string())),
        esc(&newest.schema_ref.id),
    );
    let _ = write!(out, "<p><label>Version <select id=\"version\">");
    for f in c.versions.iter().rev() {
        let v = f.schema_ref.version.to_string();
        let selected = if std::ptr::eq(*f, newest) { " selected" } else { "" };
        let _ = write!(out, "<option value=\"{v}\"{selected}>{v}</option>", v = esc(&v));
    }
    out.push_str("</select></label></p>\n");
    if !related.is_empty() {
        out.push_str("<p>Related contracts (the same subject family): ");
        let links: Vec<String> = related
            .iter()
            .map(|r| {
                format!(
                    "<a href=\"{n}.html\">{n}</a> <span class=\"meta\">({})</span>",
                    esc(r.kind().0),
                    n = esc(r.name)
                )
            })
            .collect();
        out.push_str(&links.join(", "));
        out.push_str("</p>\n");
    }
    for (i, f) in c.versions.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| c.versions[p]);
        out.push_str(&version(registry, report, f, previous, std::ptr::eq(*f, newest)));
    }
    out.push_str("</main>\n");
    out.push_str(&foot("../"));
    out
}

fn version(
    registry: &Inspection,
    report: &Report,
    f: &SchemaFile,
    previous: Option<&SchemaFile>,
    newest: bool,
) -> String {
    let v = f.schema_ref.version.to_string();
    let hidden = if newest { "" } else { " hidden" };
    let mut out =
        format!("<section class=\"version\" data-version=\"{}\"{hidden}>\n<h2>Version {}</h2>\n", esc(&v), esc(&v));
    if let Some(d) = &f.contract.deprecated {
        let _ = write!(
            out,
            "<div class=\"notice\" id=\"deprecation\"><strong>Deprecated.</strong> {}</div>\n",
            esc(&d.describe())
        );
    }
    if let Some(d) = &f.contract.description {
        let _ = write!(out, "<p class=\"description\">{}</p>\n", esc(d));
    }
    let _ = write!(
        out,
        "<p class=\"meta\">schemaRef <code>{}</code> · file <code>{}</code> · tags {}</p>\n",
        esc(&f.schema_ref.uri),
        esc(&f.display),
        esc(&if f.contract.tags.is_empty() { "none".to_string() } else { f.contract.tags.join(", ") }),
    );
    let registry_model = registry.registry();
    let _ = write!(
        out,
        "<p class=\"meta\">published by {} · read by {}</p>\n",
        esc(&names(registry_model.publishers(f))),
        esc(&names(registry_model.consumers(f))),
    );
    let payload_fields = registry.bundled(f).map(fields).unwrap_or_default();
    out.push_str("<h3>Payload fields</h3>\n");
    out.push_str(&field_table("payload-fields", &payload_fields));
    out.push_str("<h3>Envelope fields</h3>\n");
    out.push_str(&envelope_table(registry.envelope_schema(f).as_ref()));
    out.push_str("<h3>Example event</h3>\n");
    match example::example(registry, f, Ids::Fixed) {
        Ok((e, _)) => {
            let _ = write!(out, "<pre class=\"example\">{}</pre>\n", esc(&serde_json::to_string_pretty(&InOrder(&e)).expect("JSON")));
        }
        Err(_) => out.push_str("<p class=\"example\">No valid example can be made from this schema; add one to its <code>examples</code>.</p>\n"),
    }
    if let Some(p) = previous {
        out.push_str(&changes(registry, report, p, f, &payload_fields));
    }
    let _ = write!(out, "<h3>The schema as written</h3>\n<pre class=\"schema\">{}</pre>\n", esc(f.source.trim_end()));
    if let Some(envelope) = registry.envelope_schema(f) {
        let _ = write!(
            out,
            "<h3>The envelope schema (the whole message)</h3>\n<pre class=\"envelope-schema\">{}</pre>\n",
            esc(&serde_json::to_string_pretty(&envelope).expect("JSON"))
        );
    }
    out.push_str("</section>\n");
    out
}

fn names(list: Vec<String>) -> String {
    if list.is_empty() {
        "nobody but the operators".into()
    } else {
        list.join(", ")
    }
}

fn field_table(id: &str, fields: &[Field]) -> String {
    if fields.is_empty() {
        return "<p>No named fields.</p>\n".into();
    }
    let mut out = format!("<table id=\"{id}\">\n<tr><th>field</th><th>type</th><th>required</th><th>constraints</th><th>default</th><th>description</th></tr>\n");
    for f in fields {
        let _ = write!(
            out,
            "<tr data-path=\"{p}\"><td><code>{p}</code>{s}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&f.kind),
            if f.required { "yes" } else { "no" },
            esc(&f.constraints.join("; ")),
            f.default.as_deref().map(|d| format!("<code>{}</code>", esc(d))).unwrap_or_default(),
            esc(f.description.as_deref().unwrap_or("")),
            p = esc(&f.path),
            s = if f.sensitive { " <span class=\"sensitive\" title=\"masked in logs\">sensitive</span>" } else { "" },
        );
    }
    out.push_str("</table>\n");
    out
}

fn envelope_table(schema: Option<&Value>) -> String {
    let Some(schema) = schema else { return String::new() };
    let required: Vec<&str> = schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let mut out = String::from("<table class=\"envelope\">\n<tr><th>field</th><th>required</th><th>value</th></tr>\n");
    for (name, s) in schema["properties"].as_object().into_iter().flatten() {
        if name == "payload" {
            continue;
        }
        // `anyOf [null, x]` marks an optional field; describe x.
        let inner = s.get("anyOf").and_then(|a| a.get(1)).unwrap_or(s);
        let value = if let Some(c) = inner
            .get("const")
            .or_else(|| inner.get("enum").filter(|e| e.as_array().is_some_and(|a| a.len() == 1)).map(|e| &e[0]))
        {
            format!("always <code>{}</code>", esc(&c.to_string()))
        } else if inner.get("pattern").and_then(Value::as_str).is_some_and(|p| p.contains("[0-9a-fA-F]{8}")) {
            "a UUID".into()
        } else if let Some(values) = inner.get("enum").and_then(Value::as_array) {
            format!("one of {}", esc(&values.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")))
        } else if name == "schemaRef" {
            format!(
                "<code>{}</code>",
                esc(&format!(
                    "{{\"id\": {}, \"version\": {}, \"uri\": {}}}",
                    fixed(&inner["properties"]["id"]),
                    fixed(&inner["properties"]["version"]),
                    fixed(&inner["properties"]["uri"])
                ))
            )
        } else {
            esc(inner
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_else(|| inner.get("type").and_then(Value::as_str).unwrap_or("")))
        };
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{value}</td></tr>\n",
            esc(name),
            if required.contains(&name.as_str()) { "yes" } else { "no" }
        );
    }
    out.push_str("</table>\n");
    out
}

fn fixed(s: &Value) -> String {
    s.get("const").or_else(|| s.get("enum").map(|e| &e[0])).map(Value::to_string).unwrap_or_default()
}

fn changes(registry: &Inspection, report: &Report, previous: &SchemaFile, f: &SchemaFile, now: &[Field]) -> String {
    let before = registry.bundled(previous).map(fields).unwrap_or_default();
    let d = diff(&before, now);
    let mut out =
        format!("<h3>Changes from {}</h3>\n<div class=\"changes\">\n", esc(&previous.schema_ref.version.to_string()));
    let list = |title: &str, class: &str, items: Vec<String>| {
        if items.is_empty() {
            String::new()
        } else {
            format!(
                "<p>{title}:</p><ul class=\"{class}\">{}</ul>\n",
                items.iter().map(|i| format!("<li>{i}</li>")).collect::<String>()
            )
        }
    };
    out.push_str(&list("Fields added", "added", d.added.iter().map(|p| format!("<code>{}</code>", esc(p))).collect()));
    out.push_str(&list(
        "Fields removed",
        "removed",
        d.removed.iter().map(|p| format!("<code>{}</code>", esc(p))).collect(),
    ));
    out.push_str(&list(
        "Fields changed",
        "changed",
        d.changed.iter().map(|(p, w)| format!("<code>{}</code>: {}", esc(p), esc(w))).collect(),
    ));
    if d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty() {
        out.push_str("<p>No field changed.</p>\n");
    }
    let pair = report.subjects.iter().find(|s| s.id == f.schema_ref.id).and_then(|s| {
        s.pairs.iter().find(|p| p.older == previous.schema_ref.version && p.newer == f.schema_ref.version)
    });
    match pair {
        Some(p) => {
            let (class, verdict) = match p.verdict {
                Verdict::Compatible => ("verdict-ok", format!("compatible under {}", p.mode)),
                Verdict::Incompatible => ("verdict-bad", format!("incompatible under {}", p.mode)),
                Verdict::BreakAllowed => ("verdict-bad", format!("breaks {} (allowed: a major version)", p.mode)),
            };
            let _ = write!(out, "<p>Compatibility: <span class=\"verdict {class}\">{}</span></p>\n", esc(&verdict));
            if !p.incompatibilities.is_empty() {
                out.push_str("<ul class=\"reasons\">");
                for i in &p.incompatibilities {
                    let _ = write!(out, "<li>{}</li>", esc(&i.diagnostic.message));
                }
                out.push_str("</ul>\n");
            }
        }
        None => out.push_str("<p>Compatibility: <span class=\"verdict\">not compared (mode NONE)</span></p>\n"),
    }
    out.push_str("</div>\n");
    out
}
