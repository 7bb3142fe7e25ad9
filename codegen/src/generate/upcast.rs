//! Upcasts: where the compatibility rules prove that a version reads everything the version before
//! it allows, the newer payload converts from the older one, so a consumer can handle the newest
//! version only.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ident::payload_name;
use crate::registry::SchemaFile;

/// `impl From<older payload> for newer payload`, placed in the newer version's module.
pub(super) fn tokens(older: &SchemaFile, newer: &SchemaFile) -> TokenStream {
    let old_module = format_ident!("{}", older.schema_ref.version.module());
    let old = format_ident!("{}", payload_name(&older.contract.name));
    let new = format_ident!("{}", payload_name(&newer.contract.name));
    let doc = format!(
        " Reads a version {} payload as version {}: the fields it has keep their values; fields that {} adds take their schema `default`, or stay empty when they have none.",
        older.schema_ref.version, newer.schema_ref.version, newer.schema_ref.version
    );
    quote! {
        #[doc = #doc]
        impl ::std::convert::From<super::#old_module::#old> for #new {
            fn from(older: super::#old_module::#old) -> Self {
                crate::upcast_payload(older)
            }
        }
    }
}
