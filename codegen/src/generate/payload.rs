//! Payload types through typify, fenced: typify panics on several schema shapes, and a panic or an
//! error here must become a diagnostic, never a crashed build script.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use proc_macro2::TokenStream;
use quote::ToTokens;
use serde_json::Value;
use typify::{TypeSpace, TypeSpaceSettings};

use super::NoType::{self, Refused, Unsupported};
use crate::ident::PRELUDE_NAMES;

/// typify recurses once per nesting level; deep but finite schemas need more than a default stack.
const TYPIFY_STACK: usize = 256 << 20;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs typify on a bundled schema whose root becomes the type `payload`, in this process.
/// Returns the generated code as text (token streams cannot cross threads or processes).
pub(crate) fn typify_text(bundled: &Value, payload: &str) -> super::Typified {
    let mut schema = bundled.clone();
    draft4_bounds(&mut schema);
    super::exact::strip(&mut schema);
    if let Some(map) = schema.as_object_mut() {
        map.insert("title".into(), Value::String(payload.to_string()));
    }
    let root: schemars::schema::RootSchema =
        serde_json::from_value(schema).map_err(|e| Unsupported(format!("typify cannot read this schema: {e}")))?;
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
    match worker.map_err(|e| Refused(format!("cannot start typify: {e}")))?.join() {
        Ok(Ok(Ok(text))) => Ok(text),
        Ok(Ok(Err(e))) => Err(Unsupported(format!("typify rejects this schema: {e}"))),
        Ok(Err(panic)) | Err(panic) => {
            Err(Unsupported(format!("typify cannot handle this schema (it panicked: {})", panic_message(&panic))))
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
pub(crate) fn payload_tokens(text: &str, payload: &str, alias: &str, bundled: &Value) -> Result<syn::File, NoType> {
    let unparsed = |e: &dyn std::fmt::Display| Refused(format!("typify produced code that does not parse: {e}"));
    let tokens = text.parse::<TokenStream>().map_err(|e| unparsed(&e))?;
    let mut file: syn::File = syn::parse2(tokens).map_err(|e| unparsed(&e))?;
    let mut names = std::collections::BTreeSet::new();
    let mut payload_is_nominal = false;
    for item in &file.items {
        let (ident, nominal) = match item {
            syn::Item::Struct(s) => (&s.ident, true),
            syn::Item::Enum(e) => (&e.ident, true),
            syn::Item::Type(t) => (&t.ident, false),
            _ => continue,
        };
        if PRELUDE_NAMES.contains(&ident.to_string().as_str()) {
            return Err(Refused(format!("a `title` or definition in this schema names a type `{ident}`, which would shadow Rust's own `{ident}`; rename it")));
        }
        if ident == alias {
            return Err(Refused(format!("a `title` or definition in this schema names a type `{alias}`, the name of the event itself; rename it")));
        }
        if !names.insert(ident.to_string()) {
            return Err(Refused(format!("two parts of this schema become the Rust type `{ident}` (titles or definition names that differ only in case or punctuation); rename one")));
        }
        payload_is_nominal |= nominal && ident == payload;
    }
    if payload_is_nominal {
        complete(&mut file)?;
        super::plain::shared_support(&mut file);
        super::sensitive::mask(&mut file, bundled);
        super::plain::integral_numbers(&mut file);
        Ok(file)
    } else {
        Err(Unsupported("typify does not give the payload a type of its own (for instance an empty or `true` schema); describe the payload as an object".into()))
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

/// Makes typify's types hold what the schema allows and nothing else: an open object keeps the
/// properties it does not name; two properties typify names alike, or a doc comment rustc would
/// refuse, are dealt with here rather than in a failed build.
fn complete(file: &mut syn::File) -> Result<(), NoType> {
    use syn::visit_mut::VisitMut;

    struct Docs;
    impl VisitMut for Docs {
        fn visit_attribute_mut(&mut self, attr: &mut syn::Attribute) {
            // A carriage return in a schema string would end up as a bare CR in a doc comment.
            if let syn::Meta::NameValue(nv) = &mut attr.meta {
                if let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = &mut nv.value {
                    if s.value().contains('\r') {
                        *s = syn::LitStr::new(&s.value().replace('\r', ""), s.span());
                    }
                }
            }
        }
    }
    Docs.visit_file_mut(file);
    for item in &mut file.items {
        let syn::Item::Struct(s) = item else { continue };
        let syn::Fields::Named(fields) = &mut s.fields else { continue };
        let mut names = std::collections::BTreeSet::new();
        for f in &fields.named {
            let name = f.ident.as_ref().map(|i| i.to_string()).unwrap_or_default();
            if !names.insert(name.clone()) {
                return Err(Unsupported(format!(
                    "typify gives two properties of `{}` the same Rust field `{name}`",
                    s.ident
                )));
            }
        }
        // An optional array or map: typify leaves an empty one out when encoding, so one that came
        // empty would vanish. As an `Option`, absent and empty stay apart.
        for f in fields.named.iter_mut() {
            let mut emptied = false;
            for a in f.attrs.iter_mut().filter(|a| a.path().is_ident("serde")) {
                let text = a.to_token_stream().to_string();
                if let Some(start) = text.find("skip_serializing_if") {
                    let value_end = text[start..].find("is_empty\"").map(|e| start + e + "is_empty\"".len());
                    if let Some(end) = value_end {
                        let replaced = format!(
                            "{}skip_serializing_if = \"::std::option::Option::is_none\"{}",
                            &text[..start],
                            &text[end..]
                        );
                        if let Ok(attr) = syn::parse_str::<syn::DeriveInput>(&format!("{replaced} struct X;")) {
                            *a = attr.attrs.into_iter().next().expect("one attribute");
                            emptied = true;
                        }
                    }
                }
            }
            if emptied {
                let ty = f.ty.clone();
                f.ty = syn::parse_quote!(::std::option::Option<#ty>);
            }
        }
        // An optional property: `null` must stay apart from absent (kept when the property is JSON,
        // refused otherwise, as the schema does). typify marks optional ones as skipped when `None`.
        for f in fields.named.iter_mut() {
            let serde = |a: &syn::Attribute| a.path().is_ident("serde").then(|| a.meta.to_token_stream().to_string());
            let optional = f.attrs.iter().filter_map(serde).any(|t| t.contains("Option::is_none"));
            if optional {
                let has_default = f.attrs.iter().filter_map(serde).any(|t| t.contains("default"));
                f.attrs.push(if has_default {
                    syn::parse_quote!(#[serde(deserialize_with = "crate::deserialize_present")])
                } else {
                    syn::parse_quote!(#[serde(default, deserialize_with = "crate::deserialize_present")])
                });
            }
        }
        let closed = s.attrs.iter().any(|a| {
            a.path().is_ident("serde") && a.meta.to_token_stream().to_string().contains("deny_unknown_fields")
        });
        let flattened = fields.named.iter().any(|f| {
            f.attrs
                .iter()
                .any(|a| a.path().is_ident("serde") && a.meta.to_token_stream().to_string().contains("flatten"))
        });
        if closed || flattened {
            continue;
        }
        // An open object: what it does not name is kept, so that it encodes back unchanged.
        let mut extra = String::from("additional_properties");
        while names.contains(&extra) {
            extra.insert(0, '_');
        }
        let extra = quote::format_ident!("{extra}");
        let field: syn::FieldsNamed = syn::parse_quote!({
            /// The properties the schema does not name, kept as they came.
            #[serde(flatten)]
            pub #extra: ::serde_json::Map<::std::string::String, ::serde_json::Value>
        });
        fields.named.extend(field.named);
    }
    Ok(())
}
