//! Generate: payload types with typify, then the glue that ties each payload to the runtime
//! envelope, then the registry-wide decoders.

mod access;
mod contract;
mod dispatch;
mod exact;
mod fallback;
pub mod isolate;
mod order;
mod payload;
mod plain;
mod sensitive;
mod shared;
mod upcast;
mod validate;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use std::collections::BTreeMap;

use crate::bundle::Origin;
use crate::error::Diagnostic;
use crate::ident::{module_name, payload_name};
use crate::registry::{Registry, SchemaFile};

pub(crate) use shared::SharedTypes;

/// What generating one schema module learns for the next ones: the shared types found so far,
/// and the files' key orders, read once.
#[derive(Default)]
pub(crate) struct Seen {
    pub(crate) shared: SharedTypes,
    orders: order::KeyOrders,
}

/// Generated tokens, one unit per schema version plus the registry-wide decoders.
#[derive(Debug, Clone)]
pub struct Generated {
    pub(crate) subjects: Vec<SubjectCode>,
    /// The `shared` module: definitions of shared files, generated once.
    pub(crate) shared: TokenStream,
    pub(crate) dispatch: TokenStream,
    pub(crate) warnings: Vec<Diagnostic>,
    pub(crate) fallbacks: Vec<Diagnostic>,
    pub(crate) partial: Vec<Diagnostic>,
}

impl Generated {
    /// What the build should show without failing: the breaks of major versions.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The schemas whose payload is kept as a validated `serde_json::Value`, and why.
    pub fn fallbacks(&self) -> &[Diagnostic] {
        &self.fallbacks
    }

    /// The schemas typed only in part: where a `serde_json::Value` stands in for what typify's
    /// types cannot hold exactly, and why.
    pub fn partly_typed(&self) -> &[Diagnostic] {
        &self.partial
    }
}

#[derive(Debug, Clone)]
pub(crate) struct SubjectCode {
    pub id: String,
    pub module: String,
    /// (version module, file display path, tokens), oldest first.
    pub versions: Vec<(String, String, TokenStream)>,
    /// Names re-exported at subject level: the newest version's envelope and payload.
    pub latest: (String, Vec<String>),
}

/// typify's copy of a bundled schema (see [`exact`]) and the parts it keeps as JSON, or why the
/// whole payload stays a `serde_json::Value`. Without `refined`, the copy loses the bounds typify
/// would make newtypes of (see [`plain`]).
pub(crate) fn typify_input(bundled: &Value, refined: bool) -> Result<(Value, Vec<String>), String> {
    let (mut copy, untyped) = exact::for_typify(bundled);
    if refined {
        exact::sensitive_newtypes(&mut copy);
    } else {
        plain::widen(&mut copy);
    }
    if exact::whole(&copy) {
        let why = untyped.first().cloned().unwrap_or_else(|| "it allows any value".into());
        Err(format!("typify's types cannot hold every value the schema allows ({why})"))
    } else {
        Ok((copy, untyped))
    }
}

/// The JSON name of a field: its `#[serde(rename = "…")]`, or its Rust name.
pub(crate) fn json_name(field: &syn::Field) -> String {
    let mut name = field.ident.as_ref().map(|i| i.to_string().trim_start_matches("r#").to_string()).unwrap_or_default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                name = lit.value();
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
    }
    name
}

/// The registry's vendored documents, for validators of documents that refer to them.
pub(crate) fn vendored_tokens(vendored: &[(String, Value)]) -> TokenStream {
    if vendored.is_empty() {
        return TokenStream::new();
    }
    let uris = vendored.iter().map(|(u, _)| u);
    let texts = vendored
        .iter()
        .map(|(_, v)| crate::embedded::raw_str(&serde_json::to_string_pretty(v).expect("a JSON value serializes")));
    quote! {
        /// The registry's vendored documents by URI, served to validators that refer to them.
        #[doc(hidden)]
        pub const VENDORED_SCHEMAS: &[(&str, &str)] = &[#((#uris, #texts)),*];
    }
}

/// What typify made of a schema: its code as text, or why it could not make a type of it.
pub(crate) type Typified = Result<String, NoType>;

/// Why a payload has no typed Rust form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NoType {
    /// typify cannot express the schema (or crashed on it): the payload is kept as a validated
    /// `serde_json::Value`, and the reason is reported.
    Unsupported(String),
    /// The schema cannot be generated at all (a name that would shadow another): a build error.
    Refused(String),
}

