//! `"x-sensitive": true` on a property: the generated types' `Debug` prints `<redacted>` in place
//! of its value, so that logging a payload never leaks it. Serialization is untouched.
//!
//! typify's types carry no link back to the schema, so a struct is matched to the object schema
//! with the same property names; when none matches exactly, every property marked sensitive
//! anywhere in the file is masked in it (masking too much is the safe mistake).

use std::collections::{BTreeMap, BTreeSet};

use quote::quote;
use serde_json::Value;
use syn::punctuated::Punctuated;

use super::json_name;

/// The mask `Debug` prints; the runtime's JSON view uses the same text.
pub const MASK: &str = "<redacted>";

/// Object schemas of a bundled schema: their property names, and which of them are sensitive.
#[derive(Debug, Default)]
struct Marks {
    objects: Vec<(BTreeSet<String>, BTreeSet<String>)>,
    anywhere: BTreeSet<String>,
}

fn is_sensitive(schema: &Value, root: &Value) -> bool {
    let mut at = schema;
    for _ in 0..32 {
        if at.get("x-sensitive") == Some(&Value::Bool(true)) {
            return true;
        }
        match at.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')).and_then(|p| root.pointer(p)) {
            Some(target) => at = target,
            None => return false,
        }
    }
    false
}

fn collect(value: &Value, root: &Value, marks: &mut Marks) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                let names: BTreeSet<String> = props.keys().cloned().collect();
                let sensitive: BTreeSet<String> =
                    props.iter().filter(|(_, s)| is_sensitive(s, root)).map(|(n, _)| n.clone()).collect();
                marks.anywhere.extend(sensitive.iter().cloned());
                marks.objects.push((names, sensitive));
            }
            for (key, child) in map {
                if !matches!(key.as_str(), "enum" | "const" | "default" | "examples") {
                    collect(child, root, marks);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect(i, root, marks)),
        _ => {}
    }
}

/// The type names a field's type mentions (`Option<Vec<Card>>` → `Option`, `Vec`, `Card`).
fn mentioned(ty: &syn::Type, out: &mut BTreeSet<String>) {
    if let syn::Type::Path(p) = ty {
        for seg in &p.path.segments {
            out.insert(seg.ident.to_string());
            if let syn::PathArguments::AngleBracketed(args) = &seg.arguments {
                for arg in &args.args {
                    if let syn::GenericArgument::Type(t) = arg {
                        mentioned(t, out);
                    }
                }
            }
        }
    }
}

/// Whether a field holds the properties the schema does not name (`#[serde(flatten)]`).
fn flattened(field: &syn::Field) -> bool {
    field.attrs.iter().any(|a| a.path().is_ident("serde") && quote!(#a).to_string().contains("flatten"))
}

/// Removes `Debug` from a `#[derive(…)]`; true when it was there.
fn drop_debug(attrs: &mut [syn::Attribute]) -> bool {
    let mut dropped = false;
    for attr in attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
        let Ok(paths) = attr.parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated) else {
            continue;
        };
        let kept: Vec<&syn::Path> =
            paths.iter().filter(|p| p.segments.last().is_none_or(|s| s.ident != "Debug")).collect();
        if kept.len() != paths.len() {
            dropped = true;
            *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
        }
    }
    dropped
}

