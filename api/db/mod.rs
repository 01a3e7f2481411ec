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
                diesel::PgConnection::establish(&with_connect_timeout(&self.target))
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

/// How long a request waits for a pooled connection while the database answers. Bounded, so a
/// request never hangs on a database that went away: it gets `database_unavailable` instead. The
/// pool also retries a failed connection at least every half of it (`RECONNECT_EVERY`).
pub const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(4);
/// How long a request waits for a connection once the last attempt to open one failed: the
/// database is known to be down, so the answer comes at once rather than after a full wait.
pub const CHECKOUT_TIMEOUT_WHEN_DOWN: Duration = Duration::from_millis(300);
/// The pool tries again to connect at least this often while the database is down (r2d2 retries
/// a failed connection with a doubling delay capped at half its connection timeout).
pub const RECONNECT_EVERY: Duration = Duration::from_secs(2);
/// libpq's `connect_timeout` (seconds) when the URL sets none: an unreachable host (no refusal,
/// no answer) must not hold a pool thread for the kernel's minutes-long TCP timeout.
pub const PG_CONNECT_TIMEOUT_SECS: u32 = 3;

/// Whether the last attempt to open a connection failed (set by `Manager::connect`, read by
/// `Pool::get`): shared by a pool and its manager.
#[derive(Default, Debug)]
pub struct Health {
    down: std::sync::atomic::AtomicBool,
}

impl Health {
    pub fn is_down(&self) -> bool {
        self.down.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::Relaxed);
    }
}

/// `url` with libpq's `connect_timeout` (`PG_CONNECT_TIMEOUT_SECS`) unless it sets one itself.
pub fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        return url.to_string();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout={PG_CONNECT_TIMEOUT_SECS}")
}

/// r2d2 manager that builds the right variant from the URL scheme (diesel's own manager for a
/// MultiConnection hides the real connection error).
pub struct Manager {
    url: DatabaseUrl,
    created: std::sync::atomic::AtomicBool,
    health: std::sync::Arc<Health>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConnectError(String);

impl Manager {
    fn open(&self) -> Result<DbConnection, String> {
        use std::sync::atomic::Ordering;
        if self.created.load(Ordering::Acquire) {
            return self.url.connect_existing();
        }
        let conn = self.url.connect()?;
        self.created.store(true, Ordering::Release);
        Ok(conn)
    }
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = ConnectError;

