//! The registry-wide decoders: `AnyEvent` and `AnyCommand`, one variant per contract version.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ident::{module_name, payload_name};
use crate::registry::{ContractKind, Registry, SchemaFile};

pub(super) fn tokens(registry: &Registry, upcasts: &[(&SchemaFile, &SchemaFile)]) -> TokenStream {
    let events = family(registry, true, upcasts);
    let commands = family(registry, false, upcasts);
    quote! {
        #events
        #commands

        /// This registry as transports and mappings see it ([`crate::Registry`]): its decoders,
        /// access rules and schema ids.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct Contracts;

        impl crate::Registry for Contracts {
            type Event = AnyEvent;
            type Command = AnyCommand;
            const ACCESS: &'static crate::AccessPolicy = &ACCESS;
            const SCHEMA_IDS: &'static [crate::SchemaIdEntry] = SCHEMA_IDS;
        }
    }
}

/// `OrderCreatedEventV1_0`: the name and the version, so that adding a version renames nothing.
fn variant_ident(f: &SchemaFile) -> proc_macro2::Ident {
    let v = f.schema_ref.version;
    format_ident!("{}V{}_{}", f.contract.name, v.major, v.minor)
}

struct Variant<'a> {
    ident: proc_macro2::Ident,
    file: &'a SchemaFile,
}

