//! Payload types through typify, fenced: typify panics on several schema shapes, and a panic or an
//! error here must become a diagnostic, never a crashed build script.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use proc_macro2::TokenStream;
use serde_json::Value;
use typify::{TypeSpace, TypeSpaceSettings};

/// typify recurses once per nesting level; deep but finite schemas need more than a default stack.
const TYPIFY_STACK: usize = 256 << 20;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs typify on a bundled schema whose root becomes the type `payload`, in this process.
/// Returns the generated code as text (token streams cannot cross threads or processes).
pub(crate) fn typify_text(bundled: &Value, payload: &str) -> Result<String, String> {
    let mut schema = bundled.clone();
    draft4_bounds(&mut schema);
    if let Some(map) = schema.as_object_mut() {
        map.insert("title".into(), Value::String(payload.to_string()));
    }
    let root: schemars::schema::RootSchema =
        serde_json::from_value(schema).map_err(|e| format!("unsupported: typify cannot read this schema: {e}"))?;
    let worker = std::thread::Builder::new().name("typify".into()).stack_size(TYPIFY_STACK).spawn(move || {
        quiet_panics();
        QUIET.with(|q| q.set(true));
        panic::catch_unwind(AssertUnwindSafe(move || {
            let mut settings = TypeSpaceSettings::default();
            settings.with_struct_builder(false).with_derive("PartialEq".to_string());
            let mut space = TypeSpace::new(&settings);
            space.add_root_schema(root).map(|_| space.to_stream().to_string())
        }))
    });
    match worker.map_err(|e| format!("cannot start typify: {e}"))?.join() {
        Ok(Ok(Ok(text))) => Ok(text),
        Ok(Ok(Err(e))) => Err(format!("unsupported: typify rejects this schema: {e}")),
        Ok(Err(panic)) | Err(panic) => {
            Err(format!("unsupported: typify cannot handle this schema (it panicked: {})", panic_message(&panic)))
        }
    }
}

/// Rewrites draft 4's boolean `exclusiveMinimum`/`exclusiveMaximum` into the numeric form of
/// later drafts, the only one typify reads. Only typify's copy changes: validation uses the schema
/// as written.
fn draft4_bounds(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (bound, exclusive) in [("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")] {
                if let Some(Value::Bool(flag)) = map.get(exclusive).cloned() {
                    map.remove(exclusive);
                    if flag {
                        if let Some(limit) = map.remove(bound) {
                            map.insert(exclusive.to_string(), limit);
                        }
                    }
                }
            }
            map.values_mut().for_each(draft4_bounds);
        }
        Value::Array(items) => items.iter_mut().for_each(draft4_bounds),
        _ => {}
    }
}

/// Turns typify's text back into tokens and checks what the rest of the generated module relies
/// on: the payload is a type of its own, and no two types (nor the envelope alias) share a name.
pub(crate) fn payload_tokens(text: &str, payload: &str, alias: &str, bundled: &Value) -> Result<TokenStream, String> {
    let tokens = text.parse::<TokenStream>().map_err(|e| format!("typify produced code that does not parse: {e}"))?;
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("typify produced code that does not parse: {e}"))?;
    let mut names = std::collections::BTreeSet::new();
    let mut payload_is_nominal = false;
    for item in &file.items {
        let (ident, nominal) = match item {
            syn::Item::Struct(s) => (&s.ident, true),
            syn::Item::Enum(e) => (&e.ident, true),
            syn::Item::Type(t) => (&t.ident, false),
            _ => continue,
        };
        if super::PRELUDE_NAMES.contains(&ident.to_string().as_str()) {
            return Err(format!("a `title` or definition in this schema names a type `{ident}`, which would shadow Rust's own `{ident}`; rename it"));
        }
        if ident == alias {
            return Err(format!("a `title` or definition in this schema names a type `{alias}`, the name of the event itself; rename it"));
        }
        if !names.insert(ident.to_string()) {
            return Err(format!("two parts of this schema become the Rust type `{ident}` (titles or definition names that differ only in case or punctuation); rename one"));
        }
        payload_is_nominal |= nominal && ident == payload;
    }
    if payload_is_nominal {
        super::sensitive::mask(&mut file, bundled);
        Ok(quote::quote!(#file))
    } else {
        Err("unsupported: typify does not give the payload a type of its own (for instance an empty or `true` schema); describe the payload as an object".into())
    }
}

/// Installs, once, a panic hook that stays silent on typify's threads and defers elsewhere.
fn quiet_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}
