//! Naming rules, in one place: how schema ids, contract names, definitions and JSON pointer
//! tokens become Rust names and back. Every step of the pipeline imports them from here, so that
//! the checks made before generation and the code generated agree on every name.

/// Module names the host crate keeps for itself: its runtime, and the module holding this code.
pub const RESERVED_MODULES: [&str; 3] = ["runtime", "generated", "shared"];

/// Schema ids that would clash with a fixed route of the registry server (`events serve`: the
/// catalog, the AsyncAPI document, and the Confluent Schema Registry API, whose `/schemas/ids/…`
/// and `/schemas/types` sit beside the default base path `/schemas`).
pub const SERVER_ROUTES: [&str; 9] =
    ["ids", "types", "subjects", "schemas", "config", "mode", "contexts", "compatibility", "catalog"];

/// Names from Rust's prelude that typify's code uses without a path: a generated type of the same
/// name would shadow them and break that code.
pub const PRELUDE_NAMES: [&str; 22] = [
    "Ok",
    "Err",
    "Some",
    "None",
    "Option",
    "Result",
    "String",
    "Vec",
    "Box",
    "Default",
    "From",
    "Into",
    "TryFrom",
    "TryInto",
    "ToString",
    "ToOwned",
    "AsRef",
    "AsMut",
    "Iterator",
    "IntoIterator",
    "Clone",
    "Drop",
];

/// The module of a schema id: `orderCreatedSchema` → `order_created_schema`.
///
/// ```
/// assert_eq!(events_codegen::ident::module_name("orderCreatedSchema"), "order_created_schema");
/// assert_eq!(events_codegen::ident::module_name("order-created"), "order_created");
/// ```
pub fn module_name(id: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in id.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c == '-' || c == '_' {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_ascii_alphanumeric();
        }
    }
    out
}

/// The payload type of contract `name`.
///
/// ```
/// assert_eq!(events_codegen::ident::payload_name("OrderCreatedEvent"), "OrderCreatedEventPayload");
/// ```
pub fn payload_name(name: &str) -> String {
    format!("{name}Payload")
}

/// A type name from words: `shipping-address` → `ShippingAddress`.
///
/// ```
/// assert_eq!(events_codegen::ident::pascal_case("shipping-address"), "ShippingAddress");
/// ```
pub fn pascal_case(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase()).into_iter();
            first.chain(chars).collect::<String>()
        })
        .collect()
}

/// The Rust field name typify derives from a property name, near enough to spot two that meet.
///
/// ```
/// assert_eq!(events_codegen::ident::field_name("shipping-Address"), "shipping_address");
/// ```
pub fn field_name(property: &str) -> String {
    let words: String = property.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    module_name(&words).trim_matches('_').to_string()
}

/// Whether `word` cannot be used as a plain Rust identifier.
///
/// ```
/// assert!(events_codegen::ident::is_keyword("type"));
/// assert!(!events_codegen::ident::is_keyword("kind"));
/// ```
pub fn is_keyword(word: &str) -> bool {
    syn::parse_str::<syn::Ident>(word).is_err()
}

/// Whether a type of this name would shadow a prelude name the generated code relies on, or `Self`.
///
/// ```
/// assert!(events_codegen::ident::shadows_prelude("Option"));
/// assert!(!events_codegen::ident::shadows_prelude("Order"));
/// ```
pub fn shadows_prelude(name: &str) -> bool {
    PRELUDE_NAMES.contains(&name) || name == "Self"
}

/// A type name that would shadow the prelude gets a suffix.
///
/// ```
/// assert_eq!(events_codegen::ident::unshadowed("Result".into()), "ResultDefinition");
/// assert_eq!(events_codegen::ident::unshadowed("Money".into()), "Money");
/// ```
pub fn unshadowed(name: String) -> String {
    if shadows_prelude(&name) {
        format!("{name}Definition")
    } else {
        name
    }
}

/// Whether a contract name can name the generated envelope and payload types as it is.
///
/// ```
/// assert!(events_codegen::ident::is_type_name("OrderCreatedEvent"));
/// assert!(!events_codegen::ident::is_type_name("order_created"));
/// assert!(!events_codegen::ident::is_type_name("Option"));
/// ```
pub fn is_type_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
        && !is_keyword(name)
        && !PRELUDE_NAMES.contains(&name)
}

/// Escapes a name as one JSON pointer token.
///
/// ```
/// assert_eq!(events_codegen::ident::escape("a/b~c"), "a~1b~0c");
/// ```
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Reads a JSON pointer token back into the name it escapes.
///
/// ```
/// assert_eq!(events_codegen::ident::unescape("a~1b~0c"), "a/b~c");
/// ```
pub fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}
