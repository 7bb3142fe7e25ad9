//! Shared definitions, generated once: a type that typify makes for a definition of another file
//! (`_shared/commerce.json#/$defs/OrderItem`) moves out of each version's module into
//! `shared::<file>` (`shared::commerce::OrderItem`), and the version re-exports it, so that every
//! schema that refers to the definition holds the same Rust type.
//!
//! typify sees each bundled schema on its own, so the move is checked: a type moves only where its
//! code, and that of every type it names, is the same in every schema that uses it. A definition
//! that comes out differently (another name in one bundle, say) stays a type of that version.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};

use crate::bundle::Origin;
use crate::ident::{is_keyword, module_name};

/// The shared types found so far, by module; filled version by version in registry order, so
/// that the output does not depend on anything but the registry.
#[derive(Default)]
pub(crate) struct SharedTypes {
    /// Module → its types in order of first use, each with its items.
    modules: BTreeMap<String, Vec<(String, Vec<syn::Item>)>>,
    /// Type → (module, its code as text), for the check of later uses.
    types: BTreeMap<String, (String, String)>,
}

impl SharedTypes {
    /// Moves, out of one version's `file`, the types of the definitions it took from other files
    /// (`origins`, the bundle's; `own` is the version's own file), leaving `pub use`s behind.
    pub(crate) fn take(&mut self, file: &mut syn::File, origins: &BTreeMap<String, Origin>, own: &str) {
        let named = type_items(file);
        let mut moves: BTreeMap<String, String> = BTreeMap::new();
        for (key, origin) in origins {
            if origin.display == own || !named.contains_key(key.as_str()) {
                continue;
            }
            let module = file_module(&origin.display);
            let closure = closure(file, &named, key);
            // Every type it names goes along, to the definition's module unless it is a shared
            // definition of its own; one that would not come out the same keeps them all here.
            let planned: Vec<(String, String)> = closure
                .into_iter()
                .map(|t| {
                    let m = origins
                        .get(&t)
                        .filter(|o| o.display != own)
                        .map(|o| file_module(&o.display))
                        .unwrap_or_else(|| module.clone());
                    (t, m)
                })
                .collect();
            let fits = planned.iter().all(|(t, m)| {
                let text = items_text(file, &named, t);
                // typify's `defaults` module and `super::` paths belong to the version's module.
                !text.contains("defaults ::")
                    && !text.contains("super ::")
                    && self.types.get(t).is_none_or(|(known_m, known)| known_m == m && *known == text)
                    && moves.get(t).is_none_or(|planned_m| planned_m == m)
            });
            if fits {
                moves.extend(planned);
            }
        }
        if moves.is_empty() {
            return;
        }
        let mut kept = Vec::new();
        let mut taken: BTreeMap<String, Vec<syn::Item>> = BTreeMap::new();
        for item in std::mem::take(&mut file.items) {
            match owner(&item, &named).filter(|t| moves.contains_key(t)) {
                Some(t) => taken.entry(t).or_default().push(item),
                None => kept.push(item),
            }
        }
        for (t, m) in &moves {
            let module = format_ident!("{m}");
            let ident = format_ident!("{t}");
            kept.push(syn::parse_quote! { pub use super::super::shared::#module::#ident; });
            let items = taken.remove(t).unwrap_or_default();
            if !self.types.contains_key(t) {
                let text = items.iter().map(|i| i.to_token_stream().to_string()).collect::<Vec<_>>().join(" ");
                self.types.insert(t.clone(), (m.clone(), text));
                self.modules.entry(m.clone()).or_default().push((t.clone(), items));
            }
        }
        file.items = kept;
    }

    /// `pub mod shared { pub mod commerce { … } }`, or nothing when no type is shared.
    pub(crate) fn tokens(&self) -> TokenStream {
        if self.modules.is_empty() {
            return TokenStream::new();
        }
        let modules = self.modules.iter().map(|(m, types)| {
            let module = format_ident!("{m}");
            let own: BTreeSet<&str> = types.iter().map(|(t, _)| t.as_str()).collect();
            // Types of other shared files that these name.
            let mut uses = BTreeSet::new();
            for item in types.iter().flat_map(|(_, items)| items) {
                for ident in idents(item.to_token_stream()) {
                    if let Some((other, _)) = self.types.get(&ident).filter(|(other, _)| other != m) {
                        if !own.contains(ident.as_str()) {
                            uses.insert((other.clone(), ident));
                        }
                    }
                }
            }
            let uses = uses.iter().map(|(other, t)| {
                let (other, t) = (format_ident!("{other}"), format_ident!("{t}"));
                quote! { use super::#other::#t; }
            });
            let items = types.iter().flat_map(|(_, items)| items);
            let doc = format!(" The definitions of `{m}` that the registry's schemas refer to, generated once.");
            quote! {
                #[doc = #doc]
                pub mod #module {
                    #(#uses)*
                    #(#items)*
                }
            }
        });
        quote! {
            /// Definitions of the registry's shared files, one module per file: every schema that
            /// refers to one of them holds the same type, re-exported in its version's module.
            pub mod shared {
                #(#modules)*
            }
        }
    }
}

/// `schemas/_shared/commerce.json` → `commerce`; `schemas/vendor/geo/point.json` → `vendor_geo_point`.
fn file_module(display: &str) -> String {
    let inner = display.split_once('/').map_or(display, |(_, rest)| rest);
    let inner = inner.strip_prefix("_shared/").unwrap_or(inner);
    let inner = inner.strip_suffix(".json").unwrap_or(inner);
    let name = inner.split('/').map(module_name).collect::<Vec<_>>().join("_");
    let name: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    match name.chars().next() {
        None => "shared_file".into(),
        Some(c) if c.is_ascii_digit() => format!("file_{name}"),
        _ if is_keyword(&name) => format!("{name}_"),
        _ => name,
    }
}

/// The type an item declares: a struct, enum or alias.
fn declared(item: &syn::Item) -> Option<String> {
    match item {
        syn::Item::Struct(s) => Some(s.ident.to_string()),
        syn::Item::Enum(e) => Some(e.ident.to_string()),
        syn::Item::Type(t) => Some(t.ident.to_string()),
        _ => None,
    }
}

/// The type of the file an item belongs to: the one it declares, or the one an `impl` is for,
/// also where that is a foreign type (`impl From<OrderItemItemId> for String`): such an impl goes
/// where its type goes, or two copies would conflict.
fn owner(item: &syn::Item, named: &BTreeMap<String, usize>) -> Option<String> {
    let syn::Item::Impl(i) = item else { return declared(item) };
    let single = |ty: &syn::Type| match ty {
        syn::Type::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            Some(p.path.segments[0].ident.to_string())
        }
        _ => None,
    };
    if let Some(t) = single(&i.self_ty).filter(|t| named.contains_key(t)) {
        return Some(t);
    }
    let (path, _) = i.trait_.as_ref()?;
    idents(path.to_token_stream()).into_iter().find(|t| named.contains_key(t))
}

/// The types the file declares, with their declaring items' positions.
fn type_items(file: &syn::File) -> BTreeMap<String, usize> {
    file.items.iter().enumerate().filter_map(|(n, i)| Some((declared(i)?, n))).collect()
}

/// The code of type `t`: its declaration and impls, as text.
fn items_text(file: &syn::File, named: &BTreeMap<String, usize>, t: &str) -> String {
    file.items
        .iter()
        .filter(|i| owner(i, named).as_deref() == Some(t))
        .map(|i| i.to_token_stream().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `root` and every type of the file its code names, transitively.
fn closure(file: &syn::File, named: &BTreeMap<String, usize>, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::from([root.to_string()]);
    let mut todo = vec![root.to_string()];
    while let Some(t) = todo.pop() {
        for item in file.items.iter().filter(|i| owner(i, named).as_deref() == Some(t.as_str())) {
            for ident in idents(item.to_token_stream()) {
                if named.contains_key(&ident) && seen.insert(ident.clone()) {
                    todo.push(ident);
                }
            }
        }
    }
    seen
}

/// Every identifier in `tokens`, nested groups included.
fn idents(tokens: TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for tree in tokens {
        match tree {
            TokenTree::Ident(i) => out.push(i.to_string()),
            TokenTree::Group(g) => out.extend(idents(g.stream())),
            _ => {}
        }
    }
    out
}
