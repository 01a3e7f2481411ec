//! Database access: one connection type over SQLite and PostgreSQL, pools, the write-transaction
//! helper and the embedded migrations. Backend-specific SQL lives only here and in `models/`, as
//! an explicit `match` on the connection.

pub mod schema;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Which engine a database URL names. Chosen from the scheme, never guessed by trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A parsed `DATABASE_URL`: `postgres://…` / `postgresql://…`, or `sqlite://path` / `sqlite:path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    pub engine: Engine,
    /// What the driver receives: the full URL for PostgreSQL, the file path for SQLite.
    pub target: String,
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self {
                engine: Engine::Postgres,
                target: url.to_string(),
            });
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| {
                "must start with postgres://, postgresql://, sqlite:// or sqlite:".to_string()
            })?;
        if path.is_empty() {
            return Err("the SQLite URL names no file".into());
        }
        Ok(Self {
            engine: Engine::Sqlite,
            target: path.to_string(),
        })
    }

    /// Opens one connection, with the SQLite pragmas set; creates the SQLite file if needed.
    pub fn connect(&self) -> Result<DbConnection, String> {
        self.open(true)
    }

    /// Like `connect`, but a missing SQLite file is an error, not a new empty database (after
    /// start, a vanished file means the volume is gone).
    pub fn connect_existing(&self) -> Result<DbConnection, String> {
        self.open(false)
    }

    fn open(&self, create: bool) -> Result<DbConnection, String> {
        match self.engine {
            Engine::Postgres => {
                // OpenSSL without its exit-time clean-up, before libpq first initialises it: the
                // clean-up freed OpenSSL's state while a pool thread was still opening a TLS
                // connection, and a command such as `leman migrate` died of SIGSEGV after its
                // work, about one run in ten. The first initialisation decides (a `Once`).
                openssl_sys::init();
                diesel::PgConnection::establish(&self.target)
                    .map(DbConnection::Postgresql)
                    .map_err(|e| e.to_string())
            }
            Engine::Sqlite => {
                if let Some(dir) = std::path::Path::new(&self.target).parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                }
                let target = if create {
                    self.target.clone()
                } else {
                    let escaped = self
                        .target
                        .replace('%', "%25")
                        .replace('?', "%3f")
                        .replace('#', "%23");
                    format!("file:{escaped}?mode=rw")
                };
                let mut conn =
                    diesel::SqliteConnection::establish(&target).map_err(|e| e.to_string())?;
                // WAL lets readers run beside the one writer; busy_timeout makes writers queue
                // instead of failing; foreign keys are off by default in SQLite.
                conn.batch_execute(
                    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                )
                .map_err(|e| e.to_string())?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// r2d2 manager that builds the right variant from the URL scheme (diesel's own manager for a
/// MultiConnection hides the real connection error).
pub struct Manager {
    url: DatabaseUrl,
    created: std::sync::atomic::AtomicBool,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConnectError(String);

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConnection, ConnectError> {
        use std::sync::atomic::Ordering;
        if self.created.load(Ordering::Acquire) {
            return self.url.connect_existing().map_err(ConnectError);
        }
        let conn = self.url.connect().map_err(ConnectError)?;
        self.created.store(true, Ordering::Release);
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectError> {
        conn.batch_execute("SELECT 1")
            .map_err(|e| ConnectError(e.to_string()))
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        // A connection returned mid-transaction (a panic in a handler) must not be reused.
        let status =
            <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn);
        !matches!(status.transaction_depth(), Ok(None))
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

pub fn build_pool(url: &DatabaseUrl, size: u32) -> Result<Pool, String> {
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        // A network connection may have died while idle: test it on checkout. A local SQLite
        // file cannot, and the test would cost a parsed `SELECT 1` per request.
        .test_on_check_out(url.engine == Engine::Postgres)
        .connection_timeout(Duration::from_secs(10))
        .build(Manager {
            url: url.clone(),
            created: Default::default(),
        })
        .map_err(|e| e.to_string())
}

impl DbConnection {
    pub fn engine(&self) -> Engine {
        match self {
            DbConnection::Postgresql(_) => Engine::Postgres,
            DbConnection::Sqlite(_) => Engine::Sqlite,
        }
    }
}

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite (take the write lock up front, so
/// two writers never deadlock on a lock upgrade), a normal transaction on PostgreSQL. Nested
/// calls become savepoints. Every write goes through here.
pub fn write<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Tm = <DbConnection as Connection>::TransactionManager;
    let depth = Tm::transaction_manager_status_mut(conn).transaction_depth()?;
    match (conn as &mut DbConnection, depth) {
        (DbConnection::Sqlite(inner), None) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?
        }
        (conn, _) => Tm::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(value) => {
            Tm::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            Tm::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// How many times `write_retrying` runs a transaction that lost a race with another one.
pub const WRITE_TRIES: u32 = 3;

/// Like `write`, but a transaction the database aborted because it conflicted with a concurrent
/// one (a PostgreSQL deadlock or serialization failure, a SQLite busy timeout: see
/// `is_retryable`) is rolled back and run again from the start, up to `WRITE_TRIES` times with a
/// short jittered pause (the two losers of a deadlock must not collide again in step). What is
/// still refused after the last try reaches the client as the declared 503 `database_busy`
/// (`AppError::from`), never a 500. Nested in another transaction it runs once: only the
/// outermost transaction can be retried whole. `f` must have no effect outside the database.
pub fn write_retrying<T, F>(conn: &mut DbConnection, mut f: F) -> Result<T, crate::error::AppError>
where
    F: FnMut(&mut DbConnection) -> Result<T, crate::error::AppError>,
{
    if in_transaction(conn)? {
        return write(conn, f);
    }
    let mut tries = 0;
    loop {
        tries += 1;
        match write(conn, &mut f) {
            Err(e) if e.is_retryable() && tries < WRITE_TRIES => {
                tracing::info!(tries, "transaction lost a race, running it again: {e}");
                let pause = 10 * u64::from(tries) + rand::random_range(0..=20u64);
                std::thread::sleep(Duration::from_millis(pause));
            }
            other => return other,
        }
    }
}

/// Whether the database refused a statement only because a concurrent transaction got in the
/// way (PostgreSQL: serialization failure 40001 or deadlock 40P01; SQLite: the write lock not
/// obtained within `busy_timeout`): running the whole transaction again can succeed.
pub fn is_retryable(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        // diesel has no kind for 40P01; PostgreSQL's message (and SQLite's busy one) is stable.
        Error::DatabaseError(DatabaseErrorKind::Unknown, info) => {
            let m = info.message();
            m.contains("deadlock detected") || m.contains("database is locked")
        }
        _ => false,
    }
}

/// Whether `conn` is inside a transaction (`db::write`).
pub fn in_transaction(conn: &mut DbConnection) -> diesel::QueryResult<bool> {
    type Tm = <DbConnection as Connection>::TransactionManager;
    Ok(Tm::transaction_manager_status_mut(conn)
        .transaction_depth()?
        .is_some())
}

/// Applies pending migrations; returns how many ran.
pub fn run_migrations(conn: &mut DbConnection) -> Result<usize, String> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        DbConnection::Postgresql(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.len()),
    };
    applied.map_err(|e| e.to_string())
}

/// The PostgreSQL advisory lock key under which a starting instance migrates and loads its
/// signing keys (an arbitrary constant, "LEMANST" in ASCII).
const STARTUP_LOCK: i64 = 0x004c_454d_414e_5354;

/// Runs `f` (migrations, the first signing key) while no other starting instance does: on
/// PostgreSQL under a session advisory lock, so N instances started at once on a new database
/// migrate once and agree on one key (both raced before: the scale harness found it). SQLite is
/// served by one instance; its migrations already run under the database's write lock.
pub fn startup_lock<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> T,
) -> Result<T, String> {
    let DbConnection::Postgresql(pg) = conn else {
        return Ok(f(conn));
    };
    diesel::sql_query(format!("SELECT pg_advisory_lock({STARTUP_LOCK})"))
        .execute(pg)
        .map_err(|e| format!("cannot take the start-up lock: {e}"))?;
    let out = f(conn);
    if let DbConnection::Postgresql(pg) = conn {
        // Closing the session would release it too; release it now so the pooled connection
        // holds nothing.
        let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({STARTUP_LOCK})")).execute(pg);
    }
    Ok(out)
}

/// True when every embedded migration has been applied.
pub fn migrations_current(conn: &mut DbConnection) -> Result<bool, String> {
    let pending = match conn {
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        DbConnection::Postgresql(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
    };
    pending.map(|p| !p).map_err(|e| e.to_string())
}

/// Whether a statement failed on a unique index (two writers claimed the same thing).
pub fn is_unique_violation(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Timestamps are stored at microsecond precision on both engines (PostgreSQL keeps no more).
pub fn now() -> chrono::NaiveDateTime {
    truncate(chrono::Utc::now().naive_utc())
}

pub fn truncate(t: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Timelike};
    let t = t.trunc_subsecs(6);
    t.with_nanosecond(t.nanosecond() / 1000 * 1000).unwrap_or(t)
}

/// A new opaque id: a type prefix over a UUIDv7 (time-ordered, so keyset pages and indexes stay
/// local), e.g. `job_01890a5d…`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// Runs blocking database work on the blocking pool, never on the async executor.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, crate::error::AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, crate::error::AppError> + Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(crate::error::AppError::from_pool)?;
        f(&mut conn)
    })
    .await
    .map_err(|e| crate::error::AppError::internal(format!("blocking task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    fn memory() -> DbConnection {
        DbConnection::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap())
    }

    #[test]
    fn f12_a_transaction_that_lost_a_race_runs_again_whole_up_to_three_times() {
        let mut conn = memory();
        let mut runs = 0;
        let done = write_retrying(&mut conn, |_| {
            runs += 1;
            if runs < WRITE_TRIES {
                Err(AppError::busy("database: deadlock detected"))
            } else {
                Ok(runs)
            }
        });
        assert_eq!(done.unwrap(), WRITE_TRIES);
        let mut runs = 0;
        let refused = write_retrying(&mut conn, |_| -> Result<(), AppError> {
            runs += 1;
            Err(AppError::busy("database: deadlock detected"))
        })
        .unwrap_err();
        assert_eq!(
            (runs, refused.status.as_u16(), refused.code),
            (WRITE_TRIES, 503, "database_busy")
        );
        // Any other error is answered at once.
        let mut runs = 0;
        let other = write_retrying(&mut conn, |_| -> Result<(), AppError> {
            runs += 1;
            Err(AppError::conflict("x", "y"))
        });
        assert_eq!((runs, other.unwrap_err().status.as_u16()), (1, 409));
    }

    #[test]
    fn f12_deadlocks_and_serialization_failures_are_retryable_and_answered_503() {
        use diesel::result::{DatabaseErrorKind, Error};
        let deadlock = Error::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("deadlock detected".to_string()),
        );
        let serialization = Error::DatabaseError(
            DatabaseErrorKind::SerializationFailure,
            Box::new("could not serialize access".to_string()),
        );
        let unique = Error::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new("duplicate key".to_string()),
        );
        assert!(is_retryable(&deadlock) && is_retryable(&serialization));
        assert!(!is_retryable(&unique) && !is_retryable(&Error::NotFound));
        let answered = AppError::from(deadlock);
        assert_eq!(
            (answered.status.as_u16(), answered.code),
            (503, "database_busy")
        );
        assert_eq!(AppError::from(unique).status.as_u16(), 500);
    }
}
