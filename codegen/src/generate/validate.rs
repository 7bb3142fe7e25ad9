//! Validation of the typed payload itself, without a `serde_json::Value`: a function that says
//! whether a decoded payload meets every keyword of its schema, for the decoders' fast path.
//!
//! It is generated only where the types and the schema correspond exactly (see [`super::exact`])
//! and every keyword in play has a check here; otherwise the contract keeps validating through the
//! `jsonschema` crate. A `false` never becomes an error by itself: the caller then takes the
//! complete path, which also says why. So the function must never say `true` for a payload the
//! schema refuses; where exactness is in doubt (a non-integer `multipleOf`, `uniqueItems` over
//! objects), it declines instead.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{Map, Value};

use super::json_name;
use crate::ident::{escape, field_name, is_keyword, module_name, unescape};
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

/// `impl crate::TypedCheck for <payload>` and the private `checks` module it calls, or `None`
/// when the payload cannot be checked typed.
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
    let mut gen = Gen::new(bundled, items);
    let ty: syn::Type = syn::parse_str(payload).ok()?;
    let (node, pointer) = gen.resolve(bundled, "")?;
    let entry = match gen.items.get(payload) {
        Some(Item::Struct(s)) if matches!(s.fields, syn::Fields::Named(_)) => {
            gen.struct_fn(payload, &node, &pointer)?
        }
        // A payload that is not a struct of fields gets a function of its own.
        _ => {
            let slot = gen.reserve();
            let name = gen.fn_name(payload);
            let body = gen.check(&node, &pointer, &ty, Operand::reference(quote!(v)))?;
            if body.is_empty() {
                None
            } else {
                gen.fns[slot] = Some(CheckFn { name: name.clone(), ty: ty.clone(), body });
                Some(name)
            }
        }
    };
    let payload = format_ident!("{payload}");
    let Some(entry) = entry else {
        return Some(quote! {
            impl crate::TypedCheck for #payload {
                fn typed_valid(&self) -> bool { true }
            }
        });
    };
    let module = gen.module(&entry);
    let doc = CHECKS_DOC.iter();
    Some(quote! {
        impl crate::TypedCheck for #payload {
            fn typed_valid(&self) -> bool { checks::#entry(self) }
        }
        #(#[doc = #doc])*
        mod checks {
            #(#module)*
        }
    })
}

/// The `checks` module's documentation.
const CHECKS_DOC: [&str; 2] = [
    " Whether a payload meets its schema, checked on its fields. `false` only sends it the",
    " complete way, through the validator, which says why.",
];

#[derive(Clone)]
enum Item {
    Struct(syn::ItemStruct),
    Enum(syn::ItemEnum),
    Alias(syn::Type),
}

/// A function of the `checks` module: `fn name(v: &ty) -> bool { body true }`.
struct CheckFn {
    name: syn::Ident,
    ty: syn::Type,
    body: TokenStream,
}

/// A struct's check function: the schema it follows, and whether it checks anything.
struct StructFn {
    pointer: String,
    name: syn::Ident,
    /// `None` while its fields are being read (a recursive type calls it from inside).
    checks_something: Option<bool>,
}

struct Gen<'a> {
    root: &'a Value,
    items: BTreeMap<String, Item>,
    /// Function names, one per struct, none of them a name the bodies bind.
    names: BTreeMap<String, syn::Ident>,
    /// Every function name given, and the names the bodies bind.
    taken: BTreeSet<String>,
    structs: BTreeMap<String, StructFn>,
    /// The module's functions in order of first use (the payload's first); `None` for one that
    /// checks nothing, or not yet made.
    fns: Vec<Option<CheckFn>>,
    /// The functions of the one-keyword schemas (`pattern`, `format`): by schema, their names.
    keyword_schemas: BTreeMap<String, syn::Ident>,
    /// How many loops the check being made is inside.
    loops: usize,
}

/// How generated code reaches a value: an expression, the references it is behind, and the smart
/// pointers (`Box`, `Sensitive`, a constrained string's newtype) under those. A method call
/// reaches the value through all of them; an operator needs them taken off.
#[derive(Clone)]
struct Operand {
    expr: TokenStream,
    refs: usize,
    pointers: usize,
}