/// Masks sensitive values in the `Debug` of typify's types for one schema.
pub(super) fn mask(file: &mut syn::File, bundled: &Value) {
    let mut marks = Marks::default();
    collect(bundled, bundled, &mut marks);
    // Marked anywhere at all, the values typify's types keep in a map of other properties (those
    // of `patternProperties`, `additionalProperties`, renamed ones) are masked too.
    let any = bundled.to_string().contains("\"x-sensitive\":true");
    if !any {
        return;
    }
    // Struct name → the JSON names of its fields to mask.
    let mut masked: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut newtypes: BTreeSet<String> = BTreeSet::new();
    for item in &file.items {
        let syn::Item::Struct(s) = item else { continue };
        let syn::Fields::Named(fields) = &s.fields else { continue };
        let names: BTreeSet<String> = fields.named.iter().map(json_name).collect();
        let exact: Vec<&BTreeSet<String>> = marks.objects.iter().filter(|(n, _)| *n == names).map(|(_, s)| s).collect();
        let sensitive: BTreeSet<String> = if exact.is_empty() {
            names.intersection(&marks.anywhere).cloned().collect()
        } else {
            exact.into_iter().flatten().cloned().collect()
        };
        for field in fields.named.iter().filter(|f| sensitive.contains(&json_name(f))) {
            mentioned(&field.ty, &mut newtypes);
        }
        if !sensitive.is_empty() || fields.named.iter().any(flattened) {
            masked.insert(s.ident.to_string(), sensitive);
        }
    }
    let mut impls = Vec::new();
    for item in &mut file.items {
        let syn::Item::Struct(s) = item else { continue };
        let ident = s.ident.clone();
        let name = ident.to_string();
        if let (syn::Fields::Named(fields), Some(sensitive)) = (&mut s.fields, masked.get(&name)) {
            for f in fields.named.iter_mut().filter(|f| sensitive.contains(&json_name(f))) {
                wrap_scalar(&mut f.ty);
            }
        }
        match (&s.fields, masked.get(&name)) {
            (syn::Fields::Named(fields), Some(sensitive)) => {
                let shown = fields.named.iter().map(|f| {
                    let field = f.ident.as_ref().expect("named field");
                    let label = field.to_string();
                    if sensitive.contains(&json_name(f)) {
                        quote! { .field(#label, &::std::format_args!(#MASK)) }
                    } else if flattened(f) {
                        quote! { .field(#label, &crate::MaskedValues(&self.#field)) }
                    } else {
                        quote! { .field(#label, &self.#field) }
                    }
                });
                let body = quote! { f.debug_struct(#name) #(#shown)* .finish() };
                if drop_debug(&mut s.attrs) {
                    impls.push(debug_impl(&ident, body));
                }
            }
            // A newtype holding a sensitive value: typify makes one per constrained property.
            (syn::Fields::Unnamed(fields), _) if fields.unnamed.len() == 1 && newtypes.contains(&name) => {
                if drop_debug(&mut s.attrs) {
                    impls.push(debug_impl(
                        &ident,
                        quote! { f.debug_tuple(#name).field(&::std::format_args!(#MASK)).finish() },
                    ));
                }
            }
            _ => {}
        }
    }
    // A string enum holding a sensitive value prints no variant either.
    for item in &mut file.items {
        let syn::Item::Enum(e) = item else { continue };
        let name = e.ident.to_string();
        if newtypes.contains(&name) && drop_debug(&mut e.attrs) {
            impls.push(debug_impl(
                &e.ident,
                quote! { f.debug_tuple(#name).field(&::std::format_args!(#MASK)).finish() },
            ));
        }
    }
    for tokens in impls {
        file.items.push(syn::parse2(tokens).expect("a generated impl parses"));
    }
}

/// A plain scalar (`String`, a number, `bool`, or an `Option` of one) becomes
/// `crate::Sensitive<…>`, whose `Debug` masks it even when printed on its own. typify's own types
/// (refined newtypes, enums, structs) are masked by their `Debug` impls above.
fn wrap_scalar(ty: &mut syn::Type) {
    let syn::Type::Path(p) = ty else { return };
    let Some(last) = p.path.segments.last_mut() else { return };
    let ident = last.ident.to_string();
    if ident == "Option" {
        if let syn::PathArguments::AngleBracketed(args) = &mut last.arguments {
            if let Some(syn::GenericArgument::Type(inner)) = args.args.first_mut() {
                wrap_scalar(inner);
            }
        }
        return;
    }
    let scalar = matches!(ident.as_str(), "String" | "f64" | "i64" | "u64" | "bool") && last.arguments.is_none();
    if scalar {
        let inner = ty.clone();
        *ty = syn::parse_quote!(crate::Sensitive<#inner>);
    }
}

fn debug_impl(ident: &syn::Ident, body: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let doc = format!(" Masks the properties the schema marks `x-sensitive`: they print as `{MASK}`.");
    quote! {
        #[doc = #doc]
        impl ::std::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                #body
            }
        }
    }
}
