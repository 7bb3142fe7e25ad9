//! What the generated payload types share, written once for the crate rather than once per schema
//! version: the error of typify's conversions, the wrapper that masks a sensitive value, and the
//! encoding of numbers that keeps integers integers.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize, Serializer};

/// Why a string is not one of a generated enum's values (its `FromStr` and `TryFrom` impls), or,
/// with refined types on, why a value does not meet its newtype's bounds.
///
/// One type for the whole crate, where typify would write an `error` module into every schema
/// version:
///
/// ```
/// let err = events::ConversionError::from("invalid value");
/// assert_eq!(err.to_string(), "invalid value");
/// let _: &dyn std::error::Error = &err;
/// ```
pub struct ConversionError(Cow<'static, str>);

impl std::error::Error for ConversionError {}

impl fmt::Display for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl From<&'static str> for ConversionError {
    fn from(value: &'static str) -> Self {
        Self(value.into())
    }
}

impl From<String> for ConversionError {
    fn from(value: String) -> Self {
        Self(value.into())
    }
}

/// A value the schema marks `"x-sensitive": true`: its `Debug` prints `<redacted>`, wherever it is
/// printed, while it encodes, compares and derefs as the value itself.
///
/// ```
/// use events::Sensitive;
/// let email: Sensitive<String> = "ada@example.com".into();
/// assert_eq!(format!("{email:?}"), "<redacted>");
/// assert_eq!(email.as_str(), "ada@example.com");
/// assert_eq!(serde_json::to_string(&email).unwrap(), "\"ada@example.com\"");
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sensitive<T>(pub T);

impl<T> Sensitive<T> {
    /// The value, unwrapped.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::runtime::redact::MASK)
    }
}

impl<T> Deref for Sensitive<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Sensitive<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Sensitive(value)
    }
}

impl From<&str> for Sensitive<String> {
    fn from(value: &str) -> Self {
        Sensitive(value.to_string())
    }
}

impl crate::PayloadSchema {
    /// The schema compiled once into `cell`. The generated contracts and typed checks call this
    /// rather than `cell.get_or_init(|| …)`, whose closure would instantiate `OnceLock`'s code once
    /// per call site.
    #[doc(hidden)]
    pub fn cached(
        cell: &'static OnceLock<crate::PayloadSchema>,
        schema_json: &'static str,
        vendored: &'static [(&'static str, &'static str)],
    ) -> &'static crate::PayloadSchema {
        cell.get_or_init(|| {
            if vendored.is_empty() {
                crate::PayloadSchema::compile(schema_json)
            } else {
                crate::PayloadSchema::compile_vendored(schema_json, vendored)
            }
        })
    }
}

/// Where a JSON number with no fraction must be written as an integer: payload fields of type
/// `f64` (a schema's `"type": "number"`), and what holds them.
#[doc(hidden)]
pub trait IntegralNumbers {
    /// Serializes `self`, each `f64` with no fraction written as an integer.
    fn serialize_integral<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;
}

/// The largest magnitude below which every integer is an `f64` exactly: past it, an integer
/// would print digits the number does not hold.
const EXACT: f64 = 9_007_199_254_740_992.0;

impl IntegralNumbers for f64 {
    fn serialize_integral<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let v = *self;
        // `-0.0` keeps its sign, which an integer cannot.
        if v.fract() == 0.0 && v.abs() <= EXACT && !(v == 0.0 && v.is_sign_negative()) {
            serializer.serialize_i64(v as i64)
        } else {
            serializer.serialize_f64(v)
        }
    }
}

/// A wrapper that serializes its value with [`IntegralNumbers`].
struct Integral<'a, T: ?Sized>(&'a T);

impl<T: IntegralNumbers + ?Sized> Serialize for Integral<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_integral(serializer)
    }
}

impl<T: IntegralNumbers> IntegralNumbers for Option<T> {
    fn serialize_integral<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Some(v) => serializer.serialize_some(&Integral(v)),
            None => serializer.serialize_none(),
        }
    }
}

impl<T: IntegralNumbers> IntegralNumbers for Box<T> {
    fn serialize_integral<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize_integral(serializer)
    }
}

impl<T: IntegralNumbers> IntegralNumbers for Sensitive<T> {
    fn serialize_integral<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_integral(serializer)
    }
}

impl<T: IntegralNumbers> IntegralNumbers for Vec<T> {
    fn serialize_integral<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(Integral))
    }
}

impl<K: Serialize, T: IntegralNumbers, H> IntegralNumbers for HashMap<K, T, H> {
    fn serialize_integral<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter().map(|(k, v)| (k, Integral(v))))
    }
}

impl<K: Serialize, T: IntegralNumbers> IntegralNumbers for BTreeMap<K, T> {
    fn serialize_integral<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter().map(|(k, v)| (k, Integral(v))))
    }
}

/// `#[serde(serialize_with)]` of the generated fields that hold `f64`s: a number a message wrote
/// as `100` encodes back as `100`, not `100.0`.
#[doc(hidden)]
pub fn serialize_integral<T: IntegralNumbers, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    value.serialize_integral(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_with_no_fraction_encode_as_integers() {
        let text = |v: f64| serde_json::to_string(&Integral(&v)).unwrap();
        assert_eq!(text(100.0), "100");
        assert_eq!(text(-3.0), "-3");
        assert_eq!(text(0.5), "0.5");
        assert_eq!(text(-0.0), "-0.0");
        assert_eq!(text(1e300), "1e+300");
        assert_eq!(text(EXACT), "9007199254740992");
        assert_eq!(serde_json::to_string(&Integral(&vec![Some(2.0), None])).unwrap(), "[2,null]");
        let map = BTreeMap::from([("a".to_string(), 1.0), ("b".to_string(), 1.5)]);
        assert_eq!(serde_json::to_string(&Integral(&map)).unwrap(), r#"{"a":1,"b":1.5}"#);
    }
}