/// Emits the decoder of one family even when the registry has none of it, so that services can
/// name `AnyCommand` in a registry of events only. Matches go through `*self`, the form that also
/// compiles for an empty enum.
fn family(registry: &Registry, events: bool, upcasts: &[(&SchemaFile, &SchemaFile)]) -> TokenStream {
    // Versions of one name, oldest first; names in registry order.
    let mut by_name: BTreeMap<&str, Vec<&SchemaFile>> = BTreeMap::new();
    for f in registry.files() {
        if matches!(f.contract.kind, ContractKind::Event(_)) == events {
            by_name.entry(&f.contract.name).or_default().push(f);
        }
    }
    let variants: Vec<Vec<Variant>> = by_name
        .values()
        .map(|files| files.iter().map(|f| Variant { ident: variant_ident(f), file: f }).collect())
        .collect();
    let all: Vec<&Variant> = variants.iter().flatten().collect();
    let (any, envelope, raw, kind_word, name_pointer) = if events {
        (format_ident!("AnyEvent"), quote!(crate::Envelope), quote!(crate::RawEvent), "event", "/eventName")
    } else {
        (format_ident!("AnyCommand"), quote!(crate::Command), quote!(crate::RawCommand), "command", "/commandName")
    };
    let idents: Vec<_> = all.iter().map(|v| &v.ident).collect();
    let types: Vec<_> = all.iter().map(|v| alias_path(v.file)).collect();
    let payloads: Vec<_> = all.iter().map(|v| payload_path(v.file)).collect();
    let docs: Vec<String> = all
        .iter()
        .map(|v| {
            format!(" `{}` version {} (`{}`).", v.file.contract.name, v.file.schema_ref.version, v.file.schema_ref.id)
        })
        .collect();
    let names: Vec<&str> = by_name.keys().copied().collect();
    let arms = variants.iter().map(|versions| name_arm(versions, &any, &envelope));
    let doc = format!(" Every {kind_word} of the registry, decoded and validated against its schema.");
    let from_json_doc = format!(
        " Decodes and validates one {kind_word}: dispatches on its name and schema version, checks that the envelope agrees with the registry, and validates the payload against every constraint of its schema."
    );
    let id_method = if events {
        quote! {
            /// The event's id.
            pub fn event_id(&self) -> crate::EventId {
                match *self { #(Self::#idents(ref e) => e.event_id(),)* }
            }
            /// The command or event that caused this one, if any.
            pub fn causation_id(&self) -> ::std::option::Option<crate::CausationId> {
                match *self { #(Self::#idents(ref e) => e.causation_id(),)* }
            }
            /// `retryCount`.
            pub fn retry_count(&self) -> u32 {
                match *self { #(Self::#idents(ref e) => e.retry_count(),)* }
            }
            /// The event as its `attempt`-th delivery shows it; see `Envelope::at_attempt`.
            pub fn at_attempt(self, attempt: u32) -> Self {
                match self { #(Self::#idents(e) => Self::#idents(e.at_attempt(attempt)),)* }
            }
        }
    } else {
        quote! {
            /// The command's id.
            pub fn command_id(&self) -> crate::CommandId {
                match *self { #(Self::#idents(ref e) => e.command_id(),)* }
            }
            /// The event or command that caused this one, if any.
            pub fn causation_id(&self) -> ::std::option::Option<crate::CausationId> {
                match *self { #(Self::#idents(ref e) => e.causation_id(),)* }
            }
        }
    };
    let name_method = format_ident!("{kind_word}_name");
    let id_name = format_ident!("{kind_word}_id");
    let (kind_variant, set_trait, id_type) = if events {
        (quote!(Event), quote!(crate::EventSet), quote!(crate::EventId))
    } else {
        (quote!(Command), quote!(crate::CommandSet), quote!(crate::CommandId))
    };
    // Through the inherent methods (`Self::…` finds them first): one body for both callers.
    let at_attempt = if events {
        quote! { fn at_attempt(self, attempt: u32) -> Self { Self::at_attempt(self, attempt) } }
    } else {
        TokenStream::new()
    };
    let traits = quote! {
        impl crate::Message for #any {
            type Registry = Contracts;
            const KIND: crate::MessageKind = crate::MessageKind::#kind_variant;
            const CONTRACT: ::std::option::Option<(&'static str, crate::SchemaVersion)> = ::std::option::Option::None;
            fn decode(bytes: &[u8]) -> ::std::result::Result<Self, crate::DecodeError> { Self::from_json(bytes) }
            fn decode_value(value: ::serde_json::Value) -> ::std::result::Result<Self, crate::DecodeError> {
                Self::from_raw(#raw::from_value(value)?)
            }
            fn name(&self) -> &'static str { Self::#name_method(self) }
            fn message_id(&self) -> ::std::string::String { Self::#id_name(self).to_string() }
            fn correlation_id(&self) -> crate::CorrelationId { Self::correlation_id(self) }
            fn causation_id(&self) -> ::std::option::Option<crate::CausationId> { Self::causation_id(self) }
            fn schema_ref(&self) -> crate::SchemaRef { Self::schema_ref(self) }
            fn redacted(&self) -> ::serde_json::Value { Self::redacted(self) }
            #at_attempt
        }

        impl #set_trait for #any {
            fn from_raw(raw: #raw) -> ::std::result::Result<Self, crate::DecodeError> { Self::from_raw(raw) }
            fn #id_name(&self) -> #id_type { Self::#id_name(self) }
        }
    };
    // Events in their full form first take the fast path: one pass, the payload checked typed.
    // The contract is picked from the message's first members (its name, and its version when
    // the name has several) and the payload read straight into its type; when they do not say,
    // the payload waits as raw JSON until the version is read.
    let fast_first = if events {
        let single = variants.iter().flat_map(|versions| {
            let several = versions.len() > 1;
            versions.iter().map(move |v| {
                let (ident, payload, name) = (&v.ident, payload_path(v.file), &v.file.contract.name);
                let (major, minor) = (v.file.schema_ref.version.major, v.file.schema_ref.version.minor);
                let pattern = if several {
                    quote! { Some((#name, Some(v))) if v == crate::SchemaVersion::new(#major, #minor) }
                } else {
                    quote! { Some((#name, _)) }
                };
                quote! { #pattern => Some(crate::decode_typed::<#payload>(bytes).map(Self::#ident)), }
            })
        });
        let arms = all.iter().map(|v| {
            let ident = &v.ident;
            let payload = payload_path(v.file);
            let name = &v.file.contract.name;
            let (major, minor) = (v.file.schema_ref.version.major, v.file.schema_ref.version.minor);
            quote! {
                (#name, v) if v == crate::SchemaVersion::new(#major, #minor) => wire.decode::<#payload>().map(Self::#ident),
            }
        });
        quote! {
            let single = match crate::leading_identity(bytes) {
                #(#single)*
                _ => None,
            };
            match single {
                Some(Some(event)) => return Ok(event),
                Some(None) => {}
                None => {
                    if let Some(mut wire) = crate::WireEvent::parse(bytes) {
                        let fast = match (wire.name(), wire.version()) {
                            #(#arms)*
                            _ => None,
                        };
                        if let Some(event) = fast {
                            return Ok(event);
                        }
                    }
                }
            }
        }
    } else {
        TokenStream::new()
    };
    let latest_arms = all.iter().map(|v| latest_arm(v, upcasts));
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, PartialEq)]
        pub enum #any {
            #(#[doc = #docs] #idents(#types),)*
        }

        impl #any {
            /// Every name this decoder accepts.
            pub const NAMES: &'static [&'static str] = &[#(#names),*];

            #[doc = #from_json_doc]
            pub fn from_json(bytes: &[u8]) -> ::std::result::Result<Self, crate::DecodeError> {
                #fast_first
                Self::from_raw(#raw::parse(bytes)?)
            }

            /// Like [`Self::from_json`], from an already parsed envelope.
            pub fn from_raw(raw: #raw) -> ::std::result::Result<Self, crate::DecodeError> {
                let version = raw.schema_version();
                match raw.name() {
                    #(#arms)*
                    other => Err(crate::DecodeError::UnknownContract { pointer: #name_pointer.to_string(), name: other.to_string(), version }),
                }
            }

            /// The contract's name.
            pub fn #name_method(&self) -> &'static str {
                match *self { #(Self::#idents(_) => <#payloads as crate::Contract>::NAME,)* }
            }

            /// The schema this message follows.
            pub fn schema_ref(&self) -> crate::SchemaRef {
                match *self { #(Self::#idents(ref e) => e.schema_ref(),)* }
            }

            /// The message as JSON for logs, payload values the schema marks `x-sensitive` masked.
            pub fn redacted(&self) -> ::serde_json::Value {
                match *self { #(Self::#idents(ref e) => e.redacted(),)* }
            }

            /// The business process this message belongs to.
            pub fn correlation_id(&self) -> crate::CorrelationId {
                match *self { #(Self::#idents(ref e) => e.correlation_id(),)* }
            }

            #id_method

            /// Converts an older version to the newest one it upcasts to (see each payload's
            /// `From` impls), so that a consumer can match the newest versions only. A version
            /// with no upcast, a major version that breaks for instance, stays as it is.
            pub fn into_latest(self) -> Self {
                match self { #(#latest_arms)* }
            }
        }

        impl crate::Cause for #any {
            fn causation(&self) -> crate::Causation {
                match *self { #(Self::#idents(ref e) => crate::Cause::causation(e),)* }
            }
        }

        impl ::serde::Serialize for #any {
            // `_serializer`: a registry with no commands leaves `AnyCommand` without a variant.
            fn serialize<S: ::serde::Serializer>(&self, _serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                match *self { #(Self::#idents(ref e) => e.serialize(_serializer),)* }
            }
        }

        #(
            impl ::std::convert::From<#types> for #any {
                fn from(value: #types) -> Self { Self::#idents(value) }
            }
        )*

        #traits
    }
}

/// One `match` arm: an explicit version picks its variant; without one, the newest version that
/// accepts the message wins.
fn name_arm(versions: &[Variant], any: &proc_macro2::Ident, envelope: &TokenStream) -> TokenStream {
    let name = &versions[0].file.contract.name;
    // `raw` is moved into the last attempt and cloned for the others.
    let decode = |v: &Variant, raw: TokenStream| {
        let ident = &v.ident;
        let payload = payload_path(v.file);
        quote! { #envelope::<#payload>::from_raw(#raw).map(#any::#ident) }
    };
    let explicit = versions.iter().map(|v| {
        let (major, minor) = (v.file.schema_ref.version.major, v.file.schema_ref.version.minor);
        let decode = decode(v, quote!(raw));
        quote! { Some(v) if v == crate::SchemaVersion::new(#major, #minor) => #decode, }
    });
    let last = versions.len() - 1;
    let attempts: Vec<TokenStream> = versions
        .iter()
        .rev()
        .enumerate()
        .map(|(i, v)| decode(v, if i == last { quote!(raw) } else { quote!(raw.clone()) }))
        .collect();
    let first = &attempts[0];
    // When no version accepts the message, the newest one's complaint is the one to show.
    let rest = attempts[1..].iter().map(|d| quote! { .or_else(|newest| #d.map_err(|_| newest)) });
    quote! {
        #name => match version {
            #(#explicit)*
            Some(_) => Err(crate::DecodeError::UnknownContract { pointer: raw.version_pointer().to_string(), name: #name.to_string(), version }),
            None => #first #(#rest)*,
        },
    }
}

/// One arm of `into_latest`: the chain of upcasts from this version to the furthest it reaches.
fn latest_arm(v: &Variant, upcasts: &[(&SchemaFile, &SchemaFile)]) -> TokenStream {
    let ident = &v.ident;
    let mut at = v.file;
    let mut steps = Vec::new();
    while let Some((_, newer)) = upcasts.iter().find(|(older, _)| std::ptr::eq(*older, at)) {
        steps.push(payload_path(newer));
        at = newer;
    }
    if steps.is_empty() {
        return quote! { Self::#ident(e) => Self::#ident(e), };
    }
    let target = variant_ident(at);
    quote! { Self::#ident(e) => Self::#target(e #(.upcast::<#steps>())*), }
}

/// Relative to the generated file's top level, wherever the host crate includes it.
fn module_path(file: &SchemaFile) -> TokenStream {
    let subject = format_ident!("{}", module_name(&file.schema_ref.id));
    let version = format_ident!("{}", file.schema_ref.version.module());
    quote! { self::#subject::#version }
}

fn alias_path(file: &SchemaFile) -> TokenStream {
    let m = module_path(file);
    let alias = format_ident!("{}", file.contract.name);
    quote! { #m::#alias }
}

fn payload_path(file: &SchemaFile) -> TokenStream {
    let m = module_path(file);
    let p = format_ident!("{}", payload_name(&file.contract.name));
    quote! { #m::#p }
}
