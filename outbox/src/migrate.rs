//! Versioned migrations: the SQL files under `migrations/<database>/`, rendered with the table
//! names, applied in order once each, and recorded with a checksum so that a changed file or a
//! database ahead of the crate is refused rather than guessed at.

use crate::error::{Error, ErrorKind};
use crate::tables::Tables;

/// One migration the crate ships.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its version: applied in this order, once.
    pub version: u32,
    /// What it does, in a word.
    pub description: &'static str,
    /// Its SQL, with the table names as placeholders (`{outbox}`, `{inbox}`, `{relay}`).
    pub sql: &'static str,
}

impl Migration {
    /// Its SQL for `tables`: what a team that runs its own migration tool copies.
    pub fn render(&self, tables: &Tables) -> String {
        tables.render(self.sql)
    }
}

/// FNV-1a over the rendered text: enough to tell an edited migration from the one applied.
fn checksum(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// What to apply, given what the database says it applied: `(migration, its SQL, checksum)`.
pub(crate) fn plan(
    migrations: &'static [Migration],
    tables: &Tables,
    applied: &[(i64, String)],
) -> Result<Vec<(&'static Migration, String, String)>, Error> {
    let table = tables.outbox_table();
    let mut todo = Vec::new();
    for m in migrations {
        let text = m.render(tables);
        let sum = checksum(&text);
        match applied.iter().find(|(v, _)| *v == i64::from(m.version)) {
            Some((_, found)) if *found != sum => {
                return Err(Error::new(
                    ErrorKind::Migration,
                    format!(
                        "{table}: migration {:04}_{} was applied with other SQL (checksum {found}, this crate's {sum})",
                        m.version, m.description
                    ),
                ))
            }
            Some(_) => {}
            None => todo.push((m, text, sum)),
        }
    }
    let known = migrations.iter().map(|m| i64::from(m.version)).max().unwrap_or(0);
    if let Some((v, _)) = applied.iter().find(|(v, _)| *v > known) {
        return Err(Error::new(
            ErrorKind::Migration,
            format!("{table}: migration {v} is applied, and this crate knows migrations up to {known} only (a newer version made these tables)"),
        ));
    }
    Ok(todo)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &[Migration] = &[
        Migration { version: 1, description: "a", sql: "CREATE TABLE {outbox} (x INT)" },
        Migration { version: 2, description: "b", sql: "CREATE TABLE {inbox} (x INT)" },
    ];

    #[test]
    fn applies_what_is_missing_in_order() {
        let t = Tables::default();
        let first = checksum(&SHIPPED[0].render(&t));
        let todo = plan(SHIPPED, &t, &[(1, first)]).unwrap();
        assert_eq!(todo.len(), 1);
        assert_eq!(todo[0].1, "CREATE TABLE events_inbox (x INT)");
    }

    #[test]
    fn an_edited_migration_is_refused() {
        let err = plan(SHIPPED, &Tables::default(), &[(1, "0000000000000000".into())]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Migration);
        assert!(err.to_string().contains("0001_a was applied with other SQL"), "{err}");
    }

    #[test]
    fn a_database_ahead_of_the_crate_is_refused() {
        let t = Tables::default();
        let applied: Vec<_> = SHIPPED.iter().map(|m| (i64::from(m.version), checksum(&m.render(&t)))).collect();
        let mut ahead = applied.clone();
        ahead.push((3, "x".into()));
        let err = plan(SHIPPED, &t, &ahead).unwrap_err();
        assert!(err.to_string().contains("migration 3 is applied"), "{err}");
        assert!(plan(SHIPPED, &t, &applied).unwrap().is_empty());
    }
}