impl Operand {
    /// A field (`v.name`) or a value.
    fn place(expr: TokenStream) -> Self {
        Operand { expr, refs: 0, pointers: 0 }
    }

    /// A binding of `&T` (`item`, an `Option`'s content).
    fn reference(expr: TokenStream) -> Self {
        Operand { expr, refs: 1, pointers: 0 }
    }

    fn through_pointer(&self) -> Self {
        Operand { pointers: self.pointers + 1, ..self.clone() }
    }

    /// Before `.method()`: auto-deref reaches the value.
    fn receiver(&self) -> &TokenStream {
        &self.expr
    }

    /// The value, for comparisons and arithmetic.
    fn value(&self) -> TokenStream {
        let expr = &self.expr;
        let stars = (0..self.refs + self.pointers).map(|_| quote!(*));
        quote!(#(#stars)* #expr)
    }

    /// `&T` exactly, for `contains`.
    fn by_ref(&self) -> TokenStream {
        match (self.refs, self.pointers) {
            (1, 0) => self.expr.clone(),
            _ => {
                let value = self.value();
                quote!(&#value)
            }
        }
    }

    /// An argument of `&T` (a check function's, `&str`): deref coercion reaches the value.
    fn arg(&self) -> TokenStream {
        let expr = &self.expr;
        if self.refs == 0 {
            quote!(&#expr)
        } else {
            expr.clone()
        }
    }
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

/// Names the function bodies bind: no function may take one.
const BOUND: [&str; 4] = ["v", "item", "value", "checks"];

/// The range of an integer type, as the check reads it (`NonZero…` through `get()`).
fn integer_range(name: &str) -> Option<(i128, i128)> {
    Some(match name {
        "i8" => (i8::MIN.into(), i8::MAX.into()),
        "i16" => (i16::MIN.into(), i16::MAX.into()),
        "i32" => (i32::MIN.into(), i32::MAX.into()),
        "i64" => (i64::MIN.into(), i64::MAX.into()),
        "u8" => (0, u8::MAX.into()),
        "u16" => (0, u16::MAX.into()),
        "u32" => (0, u32::MAX.into()),
        "u64" => (0, u64::MAX.into()),
        "NonZeroU8" => (1, u8::MAX.into()),
        "NonZeroU16" => (1, u16::MAX.into()),
        "NonZeroU32" => (1, u32::MAX.into()),
        "NonZeroU64" => (1, u64::MAX.into()),
        _ => return None,
    })
}

/// A number's type: an integer of this range, or `f64`.
#[derive(Clone, Copy)]
enum Numeric {
    Integer(i128, i128),
    Float,
}

/// An integer literal without suffix: the comparison gives it the field's type.
fn int_literal(i: i128) -> TokenStream {
    let abs = proc_macro2::Literal::u128_unsuffixed(i.unsigned_abs());
    if i < 0 {
        quote!(-#abs)
    } else {
        quote!(#abs)
    }
}

/// A float literal as people write it (`0.0`, `2.5`, `1e300`).
fn float_literal(f: f64) -> TokenStream {
    let abs: proc_macro2::Literal = format!("{:?}", f.abs()).parse().expect("a finite float is a literal");
    if f.is_sign_negative() && f != 0.0 {
        quote!(-#abs)
    } else {
        quote!(#abs)
    }
}

fn size_literal(n: u64) -> proc_macro2::Literal {
    proc_macro2::Literal::u64_unsuffixed(n)
}

impl<'a> Gen<'a> {
    fn new(root: &'a Value, items: BTreeMap<String, Item>) -> Self {
        let mut names = BTreeMap::new();
        let mut taken: BTreeSet<String> = BOUND.iter().map(|s| s.to_string()).collect();
        for (name, item) in &items {
            if let Item::Struct(s) = item {
                if matches!(s.fields, syn::Fields::Named(_)) {
                    names.insert(name.clone(), unique(&mut taken, &module_name(name)));
                }
            }
        }
        Gen {
            root,
            items,
            names,
            taken,
            structs: BTreeMap::new(),
            fns: Vec::new(),
            keyword_schemas: BTreeMap::new(),
            loops: 0,
        }
    }

    /// The name of the function of the payload when it is not a struct of fields.
    fn fn_name(&mut self, payload: &str) -> syn::Ident {
        unique(&mut self.taken, &module_name(payload))
    }

    /// A place among the module's functions, kept in order of first use.
    fn reserve(&mut self) -> usize {
        self.fns.push(None);
        self.fns.len() - 1
    }

    /// The module's items: imports, the functions (`entry` public to the version module), and
    /// the one-keyword schemas they use.
    fn module(&self, entry: &syn::Ident) -> Vec<TokenStream> {
        let mut out = Vec::new();
        if !self.keyword_schemas.is_empty() {
            out.push(quote! { use ::std::sync::OnceLock; });
            out.push(quote! { use crate::PayloadSchema; });
        }
        let used: BTreeSet<String> = self.fns.iter().flatten().filter_map(|f| segment(&f.ty)).map(|(n, _)| n).collect();
        let used = used.iter().map(|n| format_ident!("{n}"));
        out.push(quote! { use super::{#(#used),*}; });
        for CheckFn { name, ty, body } in self.fns.iter().flatten() {
            // Only the payload's function is called from outside.
            let vis = if name == entry { quote!(pub(super)) } else { TokenStream::new() };
            out.push(quote! { #vis fn #name(v: &#ty) -> bool { #body true } });
        }
        let mut keyword_schemas: Vec<_> = self.keyword_schemas.iter().collect();
        keyword_schemas.sort_by_key(|(_, name)| name.to_string());
        for (schema, name) in keyword_schemas {
            let schema = crate::embedded::raw_str(schema);
            out.push(quote! {
                fn #name() -> &'static PayloadSchema {
                    static SCHEMA: OnceLock<PayloadSchema> = OnceLock::new();
                    PayloadSchema::cached(&SCHEMA, #schema, &[])
                }
            });
        }
        out
    }

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

    /// The function checking struct `local` against `node`, made on first use: `Some(None)` when
    /// it would check nothing, `None` when the struct cannot be checked typed.
    fn struct_fn(&mut self, local: &str, node: &Value, pointer: &str) -> Option<Option<syn::Ident>> {
        if let Some(f) = self.structs.get(local) {
            // One function per struct: the same struct under another schema is not checked.
            if f.pointer != pointer {
                return None;
            }
            return Some(f.checks_something.unwrap_or(true).then(|| f.name.clone()));
        }
        let name = self.names.get(local)?.clone();
        self.structs.insert(
            local.to_string(),
            StructFn { pointer: pointer.to_string(), name: name.clone(), checks_something: None },
        );
        let slot = self.reserve();
        // Its body starts outside any loop, wherever the struct is met first.
        let loops = std::mem::take(&mut self.loops);
        let body = self.struct_check(node, pointer, local);
        self.loops = loops;
        let body = body?;
        let checks_something = !body.is_empty();
        self.structs.get_mut(local).expect("inserted above").checks_something = Some(checks_something);
        if !checks_something {
            return Some(None);
        }
        let ty = format_ident!("{local}");
        self.fns[slot] = Some(CheckFn { name: name.clone(), ty: syn::parse_quote!(#ty), body });
        Some(Some(name))
    }

    /// Statements that `return false` when `operand` (a value of type `ty`) breaks `node`.
    fn check(&mut self, node: &Value, pointer: &str, ty: &syn::Type, operand: Operand) -> Option<TokenStream> {
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
            ("Box" | "Sensitive", [inner]) => self.check(&node, &pointer, inner, operand.through_pointer()),
            ("Option", _) => None, // a required property may be null: absent and null are one `None`
            ("Value", []) => {
                let any = only_annotations(&m);
                any.then(TokenStream::new)
            }
            ("String", []) => self.string(&m, &pointer, &operand),
            ("f64", []) => self.number(&m, &operand, Numeric::Float),
            (integer, []) if integer_range(integer).is_some() => {
                let (lo, hi) = integer_range(integer)?;
                let operand = if integer.starts_with("NonZero") {
                    let receiver = operand.receiver();
                    Operand::place(quote!(#receiver.get()))
                } else {
                    operand
                };
                self.number(&m, &operand, Numeric::Integer(lo, hi))
            }
            ("bool", []) => self.only(&m, &["type"]).then(TokenStream::new),
            ("Vec", [inner]) => self.array(&m, &pointer, inner, &operand),
            ("HashMap", [_, inner]) => self.map(&m, &pointer, inner, &operand),
            (local, []) => match self.items.get(local).cloned()? {
                Item::Alias(t) => self.check(&node, &pointer, &t, operand),
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
                        self.check(&node, &pointer, &inner, operand.through_pointer())
                    }
                    syn::Fields::Named(_) => match self.struct_fn(local, &node, &pointer)? {
                        Some(f) => {
                            let arg = operand.arg();
                            Some(quote! { if !#f(#arg) { return false; } })
                        }
                        None => Some(TokenStream::new()),
                    },
                    _ => None,
                },
            },
            _ => None,
        }
    }

    fn only(&self, m: &Map<String, Value>, allowed: &[&str]) -> bool {
        m.keys().all(|k| allowed.contains(&k.as_str()) || is_annotation(k))
    }

    /// A check through a one-keyword schema, compiled once (and once for all its uses), with the
    /// validator's own semantics.
    fn keyword_validator(&mut self, pointer: &str, keyword: &str, value: &Value, operand: &Operand) -> TokenStream {
        let schema = serde_json::json!({ keyword: value }).to_string();
        if !self.keyword_schemas.contains_key(&schema) {
            // A format by its name (`email_format`), a pattern by where it applies.
            let base = match value.as_str().map(field_name) {
                Some(format) if keyword == "format" && !format.is_empty() => format!("{format}_format"),
                _ => keyword_fn_name(pointer, keyword),
            };
            let name = unique(&mut self.taken, &base);
            self.keyword_schemas.insert(schema.clone(), name);
        }
        let name = &self.keyword_schemas[&schema];
        let arg = operand.arg();
        quote! { if !#name().accepts_str(#arg) { return false; } }
    }

    fn string(&mut self, m: &Map<String, Value>, pointer: &str, operand: &Operand) -> Option<TokenStream> {
        if !self.only(m, &["type", "minLength", "maxLength", "pattern", "format", "enum", "const"]) {
            return None;
        }
        let text = operand.receiver();
        let mut out = TokenStream::new();
        // Lengths count characters, of 1 to 4 bytes each.
        match size(m, "minLength")? {
            None | Some(0) => {}
            Some(1) => out.extend(quote! { if #text.is_empty() { return false; } }),
            // Counting stops at the bound, however long the text.
            Some(n) => {
                let n = size_literal(n);
                out.extend(quote! { if #text.chars().take(#n).count() < #n { return false; } });
            }
        }
        match size(m, "maxLength")? {
            None => {}
            Some(0) => out.extend(quote! { if !#text.is_empty() { return false; } }),
            // No more bytes than the bound: no more characters either, without counting them.
            Some(n) => {
                let n = size_literal(n);
                out.extend(quote! { if #text.len() > #n && #text.chars().count() > #n { return false; } });
            }
        }
        for key in ["pattern", "format"] {
            if let Some(v) = m.get(key) {
                out.extend(self.keyword_validator(pointer, key, v, operand));
            }
        }
        if let Some(vs) = listed(m)? {
            let strings: Vec<&str> = vs.iter().filter_map(|v| v.as_str()).collect();
            out.extend(match strings.as_slice() {
                [] => return None,
                [one] => quote! { if #text.as_str() != #one { return false; } },
                _ => quote! { if ![#(#strings),*].contains(&#text.as_str()) { return false; } },
            });
        }
        Some(out)
    }

    fn number(&self, m: &Map<String, Value>, operand: &Operand, numeric: Numeric) -> Option<TokenStream> {
        if !self.only(
            m,
            &["type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "enum", "const"],
        ) {
            return None;
        }
        let value = operand.value();
        let mut out = TokenStream::new();
        if let Numeric::Float = numeric {
            // JSON has no NaN nor infinity: such a float cannot be sent at all.
            let receiver = operand.receiver();
            out.extend(quote! { if !#receiver.is_finite() { return false; } });
        }
        for (key, op) in [
            ("minimum", Bound::Below),
            ("maximum", Bound::Above),
            ("exclusiveMinimum", Bound::AtOrBelow),
            ("exclusiveMaximum", Bound::AtOrAbove),
        ] {
            match m.get(key) {
                None => {}
                // Draft 4's boolean form: the bound itself is in `minimum`/`maximum`.
                Some(Value::Bool(_)) => return None,
                Some(v) => out.extend(op.check(&value, v, numeric)?),
            }
        }
        if let Some(d) = m.get("multipleOf") {
            // Only integer divisors of integers are exact here; decimals go the complete way.
            let Numeric::Integer(_, hi) = numeric else { return None };
            let d = exact_integer(d).filter(|d| *d > 0 && *d <= hi)?;
            let d = int_literal(d);
            out.extend(quote! { if #value % #d != 0 { return false; } });
        }
        if let Some(vs) = listed(m)? {
            let mut listed = Vec::new();
            for v in vs {
                match numeric {
                    // A value outside the type's range is never the field's.
                    Numeric::Integer(lo, hi) => match exact_integer(v) {
                        Some(i) if (lo..=hi).contains(&i) => listed.push(int_literal(i)),
                        Some(_) => {}
                        None => return None,
                    },
                    Numeric::Float => listed.push(float_bound(v)?),
                }
            }
            let by_ref = operand.by_ref();
            out.extend(match listed.as_slice() {
                [] => return None,
                [one] => quote! { if #value != #one { return false; } },
                _ => quote! { if ![#(#listed),*].contains(#by_ref) { return false; } },
            });
        }
        Some(out)
    }

    fn array(
        &mut self,
        m: &Map<String, Value>,
        pointer: &str,
        inner: &syn::Type,
        operand: &Operand,
    ) -> Option<TokenStream> {
        if !self.only(m, &["type", "items", "minItems", "maxItems", "uniqueItems"]) {
            return None;
        }
        let list = operand.receiver().clone();
        let mut out = sizes(m, "minItems", "maxItems", &list)?;
        if m.get("uniqueItems") == Some(&Value::Bool(true)) {
            // Typed equality is JSON equality for scalars; for objects it may not be.
            let (name, _) = segment(inner)?;
            let scalar = matches!(name.as_str(), "String" | "bool" | "i64" | "u64" | "i32" | "u32" | "f64")
                || matches!(self.items.get(&name), Some(Item::Enum(_)));
            if !scalar {
                return None;
            }
            out.extend(quote! {
                if #list.iter().enumerate().any(|(i, a)| #list[..i].contains(a)) { return false; }
            });
        }
        if let Some(items) = m.get("items") {
            let item = self.loop_binding();
            self.loops += 1;
            let c = self.check(items, &format!("{pointer}/items"), inner, Operand::reference(quote!(#item)));
            self.loops -= 1;
            let c = c?;
            if !c.is_empty() {
                out.extend(quote! { for #item in #list.iter() { #c } });
            }
        }
        Some(out)
    }

    fn map(
        &mut self,
        m: &Map<String, Value>,
        pointer: &str,
        inner: &syn::Type,
        operand: &Operand,
    ) -> Option<TokenStream> {
        if !self.only(m, &["type", "additionalProperties", "minProperties", "maxProperties"]) {
            return None;
        }
        let map = operand.receiver().clone();
        let mut out = sizes(m, "minProperties", "maxProperties", &map)?;
        if let Some(extra) = m.get("additionalProperties") {
            let item = self.loop_binding();
            self.loops += 1;
            let c =
                self.check(extra, &format!("{pointer}/additionalProperties"), inner, Operand::reference(quote!(#item)));
            self.loops -= 1;
            let c = c?;
            if !c.is_empty() {
                out.extend(quote! { for #item in #map.values() { #c } });
            }
        }
        Some(out)
    }

    /// `item`, and in a loop inside a loop `item2`, …: none of them a function's name.
    fn loop_binding(&self) -> syn::Ident {
        let mut name = match self.loops {
            0 => "item".to_string(),
            n => format!("item{}", n + 1),
        };
        while self.loops > 0 && self.taken.contains(&name) {
            name.push('_');
        }
        format_ident!("{name}")
    }

    /// The checks of a struct's fields (of `v`) against its object schema.
    fn struct_check(&mut self, node: &Value, pointer: &str, name: &str) -> Option<TokenStream> {
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
        // The members a payload has: the required ones, and those counted at run time.
        let mut present = 0u64;
        let mut counted: Vec<TokenStream> = Vec::new();
        let mut optional = 0u64;
        let mut open_ended = false;
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
                if !named.is_empty() {
                    out.extend(quote! { if [#(#named),*].iter().any(|k| v.#ident.contains_key(*k)) { return false; } });
                }
                counted.push(quote!(v.#ident.len()));
                open_ended = true;
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
                let binding = self.option_binding(ident);
                let c = self.check(schema, &inner, args.first()?, Operand::reference(quote!(#binding)))?;
                if !c.is_empty() {
                    out.extend(quote! { if let Some(#binding) = &v.#ident { #c } });
                }
                counted.push(quote!(usize::from(v.#ident.is_some())));
                optional += 1;
            } else {
                // A required property: serde must refuse the message without it, so no default.
                let defaulted =
                    f.attrs.iter().any(|a| a.path().is_ident("serde") && quote!(#a).to_string().contains("default"));
                if !required.contains(&json) || defaulted {
                    return None;
                }
                out.extend(self.check(schema, &inner, &f.ty, Operand::place(quote!(v.#ident)))?);
                present += 1;
            }
        }
        // Every property the schema names must have its field.
        if props.keys().any(|k| !seen.contains(k)) {
            return None;
        }
        let count = if present == 0 && !counted.is_empty() {
            quote!(#(#counted)+*)
        } else {
            let present = size_literal(present);
            quote!(#present #(+ #counted)*)
        };
        if let Some(n) = size(m, "minProperties")? {
            // Fewer than the required ones is never the case.
            if n > present {
                if counted.is_empty() {
                    return None;
                }
                let n = size_literal(n);
                out.extend(quote! { if #count < #n { return false; } });
            }
        }
        if let Some(n) = size(m, "maxProperties")? {
            // More than there are fields is never the case.
            if open_ended || present + optional > n {
                if present > n {
                    return None;
                }
                let n = size_literal(n);
                out.extend(quote! { if #count > #n { return false; } });
            }
        }
        Some(out)
    }

    /// The name an optional field's value is bound to: the field's own, unless a function has it.
    fn option_binding(&self, field: &syn::Ident) -> syn::Ident {
        let plain = field.to_string();
        let plain = plain.trim_start_matches("r#");
        if self.taken.contains(plain) {
            format_ident!("value")
        } else {
            field.clone()
        }
    }
}

/// A comparison with a bound: the operator that makes the value break it.
#[derive(Clone, Copy)]
enum Bound {
    /// `minimum`: smaller breaks it.
    Below,
    /// `maximum`: larger breaks it.
    Above,
    /// `exclusiveMinimum`: equal or smaller.
    AtOrBelow,
    /// `exclusiveMaximum`: equal or larger.
    AtOrAbove,
}

impl Bound {
    /// `if value <op> bound { return false; }`; nothing when no value of the type breaks it, and
    /// `None` (not checked typed) when every value does or the bound is not exact.
    fn check(self, value: &TokenStream, bound: &Value, numeric: Numeric) -> Option<TokenStream> {
        let op = match self {
            Bound::Below => quote!(<),
            Bound::Above => quote!(>),
            Bound::AtOrBelow => quote!(<=),
            Bound::AtOrAbove => quote!(>=),
        };
        let literal = match numeric {
            Numeric::Float => float_bound(bound)?,
            Numeric::Integer(lo, hi) => {
                let b = exact_integer(bound)?;
                let (never, always) = match self {
                    Bound::Below => (b <= lo, b > hi),
                    Bound::Above => (b >= hi, b < lo),
                    Bound::AtOrBelow => (b < lo, b >= hi),
                    Bound::AtOrAbove => (b > hi, b <= lo),
                };
                if never {
                    return Some(TokenStream::new());
                }
                if always {
                    return None;
                }
                int_literal(b)
            }
        };
        Some(quote! { if #value #op #literal { return false; } })
    }
}

/// A bound an `f64` holds exactly, as a literal.
fn float_bound(v: &Value) -> Option<TokenStream> {
    let f = v.as_f64()?;
    let exact = exact_integer(v).is_none_or(|i| i.unsigned_abs() <= 1 << 53);
    exact.then(|| float_literal(f))
}

/// A function name from `base` that no other in `taken` has; it joins them.
fn unique(taken: &mut BTreeSet<String>, base: &str) -> syn::Ident {
    let base = if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{base}")
    } else {
        base.to_string()
    };
    let base = if is_keyword(&base) { format!("{base}_") } else { base };
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}_{n}");
        n += 1;
    }
    format_ident!("{name}")
}

/// `payment_cards_item_number_pattern`: where in the schema, and which keyword.
fn keyword_fn_name(pointer: &str, keyword: &str) -> String {
    let mut words = Vec::new();
    let mut tokens = pointer.split('/').skip(1).map(unescape).peekable();
    while let Some(token) = tokens.next() {
        match token.as_str() {
            "properties" | "definitions" | "$defs" => {
                if let Some(name) = tokens.next() {
                    words.push(field_name(&name));
                }
            }
            "items" => words.push("item".to_string()),
            "additionalProperties" => words.push("value".to_string()),
            other => words.push(field_name(other)),
        }
    }
    words.retain(|w| !w.is_empty());
    if words.is_empty() {
        words.push("payload".to_string());
    }
    words.push(keyword.to_string());
    words.join("_")
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

/// The checks of a `min…`/`max…` pair of size keywords on `collection` (a `Vec` or a map).
fn sizes(m: &Map<String, Value>, min: &str, max: &str, collection: &TokenStream) -> Option<TokenStream> {
    let mut out = TokenStream::new();
    match size(m, min)? {
        None | Some(0) => {}
        Some(1) => out.extend(quote! { if #collection.is_empty() { return false; } }),
        Some(n) => {
            let n = size_literal(n);
            out.extend(quote! { if #collection.len() < #n { return false; } });
        }
    }
    match size(m, max)? {
        None => {}
        Some(0) => out.extend(quote! { if !#collection.is_empty() { return false; } }),
        Some(n) => {
            let n = size_literal(n);
            out.extend(quote! { if #collection.len() > #n { return false; } });
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound(b: Bound, value: Value, range: (i128, i128)) -> Option<String> {
        b.check(&quote!(v.n), &value, Numeric::Integer(range.0, range.1)).map(|t| t.to_string())
    }

    #[test]
    fn a_bound_is_checked_only_where_a_value_of_the_type_can_break_it() {
        let u8s = (0, 255);
        assert_eq!(bound(Bound::Below, 0.into(), u8s).as_deref(), Some(""));
        assert_eq!(bound(Bound::Above, 300.into(), u8s).as_deref(), Some(""));
        assert_eq!(bound(Bound::AtOrBelow, (-1).into(), u8s).as_deref(), Some(""));
        assert_eq!(bound(Bound::Below, 1.into(), u8s).as_deref(), Some("if v . n < 1 { return false ; }"));
        assert_eq!(bound(Bound::Below, (-5).into(), (-128, 127)).as_deref(), Some("if v . n < - 5 { return false ; }"));
        // Every value breaks it: left to the validator.
        assert_eq!(bound(Bound::Below, 300.into(), u8s), None);
        assert_eq!(bound(Bound::AtOrAbove, 0.into(), u8s), None);
    }

    #[test]
    fn a_float_bound_reads_as_written() {
        let check = |v: Value| Bound::Below.check(&quote!(v.x), &v, Numeric::Float).map(|t| t.to_string());
        assert_eq!(check(0.into()).as_deref(), Some("if v . x < 0.0 { return false ; }"));
        assert_eq!(check((-1.5).into()).as_deref(), Some("if v . x < - 1.5 { return false ; }"));
        assert_eq!(check(1e300.into()).as_deref(), Some("if v . x < 1e300 { return false ; }"));
    }

    #[test]
    fn a_pattern_is_named_after_where_it_applies() {
        assert_eq!(
            keyword_fn_name("/properties/paymentCards/items/properties/number", "pattern"),
            "payment_cards_item_number_pattern"
        );
        assert_eq!(
            keyword_fn_name("/definitions/OrderItem/properties/itemId", "pattern"),
            "order_item_item_id_pattern"
        );
        assert_eq!(keyword_fn_name("", "pattern"), "payload_pattern");
    }
}