    fn connect(&self) -> Result<DbConnection, ConnectError> {
        let opened = self.open();
        self.health.set_down(opened.is_err());
        opened.map_err(ConnectError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectError> {
        conn.batch_execute("SELECT 1")
            .map_err(|e| ConnectError(e.to_string()))
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        // A connection returned mid-transaction (a panic in a handler), or one `discard` marked
        // (lost, or opened read-only), must not be reused.
        let status =
            <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn);
        !matches!(status.transaction_depth(), Ok(None))
    }
}

/// The connection pool: r2d2's, with a bounded wait for a connection that is shorter while the
/// database is known to be down (`Pool::get`). Derefs to the r2d2 pool for the rest.
#[derive(Clone)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
    health: std::sync::Arc<Health>,
}

impl std::ops::Deref for Pool {
    type Target = r2d2::Pool<Manager>;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl Pool {
    /// A connection, waiting at most `CHECKOUT_TIMEOUT`, or `CHECKOUT_TIMEOUT_WHEN_DOWN` while the
    /// last attempt to connect failed (the pool keeps trying in the background, so the first
    /// request after the database is back gets a connection).
    pub fn get(&self) -> Result<PooledConn, r2d2::PoolError> {
        let wait = if self.health.is_down() {
            CHECKOUT_TIMEOUT_WHEN_DOWN
        } else {
            CHECKOUT_TIMEOUT
        };
        self.inner.get_timeout(wait)
    }

    /// Whether the last attempt to open a connection failed.
    pub fn is_down(&self) -> bool {
        self.health.is_down()
    }
}

pub type PooledConn = r2d2::PooledConnection<Manager>;

/// The pool, with its `min_idle` connection opened (an unreachable database fails the start).
pub fn build_pool(url: &DatabaseUrl, size: u32) -> Result<Pool, String> {
    pool_builder(url, size, true)
}

fn pool_builder(url: &DatabaseUrl, size: u32, checked: bool) -> Result<Pool, String> {
    let health = std::sync::Arc::new(Health::default());
    let builder = r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        // A network connection may have died while idle: test it on checkout. A local SQLite
        // file cannot, and the test would cost a parsed `SELECT 1` per request.
        .test_on_check_out(url.engine == Engine::Postgres)
        // Twice `RECONNECT_EVERY`: r2d2 retries a failed connection at most every half of it.
        .connection_timeout(CHECKOUT_TIMEOUT.max(RECONNECT_EVERY * 2));
    let manager = Manager {
        url: url.clone(),
        created: Default::default(),
        health: health.clone(),
    };
    let inner = if checked {
        builder.build(manager).map_err(|e| e.to_string())?
    } else {
        builder.build_unchecked(manager)
    };
    Ok(Pool { inner, health })
}

/// Marks `conn` so the pool drops it instead of reusing it (`Manager::has_broken`): after a
/// lost connection, a SQLite I/O error, or a write refused because the connection was opened
/// while the file was read-only (SQLite keeps such a connection read-only for good, so the
/// next one must be opened afresh to see the file writable again).
pub fn discard(conn: &mut DbConnection) {
    <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        .set_in_error();
}

/// How the database failed, beyond the statement itself: what the client is told
/// (`AppError::from`) and whether the connection is dropped (`discard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Connection refused or lost, a server shutting down or starting up, a SQLite I/O error.
    Unavailable,
    /// A SQLite file (or its volume) that refuses writes; a PostgreSQL hot standby.
    ReadOnly,
    /// No space left for the database (`SQLITE_FULL`; PostgreSQL's 53100 `disk_full`).
    Full,
}

/// Classifies an error of the database itself (not of the statement: a unique violation, a
/// missing row are `None`). diesel has kinds for a lost PostgreSQL connection; SQLite's codes
/// reach us only as their stable `sqlite3_errstr` messages, PostgreSQL's others as theirs.
pub fn failure(e: &diesel::result::Error) -> Option<Failure> {
    use diesel::result::{DatabaseErrorKind as Kind, Error};
    match e {
        Error::DatabaseError(Kind::ClosedConnection | Kind::UnableToSendCommand, _) => {
            Some(Failure::Unavailable)
        }
        Error::DatabaseError(Kind::ReadOnlyTransaction, _) => Some(Failure::ReadOnly),
        // The transaction manager gave up on a connection that failed mid-transaction.
        Error::BrokenTransactionManager => Some(Failure::Unavailable),
        // A COMMIT that failed, and the ROLLBACK after it too (the server went away between
        // them): what the commit met, never a bare 500.
        Error::RollbackErrorOnCommit { commit_error, .. } => {
            failure(commit_error).or(Some(Failure::Unavailable))
        }
        Error::DatabaseError(Kind::Unknown, info) => {
            let m = info.message();
            const UNAVAILABLE: [&str; 9] = [
                "disk I/O error",
                "unable to open database file",
                "terminating connection due to administrator command",
                "the database system is shutting down",
                "the database system is starting up",
                "the database system is in recovery mode",
                "server closed the connection unexpectedly",
                "no connection to the server",
                "could not receive data from server",
            ];
            if m.contains("attempt to write a readonly database") {
                Some(Failure::ReadOnly)
            } else if m.contains("database or disk is full")
                || m.contains("No space left on device")
                || m.contains("could not extend file")
            {
                Some(Failure::Full)
            } else if UNAVAILABLE.iter().any(|u| m.contains(u)) {
                Some(Failure::Unavailable)
            } else {
                None
            }
        }
        _ => None,
    }
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
    match f(conn).and_then(|value| {
        mark_idempotency_key_committed(conn)?;
        Ok(value)
    }) {
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

tokio::task_local! {
    /// The `Idempotency-Key` row of the request being served (set by `http::idempotency` around
    /// the handler).
    static IDEMPOTENCY_ROW: String;
}

thread_local! {
    /// That row, on the blocking thread running the request's database work (`run`).
    static MARKED_ROW: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Serves `fut` (a request with an `Idempotency-Key`) so that each transaction it commits also
/// marks the key's row `committed`, in that same transaction: a request that changed something
/// and then died before its answer was stored (a killed process, a lost database) is never run
/// a second time under its key (`models::idempotency_keys::begin`).
pub async fn with_idempotency_row<F: std::future::Future>(row_id: String, fut: F) -> F::Output {
    IDEMPOTENCY_ROW.scope(row_id, fut).await
}

/// Sets `MARKED_ROW` for one `run` on a blocking thread, and clears it after (threads are reused).
struct MarkingWrites;

impl MarkingWrites {
    fn start(row: Option<String>) -> Self {
        MARKED_ROW.with(|m| *m.borrow_mut() = row);
        MarkingWrites
    }
}

impl Drop for MarkingWrites {
    fn drop(&mut self) {
        MARKED_ROW.with(|m| *m.borrow_mut() = None);
    }
}

/// In a transaction about to commit: marks the serving request's key row `committed` (only from
/// `in_flight`; a no-op outside a keyed request).
fn mark_idempotency_key_committed(conn: &mut DbConnection) -> Result<(), diesel::result::Error> {
    let Some(row) = MARKED_ROW.with(|m| m.borrow().clone()) else {
        return Ok(());
    };
    use crate::domain::account_states::IdempotencyState;
    use schema::idempotency_keys as k;
    diesel::update(k::table.find(row))
        .filter(k::status.eq(IdempotencyState::InFlight.as_str()))
        .set(k::status.eq(IdempotencyState::Committed.as_str()))
        .execute(conn)?;
    Ok(())
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

/// A timestamp to bind in a query that runs on every request: on SQLite it is written as diesel
/// writes a `NaiveDateTime` (`%F %T%.f`, so text comparisons with stored values agree) without
/// chrono's format-string machinery, which cost ~3,400 instructions a bind (callgrind, `GET
/// /v1/me`); on PostgreSQL it is the `NaiveDateTime` itself.
#[derive(Debug, Clone, Copy, diesel::expression::AsExpression)]
#[diesel(sql_type = diesel::sql_types::Timestamp)]
pub struct SqlTime(pub chrono::NaiveDateTime);

impl SqlTime {
    /// `%F %T%.f`: the fraction with 0, 3, 6 or 9 digits, as chrono's `%.f` writes it. Digits
    /// are written straight into a buffer (no formatter): a session check binds two of these.
    pub fn sqlite_text(&self) -> String {
        use chrono::{Datelike as _, Timelike as _};
        let t = self.0;
        if !(0..=9999).contains(&t.year()) {
            // chrono writes a sign or a fifth digit: rare enough to take its own path.
            return t.format("%F %T%.f").to_string();
        }
        fn digits(out: &mut [u8], mut value: u32) {
            for d in out.iter_mut().rev() {
                *d = b'0' + (value % 10) as u8;
                value /= 10;
            }
        }
        let mut b = *b"0000-00-00 00:00:00.000000000";
        digits(&mut b[0..4], t.year() as u32);
        digits(&mut b[5..7], t.month());
        digits(&mut b[8..10], t.day());
        digits(&mut b[11..13], t.hour());
        digits(&mut b[14..16], t.minute());
        digits(&mut b[17..19], t.second());
        let nanos = t.nanosecond() % 1_000_000_000;
        let len = if nanos == 0 {
            19
        } else if nanos.is_multiple_of(1_000_000) {
            digits(&mut b[20..23], nanos / 1_000_000);
            23
        } else if nanos.is_multiple_of(1_000) {
            digits(&mut b[20..26], nanos / 1_000);
            26
        } else {
            digits(&mut b[20..29], nanos);
            29
        };
        // Only ASCII digits and separators were written.
        String::from_utf8_lossy(&b[..len]).into_owned()
    }
}

impl diesel::serialize::ToSql<diesel::sql_types::Timestamp, diesel::sqlite::Sqlite> for SqlTime {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
    ) -> diesel::serialize::Result {
        out.set_value(self.sqlite_text());
        Ok(diesel::serialize::IsNull::No)
    }
}

impl diesel::serialize::ToSql<diesel::sql_types::Timestamp, diesel::pg::Pg> for SqlTime {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
    ) -> diesel::serialize::Result {
        <chrono::NaiveDateTime as diesel::serialize::ToSql<
            diesel::sql_types::Timestamp,
            diesel::pg::Pg,
        >>::to_sql(&self.0, &mut out.reborrow())
    }
}

/// Runs blocking database work on the blocking pool, never on the async executor.
pub async fn run<T, F>(pool: &Pool, f: F) -> Result<T, crate::error::AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut DbConnection) -> Result<T, crate::error::AppError> + Send + 'static,
{
    let pool = pool.clone();
    let key_row = IDEMPOTENCY_ROW.try_with(Clone::clone).ok();
    tokio::task::spawn_blocking(move || {
        let _marking = MarkingWrites::start(key_row);
        let mut conn = pool.get().map_err(crate::error::AppError::from_pool)?;
        let out = f(&mut conn);
        if let Err(e) = &out
            && e.discards_connection()
        {
            discard(&mut conn);
        }
        out
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
    fn a_bound_time_is_written_as_diesel_writes_it() {
        let base = chrono::NaiveDate::from_ymd_opt(2026, 3, 7)
            .unwrap()
            .and_hms_opt(4, 5, 6)
            .unwrap();
        for nanos in [
            0,
            1,
            999,
            1_000,
            120_000,
            5_000_000,
            123_456_789,
            999_999_999,
        ] {
            let t = base + chrono::Duration::nanoseconds(nanos);
            assert_eq!(
                SqlTime(t).sqlite_text(),
                t.format("%F %T%.f").to_string(),
                "{nanos}"
            );
        }
        for (y, m, d) in [
            (1, 1, 1),
            (999, 12, 31),
            (9999, 12, 31),
            (10000, 1, 1),
            (-1, 6, 15),
        ] {
            let t = chrono::NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_nano_opt(23, 59, 58, 7_000)
                .unwrap();
            assert_eq!(
                SqlTime(t).sqlite_text(),
                t.format("%F %T%.f").to_string(),
                "{y}"
            );
        }
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

    /// A SQLite file with one table, and the error of an insert into it over `conn`.
    fn insert_error(conn: &mut DbConnection) -> diesel::result::Error {
        conn.batch_execute("INSERT INTO t VALUES (randomblob(100000))")
            .expect_err("the insert must fail")
    }

    #[test]
    fn a_full_sqlite_disk_is_a_507_storage_full_and_keeps_the_connection() {
        let mut conn = memory();
        conn.batch_execute("CREATE TABLE t (x BLOB)").unwrap();
        // SQLITE_FULL for real: the database may not grow past its pages.
        conn.batch_execute("PRAGMA max_page_count = 20").unwrap();
        let e = insert_error(&mut conn);
        assert_eq!(failure(&e), Some(Failure::Full), "{e}");
        let answered = AppError::from(e);
        assert_eq!(
            (answered.status.as_u16(), answered.code),
            (507, "storage_full")
        );
        assert!(answered.headers.iter().any(|(n, _)| n == "retry-after"));
        assert!(!answered.discards_connection());
    }

    #[test]
    fn a_read_only_sqlite_file_is_a_503_database_read_only_and_drops_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro.db");
        let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap();
        url.connect()
            .unwrap()
            .batch_execute("CREATE TABLE t (x BLOB)")
            .unwrap();
        // What SQLite does when it finds the file write-protected: opens it read-only.
        let mut conn = DbConnection::Sqlite(
            diesel::SqliteConnection::establish(&format!("file:{}?mode=ro", path.display()))
                .unwrap(),
        );
        let e = insert_error(&mut conn);
        assert_eq!(failure(&e), Some(Failure::ReadOnly), "{e}");
        let answered = AppError::from(e);
        assert_eq!(
            (answered.status.as_u16(), answered.code),
            (503, "database_read_only")
        );
        assert!(answered.discards_connection());
        // Marked, the pool's manager drops it rather than reuse it.
        let manager = Manager {
            url,
            created: Default::default(),
            health: Default::default(),
        };
        assert!(!manager.has_broken(&mut conn));
        discard(&mut conn);
        assert!(manager.has_broken(&mut conn));
    }

    #[test]
    fn lost_connections_and_a_server_going_down_are_503_database_unavailable() {
        use diesel::result::{DatabaseErrorKind, Error};
        for e in [
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection,
                Box::new("server closed the connection unexpectedly".to_string()),
            ),
            Error::DatabaseError(
                DatabaseErrorKind::Unknown,
                Box::new("terminating connection due to administrator command".to_string()),
            ),
            Error::DatabaseError(
                DatabaseErrorKind::Unknown,
                Box::new("disk I/O error".to_string()),
            ),
            Error::BrokenTransactionManager,
        ] {
            let answered = AppError::from(e);
            assert_eq!(
                (answered.status.as_u16(), answered.code),
                (503, "database_unavailable")
            );
            assert!(
                answered
                    .headers
                    .contains(&("retry-after".into(), "5".into()))
            );
            assert!(answered.internal.is_some() && !answered.detail.contains("server"));
        }
        // A statement's own failure stays what it was.
        assert_eq!(failure(&diesel::result::Error::NotFound), None);
    }

    #[test]
    fn a_pool_waits_briefly_once_the_database_is_known_down_and_says_so() {
        // A PostgreSQL port nothing listens on: refused at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = DatabaseUrl::parse(&format!("postgres://nobody@127.0.0.1:{port}/none")).unwrap();
        // What a running server's pool meets when its database goes away (`build_pool` itself
        // refuses to start on an unreachable database).
        assert!(build_pool(&url, 2).is_err());
        let pool = pool_builder(&url, 2, false).unwrap();
        let started = std::time::Instant::now();
        let first = pool.get();
        assert!(first.is_err());
        assert!(started.elapsed() <= CHECKOUT_TIMEOUT + Duration::from_millis(500));
        assert!(pool.is_down());
        let started = std::time::Instant::now();
        let e = AppError::from_pool(pool.get().err().unwrap());
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        assert_eq!((e.status.as_u16(), e.code), (503, "database_unavailable"));
    }

    #[test]
    fn postgres_urls_get_a_connect_timeout_unless_they_set_one() {
        assert_eq!(
            with_connect_timeout("postgres://u@h/db"),
            "postgres://u@h/db?connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?sslmode=disable"),
            "postgres://u@h/db?sslmode=disable&connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?connect_timeout=9"),
            "postgres://u@h/db?connect_timeout=9"
        );
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

    #[test]
    fn a_commit_and_its_rollback_both_failing_is_answered_503_not_500() {
        use diesel::result::{DatabaseErrorKind, Error};
        let lost = || {
            Box::new(Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection,
                Box::new("server closed the connection unexpectedly".to_string()),
            ))
        };
        let answered = AppError::from(Error::RollbackErrorOnCommit {
            rollback_error: lost(),
            commit_error: lost(),
        });
        assert_eq!(
            (answered.status.as_u16(), answered.code),
            (503, "database_unavailable")
        );
        let full = AppError::from(Error::RollbackErrorOnCommit {
            rollback_error: lost(),
            commit_error: Box::new(Error::DatabaseError(
                DatabaseErrorKind::Unknown,
                Box::new("database or disk is full".to_string()),
            )),
        });
        assert_eq!(full.code, "storage_full");
    }
}
