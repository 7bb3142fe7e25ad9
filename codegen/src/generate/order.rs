//! Fields in the schema's order. typify sees the schema as a parsed JSON value, whose objects keep
//! their keys sorted, so its structs list fields alphabetically; a reader expects the order the
//! schema author wrote. The order is read from the files' text, for the structs whose schema can
//! be located there: the payload (the schema's root) and each `$ref`'d definition, wherever it was
//! written. Other structs (inline nested objects) keep typify's order.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::bundle::Origin;
use crate::ident::escape;

/// For each object of a JSON text, by JSON pointer, its keys in the order written.
fn key_orders(source: &str) -> BTreeMap<String, Vec<String>> {
    struct Walk<'a> {
        pointer: String,
        out: &'a mut BTreeMap<String, Vec<String>>,
    }
    impl<'de> DeserializeSeed<'de> for Walk<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Walk<'_> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("JSON")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut keys = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                let pointer = format!("{}/{}", self.pointer, escape(&key));
                map.next_value_seed(Walk { pointer, out: &mut *self.out })?;
                keys.push(key);
            }
            self.out.insert(self.pointer, keys);
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut i = 0;
            while seq
                .next_element_seed(Walk { pointer: format!("{}/{i}", self.pointer), out: &mut *self.out })?
                .is_some()
            {
                i += 1;
            }
            Ok(())
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
    }
    let mut out = BTreeMap::new();
    let mut de = serde_json::Deserializer::from_str(source);
    // The files were parsed already; a text that does not parse here just keeps typify's order.
    let walk = Walk { pointer: String::new(), out: &mut out };
    if walk.deserialize(&mut de).is_err() {
        out.clear();
    }
    out
}

/// Each file's key orders, read once per build however many schemas use the file.
#[derive(Default)]
pub(crate) struct KeyOrders {
    by_file: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

impl KeyOrders {
    /// The `properties` keys, in order, of the schema at `pointer` in file `display`.
    fn properties(&mut self, display: &str, text: &str, pointer: &str) -> Option<&Vec<String>> {
        let orders = self.by_file.entry(display.to_string()).or_insert_with(|| key_orders(text));
        orders.get(&format!("{pointer}/properties"))
    }

    /// Puts the fields of the payload struct (`payload`, written in `own`, shown as
    /// `own_display`) and of each definition's struct (`origins`) in the order their `properties`
    /// were written.
    pub(crate) fn apply(
        &mut self,
        file: &mut syn::File,
        payload: &str,
        (own_display, own): (&str, &str),
        origins: &BTreeMap<String, Origin>,
    ) {
        let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let places = std::iter::once((payload, own_display, own, "")).chain(
            origins.iter().map(|(k, o)| (k.as_str(), o.display.as_str(), o.source.as_str(), o.pointer.as_str())),
        );
        for (name, display, text, pointer) in places {
            if let Some(keys) = self.properties(display, text, pointer) {
                wanted.insert(name.to_string(), keys.clone());
            }
        }
        for item in &mut file.items {
            let syn::Item::Struct(s) = item else { continue };
            let Some(keys) = wanted.get(&s.ident.to_string()) else { continue };
            let syn::Fields::Named(fields) = &mut s.fields else { continue };
            let position = |f: &syn::Field| keys.iter().position(|k| *k == super::json_name(f)).unwrap_or(usize::MAX);
            let mut sorted: Vec<syn::Field> = std::mem::take(&mut fields.named).into_iter().collect();
            // Stable: fields the schema does not name (an open object's rest) stay last, as they were.
            sorted.sort_by_key(position);
            fields.named = sorted.into_iter().collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::key_orders;

    #[test]
    fn keys_come_in_the_order_written_at_every_depth() {
        let text = r#"{"z": 1, "properties": {"b": {}, "a": {"properties": {"y/1": 1, "x": [{"q": 1, "p": 2}]}}}}"#;
        let orders = key_orders(text);
        assert_eq!(orders[""], ["z", "properties"]);
        assert_eq!(orders["/properties"], ["b", "a"]);
        assert_eq!(orders["/properties/a/properties"], ["y/1", "x"]);
        assert_eq!(orders["/properties/a/properties/x/0"], ["q", "p"]);
        assert!(key_orders("{ not json").is_empty());
    }
}
