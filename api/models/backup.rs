//! The SQL behind `leman backup` and `leman restore` (services/backup.rs): SQLite's online copy
//! (`VACUUM INTO`), the checks run on a copy (integrity, migrations, row counts), and the
//! PostgreSQL scratch databases an archive is checked in.

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::{DbConnection, Engine, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

/// Writes a consistent copy of the whole database to `dest` (a file that must not exist yet). One
/// statement, one read transaction: in WAL mode writers go on beside it and the copy is the
/// database as of the moment that transaction began.
pub fn vacuum_into(conn: &mut DbConnection, dest: &str) -> QueryResult<()> {
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(dest)
        .execute(conn)
        .map(|_| ())
}

/// Opens an existing SQLite file as a `file:` URI in `mode` (`ro`, `rw`: never created), its
/// path escaped so that `%`, `?` and `#` in it stay part of the name.
fn open_sqlite_uri(path: &str, mode: &str) -> Result<diesel::SqliteConnection, String> {
    let escaped = path
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23");
    diesel::SqliteConnection::establish(&format!("file:{escaped}?mode={mode}"))
        .map_err(|e| e.to_string())
}

/// Opens a SQLite file read-only (no pragma that would write, no WAL switch, no file created):
/// the copy being checked stays byte for byte what was written.
pub fn open_sqlite_read_only(path: &str) -> Result<DbConnection, String> {
    let mut conn = open_sqlite_uri(path, "ro")?;
    conn.batch_execute("PRAGMA busy_timeout = 10000;")
        .map_err(|e| e.to_string())?;
    Ok(DbConnection::Sqlite(conn))
}

/// Folds a SQLite database's write-ahead log into its file and empties the log
/// (`wal_checkpoint(TRUNCATE)`): the log can then be removed without losing a committed change.
/// `Ok(false)` while another connection holds the log (a server still running); an error when
/// the file cannot be opened as a database.
pub fn checkpoint_sqlite(path: &str) -> Result<bool, String> {
    let mut conn = open_sqlite_uri(path, "rw")?;
    #[derive(QueryableByName)]
    struct Checkpoint {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        busy: i32,
    }
    let done: Vec<Checkpoint> = diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
        .load(&mut conn)
        .map_err(|e| e.to_string())?;
    Ok(done.first().is_none_or(|c| c.busy == 0))
}

/// SQLite's `PRAGMA integrity_check` then `PRAGMA foreign_key_check`: the problems found, empty
/// when the file is sound.
pub fn sqlite_problems(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    let mut problems: Vec<String> = diesel::sql_query("PRAGMA integrity_check")
        .load::<Check>(conn)?
        .into_iter()
        .map(|c| c.integrity_check)
        .filter(|c| c != "ok")
        .collect();
    #[derive(QueryableByName)]
    struct Orphan {
        #[diesel(sql_type = Text)]
        table: String,
        #[diesel(sql_type = Text)]
        parent: String,
    }
    let orphans =
        diesel::sql_query("SELECT \"table\" AS \"table\", parent FROM pragma_foreign_key_check")
            .load::<Orphan>(conn)?;
    problems.extend(
        orphans
            .into_iter()
            .map(|o| format!("a row of {} names a missing {}", o.table, o.parent)),
    );
    Ok(problems)
}

/// The application's tables (SQLite's own and diesel's migration table excepted), by name.
pub fn tables(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    let sql = match conn.engine() {
        Engine::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name <> '__diesel_schema_migrations' ORDER BY name"
        }
        Engine::Postgres => {
            "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public' \
             AND tablename <> '__diesel_schema_migrations' ORDER BY tablename"
        }
    };
    Ok(diesel::sql_query(sql)
        .load::<Name>(conn)?
        .into_iter()
        .map(|n| n.name)
        .collect())
}

/// Whether the database holds any table at all (diesel's migration table counts: a migrated,
/// empty database is not a fresh target either).
pub fn has_tables(conn: &mut DbConnection) -> QueryResult<bool> {
    let sql = match conn.engine() {
        Engine::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             LIMIT 1"
        }
        Engine::Postgres => {
            "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public' LIMIT 1"
        }
    };
    Ok(!diesel::sql_query(sql).load::<Name>(conn)?.is_empty())
}

/// Each table's row count, in one statement (one snapshot, one round trip).
pub fn row_counts(conn: &mut DbConnection, tables: &[String]) -> QueryResult<Vec<(String, i64)>> {
    if tables.is_empty() {
        return Ok(vec![]);
    }
    // The names come from the catalogue, not from outside; quoted as identifiers all the same.
    let sql = tables
        .iter()
        .map(|t| {
            format!(
                "SELECT '{}' AS name, COUNT(*) AS n FROM \"{}\"",
                t.replace('\'', "''"),
                t.replace('"', "\"\"")
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let mut counts: Vec<(String, i64)> = diesel::sql_query(sql)
        .load::<Counted>(conn)?
        .into_iter()
        .map(|c| (c.name, c.n))
        .collect();
    counts.sort();
    Ok(counts)
}

/// The migration versions recorded in the database (none when it has no migration table).
pub fn applied_migrations(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = Text)]
        version: String,
    }
    if !tables_include(conn, "__diesel_schema_migrations")? {
        return Ok(vec![]);
    }
    let mut v: Vec<String> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
            .load::<Version>(conn)?
            .into_iter()
            .map(|v| v.version)
            .collect();
    v.sort();
    Ok(v)
}

fn tables_include(conn: &mut DbConnection, table: &str) -> QueryResult<bool> {
    let sql = match conn.engine() {
        Engine::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
        Engine::Postgres => {
            "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public' \
             AND tablename = $1"
        }
    };
    Ok(!diesel::sql_query(sql)
        .bind::<Text, _>(table)
        .load::<Name>(conn)?
        .is_empty())
}

/// The migration versions this build embeds for `engine`, sorted (diesel records a migration
/// under its directory name's digits: `2026-12-05-000026_feedback` is `20261205000026`).
pub fn known_migrations(engine: Engine) -> Result<Vec<String>, String> {
    let names: Vec<String> = match engine {
        Engine::Sqlite => MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS)
            .map_err(|e| e.to_string())?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect(),
        Engine::Postgres => MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS)
            .map_err(|e| e.to_string())?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect(),
    };
    let mut names = names;
    names.sort();
    Ok(names)
}

/// Creates an empty database on the server `conn` is connected to (PostgreSQL).
pub fn create_database(conn: &mut DbConnection, name: &str) -> QueryResult<()> {
    diesel::sql_query(format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\"")))
        .execute(conn)
        .map(|_| ())
}

/// Drops a database, ending its sessions (PostgreSQL 13 and later).
pub fn drop_database(conn: &mut DbConnection, name: &str) -> QueryResult<()> {
    diesel::sql_query(format!(
        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
        name.replace('"', "\"\"")
    ))
    .execute(conn)
    .map(|_| ())
}

/// Empties a PostgreSQL database for `restore --force`: the `public` schema and all in it go, an
/// empty one takes its place (the schema a dump of ours restores into). Run by `psql` in the
/// restore's own transaction, before the archive's statements.
pub const RESET_PUBLIC_SCHEMA: &str =
    "DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n";
