//! Validation of the typed payload itself, without a `serde_json::Value`: a function that says
//! whether a decoded payload meets every keyword of its schema, for the decoders' fast path.
//!
//! It is generated only where the types and the schema correspond exactly (see [`super::exact`])
//! and every keyword in play has a check here; otherwise the contract keeps validating through the
//! `jsonschema` crate. A `false` never becomes an error by itself: the caller then takes the
//! complete path, which also says why. So the function must never say `true` for a payload the
//! schema refuses; where exactness is in doubt (a non-integer `multipleOf`, `uniqueItems` over
//! objects), it declines instead.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;

use super::json_name;
use quote::{format_ident, quote};
use serde_json::{Map, Value};

use crate::ident::escape;
use crate::keywords::{is_annotation, only_annotations, required_names};

/// Keywords with a typed check (or that the type itself guarantees).
const CHECKED: [&str; 22] = [
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "$ref",
];

/// `impl crate::TypedCheck for <payload>`, or `None` when the payload cannot be checked typed.
pub(super) fn tokens(bundled: &Value, file: &syn::File, payload: &str) -> Option<TokenStream> {
    let mut items = BTreeMap::new();
    for item in &file.items {
        match item {
            syn::Item::Struct(s) => {
                items.insert(s.ident.to_string(), Item::Struct(s.clone()));
            }
            syn::Item::Enum(e) => {
                items.insert(e.ident.to_string(), Item::Enum(e.clone()));
            }
            syn::Item::Type(t) => {
                items.insert(t.ident.to_string(), Item::Alias((*t.ty).clone()));
            }
            _ => {}
        }
    }
    let mut gen = Gen { root: bundled, items, fns: BTreeMap::new(), pending: Vec::new() };
    let ty: syn::Type = syn::parse_str(payload).ok()?;
    let body = gen.check(bundled, "", &ty, quote!(self))?;
    let mut fns = Vec::new();
    while let Some((name, pointer)) = gen.pending.pop() {
        let node = gen.root.pointer(&pointer)?.clone();
        let inner = gen.struct_check(&node, &pointer, &name, quote!(v))?;
        let f = format_ident!("__events_valid_{}", name);
        let ident = format_ident!("{}", name);
        fns.push(quote! {
            #[allow(non_snake_case, unused_variables, clippy::all)]
            fn #f(v: &#ident) -> bool { #inner true }
        });
    }
    let payload = format_ident!("{payload}");
    Some(quote! {
        #(#fns)*
        impl crate::TypedCheck for #payload {
            #[allow(clippy::all)]
            fn typed_valid(&self) -> bool { #body true }
        }
    })
}

#[derive(Clone)]
enum Item {
    Struct(syn::ItemStruct),
    Enum(syn::ItemEnum),
    Alias(syn::Type),
}

struct Gen<'a> {
    root: &'a Value,
    items: BTreeMap<String, Item>,
    /// Struct type name → the schema pointer its check function follows.
    fns: BTreeMap<String, String>,
    pending: Vec<(String, String)>,
}

