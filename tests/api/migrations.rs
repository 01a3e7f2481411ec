//! Both migration folders must produce the same tables, columns and indexes.

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel::sql_types::Text;
use leman::db::{DatabaseUrl, DbConnection};

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn names(conn: &mut DbConnection, sql: &str) -> BTreeSet<String> {
    diesel::sql_query(sql)
        .load::<Name>(conn)
        .unwrap()
        .into_iter()
        .map(|n| n.name)
        .collect()
}

/// `table.column` for every column, and `index:name` for every index created by a migration.
fn shape(conn: &mut DbConnection) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    match conn {
        DbConnection::Sqlite(_) => {
            let tables = names(
                conn,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations'",
            );
            for table in tables {
                for column in names(
                    conn,
                    &format!("SELECT name FROM pragma_table_info('{table}')"),
                ) {
                    out.insert(format!("{table}.{column}"));
                }
            }
            out.extend(
                names(
                    conn,
                    "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
                )
                .into_iter()
                .map(|i| format!("index:{i}")),
            );
        }
        DbConnection::Postgresql(_) => {
            out.extend(names(conn, "SELECT table_name || '.' || column_name AS name FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'"));
            // Indexes that back a primary key are implicit on both engines.
            out.extend(
                names(conn, "SELECT i.indexname AS name FROM pg_indexes i WHERE i.schemaname = 'public' AND i.indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype = 'p')")
                    .into_iter()
                    .map(|i| format!("index:{i}")),
            );
        }
    }
    out
}

fn migration_dirs(engine: &str) -> BTreeSet<String> {
    std::fs::read_dir(format!(
        "{}/migrations/{engine}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .map(|e| e.unwrap().file_name().into_string().unwrap())
    .collect()
}

#[test]
fn both_folders_hold_the_same_migrations() {
    assert_eq!(migration_dirs("sqlite"), migration_dirs("postgres"));
}

#[test]
fn both_engines_end_with_the_same_tables_columns_and_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = DatabaseUrl::parse(&format!(
        "sqlite://{}",
        dir.path().join("parity.db").display()
    ))
    .unwrap();
    let mut lite = sqlite.connect().unwrap();
    leman::db::run_migrations(&mut lite).unwrap();
    let lite_shape = shape(&mut lite);
    assert!(lite_shape.contains("jobs.unique_key"), "{lite_shape:?}");
    assert!(
        lite_shape.contains("index:jobs_status_run_at_idx"),
        "{lite_shape:?}"
    );

    let Some(_) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("TEST_DATABASE_URL unset: the PostgreSQL side runs in `make test-pg`");
        return;
    };
    let db = crate::helpers::TestDb::new(dir.path());
    let mut pg = DatabaseUrl::parse(&db.url).unwrap().connect().unwrap();
    leman::db::run_migrations(&mut pg).unwrap();
    let pg_shape = shape(&mut pg);
    let only_sqlite: Vec<_> = lite_shape.difference(&pg_shape).collect();
    let only_pg: Vec<_> = pg_shape.difference(&lite_shape).collect();
    assert!(
        only_sqlite.is_empty() && only_pg.is_empty(),
        "only in SQLite: {only_sqlite:?}; only in PostgreSQL: {only_pg:?}"
    );
}
