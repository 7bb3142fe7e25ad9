//! Glue for one schema file: the runtime traits on its payload and the envelope alias.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::registry::{ContractKind, SchemaFile};

/// `#[deprecated]` for the types of a deprecated contract version, so that producers are warned.
pub(super) fn deprecated(file: &SchemaFile) -> Option<syn::Attribute> {
    let d = file.contract.deprecated.as_ref()?;
    Some(match &d.note {
        Some(note) => syn::parse_quote!(#[deprecated(note = #note)]),
        None => syn::parse_quote!(#[deprecated]),
    })
}

pub(super) fn glue(
    file: &SchemaFile,
    bundled: &Value,
    payload: &str,
    vendored: bool,
    former_uris: &[String],
) -> TokenStream {
    let c = &file.contract;
    let r = &file.schema_ref;
    let payload = format_ident!("{payload}");
    let alias = format_ident!("{}", c.name);
    let name = &c.name;
    let (id, uri) = (&r.id, &r.uri);
    let (major, minor) = (r.version.major, r.version.minor);
    let tags = &c.tags;
    // Indented, in a raw string: readable in the generated code, and the same JSON value.
    let schema_json =
        crate::embedded::raw_str(&serde_json::to_string_pretty(bundled).expect("a JSON value serializes"));
    let description = c.description.as_deref().map(|d| format!(" {d}")).into_iter();
    let deprecated = deprecated(file);
    let deprecated = deprecated.iter();
    // Through one non-generic function: a `get_or_init` closure here would instantiate
    // `OnceLock`'s code once per contract.
    let vendored = if vendored { quote!(super::super::VENDORED_SCHEMAS) } else { quote!(&[]) };
    // Only where the registry had other base URIs: the trait's default is none.
    let formers = if former_uris.is_empty() {
        TokenStream::new()
    } else {
        quote! { const FORMER_URIS: &'static [&'static str] = &[#(#former_uris),*]; }
    };
    let contract = quote! {
        /// The bundled schema the payload is validated against.
        pub const SCHEMA_JSON: &str = #schema_json;

        impl crate::Contract for #payload {
            type Registry = super::super::Contracts;
            const NAME: &'static str = #name;
            const SCHEMA_REF: crate::StaticSchemaRef = crate::StaticSchemaRef {
                id: #id,
                version: crate::SchemaVersion::new(#major, #minor),
                uri: #uri,
            };
            const TAGS: &'static [&'static str] = &[#(#tags),*];
            #formers
            fn payload_schema() -> &'static crate::PayloadSchema {
                static SCHEMA: ::std::sync::OnceLock<crate::PayloadSchema> = ::std::sync::OnceLock::new();
                crate::PayloadSchema::cached(&SCHEMA, SCHEMA_JSON, #vendored)
            }
        }
    };
    let kind = match c.kind {
        ContractKind::Event(event_type) => {
            let variant = format_ident!("{}", event_type.variant());
            let source = c.source.as_deref().unwrap_or_default();
            let event_version = &c.event_version;
            let doc = format!(" `{name}`: the envelope of a [`{payload}`], as published.");
            quote! {
                impl crate::EventContract for #payload {
                    const EVENT_TYPE: crate::EventType = crate::EventType::#variant;
                    const EVENT_SOURCE: &'static str = #source;
                    const EVENT_VERSION: &'static str = #event_version;
                }
                #[doc = #doc]
                #(#[doc = ""] #[doc = #description])*
                #(#deprecated)*
                pub type #alias = crate::Envelope<#payload>;
            }
        }
        ContractKind::Command => {
            let doc = format!(" `{name}`: the envelope of a [`{payload}`], as sent.");
            quote! {
                impl crate::CommandContract for #payload {}
                #[doc = #doc]
                #(#[doc = ""] #[doc = #description])*
                #(#deprecated)*
                pub type #alias = crate::Command<#payload>;
            }
        }
    };
    quote! { #contract #kind }
}
