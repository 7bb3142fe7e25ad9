//! Where the crate's rows live: table names, checked to be plain identifiers (they are written into
//! the SQL text, never bound), and the names derived from them.

use crate::error::{Error, ErrorKind};

/// The tables of one outbox and its inbox. By default `events_outbox` and `events_inbox`, with
/// `events_outbox_relay` (which relay instance is active) and `events_outbox_migrations` (which
/// migrations ran) beside them.
///
/// ```
/// let tables = events_outbox::Tables::default().outbox("orders_outbox").inbox("orders_inbox");
/// assert_eq!(tables.outbox_table(), "orders_outbox");
///
/// let err = events_outbox::Tables::default().outbox("orders; drop table x").check().unwrap_err();
/// assert_eq!(err.kind(), events_outbox::ErrorKind::Config);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    schema: Option<String>,
    outbox: String,
    inbox: String,
}

impl Default for Tables {
    fn default() -> Self {
        Tables { schema: None, outbox: "events_outbox".into(), inbox: "events_inbox".into() }
    }
}

impl Tables {
    /// The outbox table's name; the relay and migrations tables take it as their prefix.
    pub fn outbox(mut self, name: impl Into<String>) -> Self {
        self.outbox = name.into();
        self
    }
    /// The inbox table's name.
    pub fn inbox(mut self, name: impl Into<String>) -> Self {
        self.inbox = name.into();
        self
    }
    /// A PostgreSQL schema for every table (it must exist). SQLite has none: refused there.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }
    /// The outbox table, schema-qualified.
    pub fn outbox_table(&self) -> String {
        self.qualified(&self.outbox)
    }
    /// The inbox table, schema-qualified.
    pub fn inbox_table(&self) -> String {
        self.qualified(&self.inbox)
    }
    /// The PostgreSQL schema, if one was named.
    pub fn schema_name(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Every name is a lowercase identifier: letters, digits and `_`, not starting with a digit,
    /// at most 48 characters (PostgreSQL keeps 63, and the derived names add to it).
    pub fn check(&self) -> Result<(), Error> {
        let names = [("schema", self.schema.as_deref()), ("outbox", Some(&self.outbox)), ("inbox", Some(&self.inbox))];
        for (what, name) in names {
            let Some(name) = name else { continue };
            let plain = !name.is_empty()
                && name.len() <= 48
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !plain {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("the {what} table name {name:?} is not a lowercase identifier ([a-z_][a-z0-9_]*, at most 48)"),
                ));
            }
        }
        if self.outbox == self.inbox {
            return Err(Error::new(ErrorKind::Config, format!("the outbox and the inbox are both {:?}", self.outbox)));
        }
        Ok(())
    }

    fn qualified(&self, name: &str) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{name}"),
            None => name.to_string(),
        }
    }

    /// `template` with its placeholders replaced by these names.
    pub(crate) fn render(&self, template: &str) -> String {
        let channel = match &self.schema {
            Some(s) => format!("{s}_{}", self.outbox),
            None => self.outbox.clone(),
        };
        template
            .replace("{outbox}", &self.outbox_table())
            .replace("{inbox}", &self.inbox_table())
            .replace("{relay}", &self.qualified(&format!("{}_relay", self.outbox)))
            .replace("{migrations}", &self.qualified(&format!("{}_migrations", self.outbox)))
            .replace("{notify_fn}", &self.qualified(&format!("{}_notify", self.outbox)))
            .replace("{bare}", &self.outbox)
            .replace("{inbox_bare}", &self.inbox)
            .replace("{channel}", &channel)
    }

    /// The PostgreSQL channel a committed insert notifies.
    pub(crate) fn channel(&self) -> String {
        self.render("{channel}")
    }
}