/// Generates the code of one schema file from its bundled schema and typify's output for it.
/// Where typify cannot express the schema, the payload falls back to a validated JSON value and
/// the reason is returned beside the code.
pub(crate) fn schema_module(
    file: &SchemaFile,
    (bundled, origins): (&Value, &BTreeMap<String, Origin>),
    typified: Typified,
    vendored: bool,
    former_uris: &[String],
    seen: &mut Seen,
) -> Result<(TokenStream, Option<String>), Diagnostic> {
    let payload = payload_name(&file.contract.name);
    let ident = format_ident!("{payload}");
    let (types, fallback) =
        match typified.and_then(|text| payload::payload_tokens(&text, &payload, &file.contract.name, bundled)) {
            Ok(mut types) => {
                seen.orders.apply(&mut types, &payload, (&file.display, &file.source), origins);
                // Checked on its typed form where every keyword has a typed check; through the
                // validator otherwise (the trait's default says "not checked").
                let check = validate::tokens(bundled, &types, &payload)
                    .unwrap_or_else(|| quote! { impl crate::TypedCheck for #ident {} });
                // After the checks, which read the shared types' fields.
                seen.shared.take(&mut types, origins, &file.display);
                (quote! { #types #check }, None)
            }
            Err(NoType::Unsupported(reason)) => {
                let tokens = fallback::tokens(&payload, &reason);
                (quote! { #tokens impl crate::TypedCheck for #ident {} }, Some(reason))
            }
            Err(NoType::Refused(message)) => return Err(Diagnostic::file(file.display.clone(), message)),
        };
    let types = match contract::deprecated(file) {
        Some(attr) => mark_deprecated(types, &payload, attr),
        None => types,
    };
    let glue = contract::glue(file, bundled, &payload, vendored, former_uris);
    Ok((quote! { #types #glue }, fallback))
}

/// Puts `attr` on the payload type among `types`.
fn mark_deprecated(types: TokenStream, payload: &str, attr: syn::Attribute) -> TokenStream {
    let Ok(mut file) = syn::parse2::<syn::File>(types.clone()) else { return types };
    for item in &mut file.items {
        let attrs = match item {
            syn::Item::Struct(s) if s.ident == payload => &mut s.attrs,
            syn::Item::Enum(e) if e.ident == payload => &mut e.attrs,
            syn::Item::Type(t) if t.ident == payload => &mut t.attrs,
            _ => continue,
        };
        attrs.push(attr.clone());
    }
    quote::ToTokens::into_token_stream(file)
}

/// Assembles the subjects' modules, the upcasts between their versions and the decoders.
pub(crate) fn registry(
    registry: &Registry,
    mut modules: Vec<TokenStream>,
    shared: &SharedTypes,
    upcasts: &[(&SchemaFile, &SchemaFile)],
    warnings: Vec<Diagnostic>,
    fallbacks: Vec<Diagnostic>,
) -> Generated {
    modules.reverse(); // popped in file order below
    let subjects = registry
        .subjects
        .iter()
        .map(|s| {
            let versions = s
                .versions
                .iter()
                .map(|f| {
                    let mut tokens = modules.pop().expect("one module per file");
                    for (older, _) in upcasts.iter().filter(|(_, newer)| std::ptr::eq(*newer, f)) {
                        tokens.extend(upcast::tokens(older, f));
                    }
                    (f.schema_ref.version.module(), f.display.clone(), tokens)
                })
                .collect();
            let newest = s.versions.last().expect("subjects are never empty");
            let name = &newest.contract.name;
            SubjectCode {
                id: s.id.clone(),
                module: module_name(&s.id),
                versions,
                latest: (newest.schema_ref.version.module(), vec![name.clone(), payload_name(name)]),
            }
        })
        .collect();
    let mut dispatch = dispatch::tokens(registry, upcasts);
    dispatch.extend(access::tokens(registry));
    dispatch.extend(access::schema_ids(registry));
    Generated { subjects, shared: shared.tokens(), dispatch, warnings, fallbacks, partial: Vec::new() }
}

impl SubjectCode {
    pub(crate) fn tokens(&self, with_versions: bool) -> TokenStream {
        let module = format_ident!("{}", self.module);
        let doc = format!(" Schema `{}`: every version, and the newest one's types re-exported.", self.id);
        let versions = self.versions.iter().map(|(v, display, tokens)| {
            let v = format_ident!("{v}");
            let doc = format!(" Generated from `{display}`.");
            let body = if with_versions { tokens.clone() } else { TokenStream::new() };
            quote! { #[doc = #doc] pub mod #v { #body } }
        });
        let (latest, names) = &self.latest;
        let latest = format_ident!("{latest}");
        let names = names.iter().map(|n| format_ident!("{n}"));
        quote! {
            #[doc = #doc]
            pub mod #module {
                #(#versions)*
                /// The newest version of this schema.
                pub use self::#latest as latest;
                pub use self::#latest::{#(#names),*};
            }
        }
    }
}
