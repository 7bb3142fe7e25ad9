//! The fallback payload: where typify cannot express a schema (it rejects it, panics, crashes, or
//! the schema describes no Rust type of its own), the payload is kept as `serde_json::Value`.
//! That is sound: every payload is validated against the whole schema before it is accepted, and a
//! `Value` encodes back exactly what was decoded.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// The payload type `payload` as a validated JSON value.
pub(super) fn tokens(payload: &str, reason: &str) -> TokenStream {
    let ident = format_ident!("{payload}");
    let doc = format!(
        " `{payload}`, kept as JSON: {reason}. Decoding and the constructors validate it against the whole schema."
    );
    quote! {
        #[doc = #doc]
        #[derive(Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(transparent)]
        pub struct #ident(pub ::serde_json::Value);

        impl ::std::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                // Masks what the schema marks `x-sensitive`, like the typed payloads' Debug.
                f.debug_tuple(#payload).field(&crate::redacted_payload::<Self>(&self.0)).finish()
            }
        }

        impl ::std::convert::From<::serde_json::Value> for #ident {
            fn from(value: ::serde_json::Value) -> Self {
                Self(value)
            }
        }
    }
}