/// The last path segment of a type and its generic arguments.
fn segment(ty: &syn::Type) -> Option<(String, Vec<syn::Type>)> {
    let syn::Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    let args = match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                syn::GenericArgument::Type(t) => Some(t.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    Some((seg.ident.to_string(), args))
}

fn types(m: &Map<String, Value>) -> Vec<String> {
    match m.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts.iter().filter_map(|t| t.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

impl Gen<'_> {
    /// Follows `$ref`s to definitions: the node and its pointer.
    fn resolve(&self, node: &Value, pointer: &str) -> Option<(Value, String)> {
        let mut node = node.clone();
        let mut pointer = pointer.to_string();
        for _ in 0..32 {
            let Some(r) = node.get("$ref").and_then(Value::as_str) else { return Some((node, pointer)) };
            let target = r.strip_prefix('#')?.to_string();
            // `$ref` beside other keywords would need both checked: not done here.
            if node.as_object().is_some_and(|m| m.keys().any(|k| k != "$ref" && !is_annotation(k))) {
                return None;
            }
            node = self.root.pointer(&target)?.clone();
            pointer = target;
        }
        None
    }

    /// Statements that `return false` when `expr` (a reference to a value of type `ty`) breaks `node`.
    fn check(&mut self, node: &Value, pointer: &str, ty: &syn::Type, expr: TokenStream) -> Option<TokenStream> {
        let (node, pointer) = self.resolve(node, pointer)?;
        let m = match &node {
            Value::Bool(true) => return Some(TokenStream::new()),
            Value::Object(m) => m.clone(),
            _ => return None,
        };
        if m.keys().any(|k| !CHECKED.contains(&k.as_str()) && !is_annotation(k)) {
            return None;
        }
        let (name, args) = segment(ty)?;
        match (name.as_str(), args.as_slice()) {
            ("Box" | "Sensitive", [inner]) => self.check(&node, &pointer, inner, quote!((&**#expr))),
            ("Option", _) => None, // a required property may be null: absent and null are one `None`
            ("Value", []) => {
                let any = only_annotations(&m);
                any.then(TokenStream::new)
            }
            ("String", []) => self.string(&m, quote!(#expr.as_str())),
            ("f64", []) => self.number(&m, quote!(*#expr), false),
            ("i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64", []) => self.number(&m, quote!(*#expr), true),
            ("NonZeroU8" | "NonZeroU16" | "NonZeroU32" | "NonZeroU64", []) => {
                self.number(&m, quote!(#expr.get()), true)
            }
            ("bool", []) => self.only(&m, &["type"]).then(TokenStream::new),
            ("Vec", [inner]) => self.array(&m, &pointer, inner, expr),
            ("HashMap", [_, inner]) => self.map(&m, &pointer, inner, expr),
            (local, []) => match self.items.get(local).cloned()? {
                Item::Alias(t) => self.check(&node, &pointer, &t, expr),
                Item::Enum(e) => {
                    // typify's string enum accepts exactly the listed values.
                    let unit = e.variants.iter().all(|v| matches!(v.fields, syn::Fields::Unit));
                    (unit
                        && self.only(&m, &["type", "enum", "const"])
                        && (m.contains_key("enum") || m.contains_key("const")))
                    .then(TokenStream::new)
                }
                Item::Struct(s) => match &s.fields {
                    syn::Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                        let inner = f.unnamed[0].ty.clone();
                        // A constrained string: its own checks ran when it was built.
                        self.check(&node, &pointer, &inner, quote!(::std::ops::Deref::deref(#expr)))
                    }
                    syn::Fields::Named(_) => {
                        match self.fns.get(local) {
                            Some(p) if *p != pointer => return None,
                            Some(_) => {}
                            None => {
                                self.fns.insert(local.to_string(), pointer.clone());
                                self.pending.push((local.to_string(), pointer.clone()));
                            }
                        }
                        let f = format_ident!("__events_valid_{}", local);
                        Some(quote! { if !#f(#expr) { return false; } })
                    }
                    _ => None,
                },
            },
            _ => None,
        }
    }

    fn only(&self, m: &Map<String, Value>, allowed: &[&str]) -> bool {
        m.keys().all(|k| allowed.contains(&k.as_str()) || is_annotation(k))
    }

    /// A mini-validator for one keyword, compiled once, with the validator's own semantics.
    fn keyword_validator(&self, keyword: &str, value: &Value, expr: TokenStream) -> TokenStream {
        let schema = serde_json::json!({ keyword: value }).to_string();
        quote! {
            {
                static CHECK: ::std::sync::OnceLock<crate::PayloadSchema> = ::std::sync::OnceLock::new();
                let check = crate::PayloadSchema::cached(&CHECK, #schema, &[]);
                if !check.accepts_str(#expr) { return false; }
            }
        }
    }

    fn string(&self, m: &Map<String, Value>, expr: TokenStream) -> Option<TokenStream> {
        if !self.only(m, &["type", "minLength", "maxLength", "pattern", "format", "enum", "const"]) {
            return None;
        }
        let mut out = TokenStream::new();
        // Lengths count characters; a character takes 1 to 4 bytes, so the byte length often
        // settles it without counting.
        if let Some(n) = size(m, "minLength")?.filter(|n| *n > 0) {
            let n = n as usize;
            out.extend(quote! {
                {
                    let text: &str = #expr;
                    if text.len() < #n || (text.len() / 4 < #n && text.chars().count() < #n) { return false; }
                }
            });
        }
        if let Some(n) = size(m, "maxLength")? {
            let n = n as usize;
            out.extend(quote! {
                {
                    let text: &str = #expr;
                    if text.len() > #n && text.chars().count() > #n { return false; }
                }
            });
        }
        for key in ["pattern", "format"] {
            if let Some(v) = m.get(key) {
                out.extend(self.keyword_validator(key, v, expr.clone()));
            }
        }
        if let Some(vs) = listed(m)? {
            let strings: Vec<&str> = vs.iter().filter_map(|v| v.as_str()).collect();
            out.extend(quote! { if ![#(#strings),*].contains(&#expr) { return false; } });
        }
        Some(out)
    }

    fn number(&self, m: &Map<String, Value>, expr: TokenStream, integer: bool) -> Option<TokenStream> {
        if !self.only(
            m,
            &["type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "enum", "const"],
        ) {
            return None;
        }
        // Integers compare exactly as i128 against integral bounds; floats as f64 against bounds an
        // f64 holds exactly. Anything else goes the complete way.
        let value = if integer { quote!((#expr as i128)) } else { quote!((#expr as f64)) };
        let bound = |v: &Value| -> Option<TokenStream> {
            if integer {
                let i = exact_integer(v)?;
                Some(quote!(#i))
            } else {
                let f = v.as_f64()?;
                let exact = exact_integer(v).is_none_or(|i| i.unsigned_abs() <= 1 << 53);
                exact.then(|| quote!(#f))
            }
        };
        let mut out = TokenStream::new();
        if !integer {
            // JSON has no NaN nor infinity: such a float cannot be sent at all.
            out.extend(quote! { if !(#expr as f64).is_finite() { return false; } });
        }
        for (key, op) in [
            ("minimum", quote!(<)),
            ("maximum", quote!(>)),
            ("exclusiveMinimum", quote!(<=)),
            ("exclusiveMaximum", quote!(>=)),
        ] {
            match m.get(key) {
                None => {}
                // Draft 4's boolean form: the bound itself is in `minimum`/`maximum`.
                Some(Value::Bool(_)) => return None,
                Some(v) => {
                    let b = bound(v)?;
                    out.extend(quote! { if #value #op #b { return false; } });
                }
            }
        }
        if let Some(d) = m.get("multipleOf") {
            // Only integer divisors of integers are exact here; decimals go the complete way.
            let d = exact_integer(d).filter(|d| integer && *d > 0)?;
            out.extend(quote! { if #value % #d != 0 { return false; } });
        }
        if let Some(vs) = listed(m)? {
            let listed: Vec<TokenStream> = vs.iter().map(|v| bound(v)).collect::<Option<_>>()?;
            out.extend(quote! { if ![#(#listed),*].contains(&#value) { return false; } });
        }
        Some(out)
    }

    fn array(
        &mut self,
        m: &Map<String, Value>,
        pointer: &str,
        inner: &syn::Type,
        expr: TokenStream,
    ) -> Option<TokenStream> {
        if !self.only(m, &["type", "items", "minItems", "maxItems", "uniqueItems"]) {
            return None;
        }
        let mut out = counts(m, "minItems", "maxItems", quote!(#expr.len()))?;
        if m.get("uniqueItems") == Some(&Value::Bool(true)) {
            // Typed equality is JSON equality for scalars; for objects it may not be.
            let (name, _) = segment(inner)?;
            let scalar = matches!(name.as_str(), "String" | "bool" | "i64" | "u64" | "i32" | "u32" | "f64")
                || matches!(self.items.get(&name), Some(Item::Enum(_)));
            if !scalar {
                return None;
            }
            out.extend(quote! {
                for (i, a) in #expr.iter().enumerate() {
                    if #expr[..i].iter().any(|b| b == a) { return false; }
                }
            });
        }
        if let Some(items) = m.get("items") {
            let item_check = self.check(items, &format!("{pointer}/items"), inner, quote!(item))?;
            if !item_check.is_empty() {
                out.extend(quote! { for item in #expr.iter() { #item_check } });
            }
        }
        Some(out)
    }

    fn map(
        &mut self,
        m: &Map<String, Value>,
        pointer: &str,
        inner: &syn::Type,
        expr: TokenStream,
    ) -> Option<TokenStream> {
        if !self.only(m, &["type", "additionalProperties", "minProperties", "maxProperties"]) {
            return None;
        }
        let mut out = counts(m, "minProperties", "maxProperties", quote!(#expr.len()))?;
        if let Some(extra) = m.get("additionalProperties") {
            let c = self.check(extra, &format!("{pointer}/additionalProperties"), inner, quote!(item))?;
            if !c.is_empty() {
                out.extend(quote! { for item in #expr.values() { #c } });
            }
        }
        Some(out)
    }

    /// The checks of a struct's fields against its object schema.
    fn struct_check(&mut self, node: &Value, pointer: &str, name: &str, expr: TokenStream) -> Option<TokenStream> {
        let Some(Item::Struct(s)) = self.items.get(name).cloned() else { return None };
        let syn::Fields::Named(fields) = &s.fields else { return None };
        let m = node.as_object()?;
        if !self.only(m, &["type", "properties", "required", "additionalProperties", "minProperties", "maxProperties"])
        {
            return None;
        }
        if !types(m).iter().all(|t| t == "object") {
            return None;
        }
        let closed = m.get("additionalProperties") == Some(&Value::Bool(false));
        match m.get("additionalProperties") {
            None | Some(Value::Bool(_)) => {}
            Some(_) => return None,
        }
        let required = required_names(m);
        let empty = Map::new();
        let props = m.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        // A required name `properties` does not describe would sit among the other properties.
        if required.iter().any(|r| !props.contains_key(r)) {
            return None;
        }
        let mut out = TokenStream::new();
        let mut counted = Vec::new();
        let mut seen = Vec::new();
        let named: Vec<&String> = props.keys().collect();
        for f in &fields.named {
            let ident = f.ident.as_ref()?;
            let json = json_name(f);
            let flattened =
                f.attrs.iter().any(|a| a.path().is_ident("serde") && quote!(#a).to_string().contains("flatten"));
            if flattened {
                // The properties the schema does not name: only where it lets any through.
                if closed {
                    return None;
                }
                // Built by hand, the map could hold a name the struct has a field for.
                out.extend(quote! { if [#(#named),*].iter().any(|k| #expr.#ident.contains_key(*k)) { return false; } });
                counted.push(quote!(#expr.#ident.len()));
                continue;
            }
            let schema = props.get(&json)?;
            seen.push(json.clone());
            let inner = format!("{pointer}/properties/{}", escape(&json));
            let (fname, args) = segment(&f.ty)?;
            if fname == "Option" {
                // Optional: absent is `None`, and `null` must not read as `None` (see `payload.rs`).
                let null_refused = f.attrs.iter().any(|a| quote!(#a).to_string().contains("deserialize_present"));
                if required.contains(&json) || !null_refused {
                    return None;
                }
                let c = self.check(schema, &inner, args.first()?, quote!(value))?;
                out.extend(quote! { if let Some(value) = &#expr.#ident { #c } });
                counted.push(quote!(usize::from(#expr.#ident.is_some())));
            } else {
                // A required property: serde must refuse the message without it, so no default.
                let defaulted =
                    f.attrs.iter().any(|a| a.path().is_ident("serde") && quote!(#a).to_string().contains("default"));
                if !required.contains(&json) || defaulted {
                    return None;
                }
                let c = self.check(schema, &inner, &f.ty, quote!(value))?;
                if !c.is_empty() {
                    out.extend(quote! { { let value = &#expr.#ident; #c } });
                }
                counted.push(quote!(1usize));
            }
        }
        // Every property the schema names must have its field.
        if props.keys().any(|k| !seen.contains(k)) {
            return None;
        }
        if m.contains_key("minProperties") || m.contains_key("maxProperties") {
            out.extend(counts(m, "minProperties", "maxProperties", quote!((0usize #(+ #counted)*)))?);
        }
        Some(out)
    }
}

/// The values `enum` or `const` lists: `Some(None)` when neither is there, `None` when the
/// schema holds both or a malformed `enum`.
fn listed(m: &Map<String, Value>) -> Option<Option<Vec<&Value>>> {
    match (m.get("enum"), m.get("const")) {
        (Some(Value::Array(vs)), None) => Some(Some(vs.iter().collect())),
        (None, Some(c)) => Some(Some(vec![c])),
        (None, None) => Some(None),
        _ => None,
    }
}

/// A size keyword (`minLength`, `maxItems`, …): `Some(None)` when absent, `None` when it is not a
/// whole number this code can check (the validator reads `2.0` as 2, and so does this).
fn size(m: &Map<String, Value>, key: &str) -> Option<Option<u64>> {
    match m.get(key) {
        None => Some(None),
        Some(v) => v
            .as_u64()
            .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1e15).map(|f| f as u64))
            .map(Some),
    }
}

/// A JSON number as an exact integer, when it is one.
fn exact_integer(v: &Value) -> Option<i128> {
    v.as_i64()
        .map(i128::from)
        .or_else(|| v.as_u64().map(i128::from))
        .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= (1u64 << 53) as f64).map(|f| f as i128))
}

/// The checks of a `min…`/`max…` pair of size keywords against `count`, an expression.
fn counts(m: &Map<String, Value>, min: &str, max: &str, count: TokenStream) -> Option<TokenStream> {
    let mut out = TokenStream::new();
    if let Some(n) = size(m, min)? {
        out.extend(quote! { if #count < #n as usize { return false; } });
    }
    if let Some(n) = size(m, max)? {
        out.extend(quote! { if #count > #n as usize { return false; } });
    }
    Some(out)
}
