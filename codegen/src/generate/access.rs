//! `ACCESS`: the registry's access rules as data, for transports to enforce.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::registry::{ContractKind, Registry};

pub(super) fn tokens(registry: &Registry) -> TokenStream {
    let rules = registry.newest_by_name().into_values().map(|f| {
        let name = &f.contract.name;
        let event_type = match f.contract.kind {
            ContractKind::Event(t) => {
                let variant = format_ident!("{}", t.variant());
                quote!(::std::option::Option::Some(crate::EventType::#variant))
            }
            ContractKind::Command => quote!(::std::option::Option::None),
        };
        let publishers = registry.publishers(f);
        let consumers = registry.consumers(f);
        quote! {
            crate::AccessRule { name: #name, event_type: #event_type, publishers: &[#(#publishers),*], consumers: &[#(#consumers),*] }
        }
    });
    let policy = &registry.access;
    let services = registry.services().into_iter();
    let operators: BTreeSet<&str> = policy.operators.iter().map(String::as_str).collect();
    let operators = operators.into_iter();
    quote! {
        /// Who may publish and read each contract, as the registry states it
        /// (`publishers`, `consumers`, `[package.metadata.events.access]`).
        pub const ACCESS: crate::AccessPolicy = crate::AccessPolicy {
            services: &[#(#services),*],
            operators: &[#(#operators),*],
            rules: &[#(#rules),*],
        };
    }
}

/// `SCHEMA_IDS`: each version's recorded schema id, for the Confluent wire format.
pub(super) fn schema_ids(registry: &Registry) -> TokenStream {
    let entries = registry.files().filter_map(|f| {
        let s = registry.schema_id(f)?;
        let (id, integer, name) = (s.id, s.integer, &f.contract.name);
        let (major, minor) = (f.schema_ref.version.major, f.schema_ref.version.minor);
        Some(quote! { crate::SchemaIdEntry { id: #id, integer: #integer, name: #name, version: crate::SchemaVersion::new(#major, #minor) } })
    });
    quote! {
        /// Each contract version's stable schema id and integer version, as recorded in the
        /// registry's `schema-ids.lock` (empty when it records none).
        pub const SCHEMA_IDS: &[crate::SchemaIdEntry] = &[#(#entries),*];
    }
}
