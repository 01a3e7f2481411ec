//! `leman backup`, `leman backup check` and `leman restore` (docs/backup.md).
//!
//! SQLite: `VACUUM INTO` a temporary file beside the output, in one read transaction, so the copy
//! is the database as of one instant while the server goes on writing; the copy is checked
//! (`PRAGMA integrity_check`, foreign keys, migrations) before it is renamed to its final name,
//! so a file under that name is always whole. PostgreSQL: `pg_dump --format=custom` (one
//! repeatable-read snapshot), checked with `pg_restore --list` and the archive's migration
//! table; `backup check` restores it into a scratch database to count rows and verify the
//! activity chains. A restore refuses a target that holds anything unless forced.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};

use crate::db::{DatabaseUrl, DbConnection, Engine};
use crate::models::backup as sql;
use crate::services::audit;

/// What a backup, check or restore found.
#[derive(Debug)]
pub struct Report {
    pub engine: Engine,
    /// The file written, checked or restored from.
    pub file: PathBuf,
    pub bytes: u64,
    pub duration: Duration,
    /// Every table with its row count; `None` counts where only the archive's list was read
    /// (a PostgreSQL backup before `check`).
    pub tables: Vec<(String, Option<i64>)>,
    /// Migrations recorded in the copy.
    pub migrations: usize,
    /// Migrations this build has that the copy has not yet (applied at the next start).
    pub pending_migrations: usize,
    /// Activity chains verified intact (`None` when not verified).
    pub chains: Option<usize>,
}

impl Report {
    /// The lines `leman` prints.
    pub fn lines(&self) -> Vec<String> {
        let rows: i64 = self.tables.iter().filter_map(|(_, n)| *n).sum();
        let counted = self.tables.iter().all(|(_, n)| n.is_some());
        let mut out = vec![format!(
            "{}: {} bytes, {} tables{}, {} migrations{}, {:.3} s",
            self.file.display(),
            self.bytes,
            self.tables.len(),
            if counted {
                format!(" ({rows} rows)")
            } else {
                String::new()
            },
            self.migrations,
            if self.pending_migrations > 0 {
                format!(" ({} to apply at the next start)", self.pending_migrations)
            } else {
                String::new()
            },
            self.duration.as_secs_f64()
        )];
        if let Some(chains) = self.chains {
            out.push(format!("activity chains: {chains} intact"));
        }
        for (table, n) in &self.tables {
            out.push(match n {
                Some(n) => format!("  {table}: {n}"),
                None => format!("  {table}"),
            });
        }
        out
    }
}

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const PG_MAGIC: &[u8] = b"PGDMP";

/// Writes a consistent copy of the database `url` names to `output`. An existing `output` is
/// refused unless `force`.
pub fn backup(url: &DatabaseUrl, output: &Path, force: bool) -> anyhow::Result<Report> {
    let started = Instant::now();
    if output.exists() && !force {
        bail!(
            "{} already exists; choose another name or pass --force to replace it",
            output.display()
        );
    }
    let partial = partial_path(output)?;
    let _ = std::fs::remove_file(&partial);
    // Readable by its owner only: a backup holds password hashes, TOTP and webhook secrets and
    // the generated token-signing keys. Created empty here (VACUUM INTO and pg_dump both write
    // into an empty file), so the mode is set before any byte is written.
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&partial)
            .with_context(|| format!("creating {}", partial.display()))?;
    }
    let outcome = match url.engine {
        Engine::Sqlite => backup_sqlite(url, output, &partial),
        Engine::Postgres => backup_postgres(url, &partial),
    };
    let mut report = match outcome {
        Ok(report) => report,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    publish(&partial, output)?;
    report.file = output.to_path_buf();
    report.duration = started.elapsed();
    Ok(report)
}

/// Checks a backup file of either engine. A PostgreSQL archive is restored into a scratch
/// database on the server `url` names (created, then dropped), to count its rows and verify its
/// chains; without a PostgreSQL `url` only its list and migrations are read.
pub fn check(url: &DatabaseUrl, file: &Path) -> anyhow::Result<Report> {
    let started = Instant::now();
    let mut report = match kind_of(file)? {
        Engine::Sqlite => verify_sqlite_copy(file, true)?,
        Engine::Postgres => {
            let mut report = verify_archive(file)?;
            if url.engine != Engine::Postgres {
                bail!(
                    "{} is a PostgreSQL archive: its list and migrations are sound, but checking \
                     its rows restores it into a scratch database; set DATABASE_URL to a \
                     PostgreSQL server",
                    file.display()
                );
            }
            let scratch = format!("leman_check_{}", uuid::Uuid::now_v7().simple());
            let mut admin = url
                .connect()
                .map_err(|e| anyhow!("cannot connect to the database: {e}"))?;
            sql::create_database(&mut admin, &scratch)
                .with_context(|| format!("creating the scratch database {scratch}"))?;
            let scratch_url = with_database(url, &scratch)?;
            let outcome = pg_restore_into(&scratch_url, file, false).and_then(|()| {
                let mut conn = scratch_url.connect().map_err(|e| anyhow!(e))?;
                inspect(&mut conn, true)
            });
            // The scratch database goes whatever happened.
            let _ = sql::drop_database(&mut admin, &scratch);
            let inspected = outcome?;
            report.tables = inspected.tables;
            report.chains = inspected.chains;
            report.migrations = inspected.migrations;
            report.pending_migrations = inspected.pending_migrations;
            report
        }
    };
    report.duration = started.elapsed();
    Ok(report)
}

/// Restores `input` (made by `backup`) into the database `url` names, which must be empty (or
/// missing, for SQLite) unless `force`; then verifies what was restored.
pub fn restore(url: &DatabaseUrl, input: &Path, force: bool) -> anyhow::Result<Report> {
    let started = Instant::now();
    let kind = kind_of(input)?;
    if kind != url.engine {
        bail!(
            "{} is a {} backup, but DATABASE_URL names a {} database",
            input.display(),
            engine_name(kind),
            engine_name(url.engine)
        );
    }
    let mut report = match kind {
        Engine::Sqlite => restore_sqlite(url, input, force)?,
        Engine::Postgres => restore_postgres(url, input, force)?,
    };
    report.file = input.to_path_buf();
    report.duration = started.elapsed();
    Ok(report)
}

fn engine_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "SQLite",
        Engine::Postgres => "PostgreSQL",
    }
}

fn kind_of(file: &Path) -> anyhow::Result<Engine> {
    use std::io::Read as _;
    let mut head = [0u8; 16];
    let mut f =
        std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let n = f.read(&mut head)?;
    if n >= SQLITE_MAGIC.len() && &head[..SQLITE_MAGIC.len()] == SQLITE_MAGIC {
        Ok(Engine::Sqlite)
    } else if n >= PG_MAGIC.len() && &head[..PG_MAGIC.len()] == PG_MAGIC {
        Ok(Engine::Postgres)
    } else {
        bail!(
            "{} is neither a SQLite database nor a pg_dump custom-format archive",
            file.display()
        )
    }
}

/// `.NAME.partial-PID` beside `output`: same directory, so the final rename is atomic.
fn partial_path(output: &Path) -> anyhow::Result<PathBuf> {
    let name = output
        .file_name()
        .ok_or_else(|| anyhow!("{} names no file", output.display()))?
        .to_string_lossy();
    Ok(output.with_file_name(format!(".{name}.partial-{}", std::process::id())))
}

/// Flushes `partial` to disk, renames it to `output` (replacing it), and flushes the directory
/// entry: after a crash either the old file or the whole new one is there.
fn publish(partial: &Path, output: &Path) -> anyhow::Result<()> {
    let synced = std::fs::File::open(partial).and_then(|f| f.sync_all());
    if let Err(e) = synced.and_then(|()| std::fs::rename(partial, output)) {
        let _ = std::fs::remove_file(partial);
        return Err(anyhow!("cannot write {}: {e}", output.display()));
    }
    if let Some(dir) = output.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn backup_sqlite(url: &DatabaseUrl, output: &Path, partial: &Path) -> anyhow::Result<Report> {
    let db = Path::new(&url.target);
    if let (Ok(a), Ok(b)) = (db.canonicalize(), output.canonicalize())
        && a == b
    {
        bail!("the backup cannot replace the database it copies");
    }
    let mut conn = url
        .connect_existing()
        .map_err(|e| anyhow!("cannot open the database {}: {e}", url.target))?;
    let dest = partial
        .to_str()
        .ok_or_else(|| anyhow!("{} is not valid UTF-8", partial.display()))?;
    sql::vacuum_into(&mut conn, dest).context("copying the database (VACUUM INTO)")?;
    drop(conn);
    let report = verify_sqlite_copy(partial, false)?;
    if report.pending_migrations > 0 {
        bail!(
            "the database lacks {} migration(s) of this build: run `leman migrate` (or start the \
             server) first, then back up",
            report.pending_migrations
        );
    }
    Ok(report)
}

/// Opens a SQLite copy read-only and checks it: integrity, foreign keys, migrations no newer
/// than this build's; counts rows; with `chains`, verifies the activity chains too.
fn verify_sqlite_copy(file: &Path, chains: bool) -> anyhow::Result<Report> {
    let path = file
        .to_str()
        .ok_or_else(|| anyhow!("{} is not valid UTF-8", file.display()))?;
    let mut conn = sql::open_sqlite_read_only(path)
        .map_err(|e| anyhow!("cannot open {}: {e}", file.display()))?;
    let problems =
        sql::sqlite_problems(&mut conn).with_context(|| format!("checking {}", file.display()))?;
    if !problems.is_empty() {
        bail!(
            "{} is damaged: {}",
            file.display(),
            problems
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let mut report = inspect(&mut conn, chains)?;
    report.file = file.to_path_buf();
    report.bytes = std::fs::metadata(file)?.len();
    Ok(report)
}

/// Row counts, migrations (refusing a copy made by a newer build) and, with `chains`, the
/// activity chains of the database `conn` is open on.
fn inspect(conn: &mut DbConnection, chains: bool) -> anyhow::Result<Report> {
    let engine = conn.engine();
    let applied = sql::applied_migrations(conn)?;
    if applied.is_empty() {
        bail!("the copy has no migration table: it is not a Leman database");
    }
    let known = sql::known_migrations(engine).map_err(|e| anyhow!(e))?;
    let unknown: Vec<&String> = applied.iter().filter(|v| !known.contains(v)).collect();
    if !unknown.is_empty() {
        bail!(
            "the copy has migration(s) this build does not know ({}): restore it with the \
             release that made it",
            unknown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let pending_migrations = known.iter().filter(|v| !applied.contains(v)).count();
    let names = sql::tables(conn)?;
    let tables = sql::row_counts(conn, &names)?
        .into_iter()
        .map(|(t, n)| (t, Some(n)))
        .collect();
    let chains = if chains {
        let reports = audit::verify_all(conn)?;
        if let Some(r) = reports.iter().find(|r| r.first_broken.is_some()) {
            let b = r.first_broken.as_ref().expect("found broken");
            bail!(
                "activity chain {} is broken at position {}: {}",
                r.chain_id,
                b.seq,
                b.reason
            );
        }
        Some(reports.len())
    } else {
        None
    };
    Ok(Report {
        engine,
        file: PathBuf::new(),
        bytes: 0,
        duration: Duration::ZERO,
        tables,
        migrations: applied.len(),
        pending_migrations,
        chains,
    })
}

fn restore_sqlite(url: &DatabaseUrl, input: &Path, force: bool) -> anyhow::Result<Report> {
    let target = PathBuf::from(&url.target);
    if target.exists() && !force {
        let empty = std::fs::metadata(&target)?.len() == 0 || {
            let mut conn = sql::open_sqlite_read_only(&url.target)
                .map_err(|e| anyhow!("cannot open {}: {e}", target.display()))?;
            !sql::has_tables(&mut conn)?
        };
        if !empty {
            bail!(
                "{} already holds a database; restore into a fresh data directory, or stop the \
                 server and pass --force to replace it",
                target.display()
            );
        }
    }
    // Checked before anything is touched: a damaged backup leaves the target as it was.
    let report = verify_sqlite_copy(input, true)?;
    if let Some(dir) = target.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let partial = partial_path(&target)?;
    let copied = std::fs::copy(input, &partial);
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        bail!(
            "cannot copy {} beside {}: {e}",
            input.display(),
            target.display()
        );
    }
    // The replaced database's write-ahead log and index belong to it: left beside the new file,
    // SQLite would replay them into it. Folded into the old file first, so that a restore
    // stopped between their removal and the rename leaves the old database whole.
    if force && target.exists() {
        let path = target
            .to_str()
            .ok_or_else(|| anyhow!("{} is not valid UTF-8", target.display()))?;
        match sql::checkpoint_sqlite(path) {
            Ok(true) => {}
            Ok(false) => {
                let _ = std::fs::remove_file(&partial);
                bail!(
                    "{} is in use (its write-ahead log is held): stop the server first",
                    target.display()
                );
            }
            // A damaged database (the reason for many a restore) is replaced as it is.
            Err(e) => tracing::warn!("{} cannot be opened to fold its log: {e}", target.display()),
        }
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = target.clone().into_os_string();
        side.push(suffix);
        match std::fs::remove_file(&side) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => bail!("cannot remove {}: {e}", PathBuf::from(side).display()),
        }
    }
    publish(&partial, &target)?;
    Ok(report)
}

fn restore_postgres(url: &DatabaseUrl, input: &Path, force: bool) -> anyhow::Result<Report> {
    let mut report = verify_archive(input)?;
    let mut conn = url
        .connect()
        .map_err(|e| anyhow!("cannot connect to the database: {e}"))?;
    let occupied = sql::has_tables(&mut conn)?;
    if occupied && !force {
        bail!(
            "the database DATABASE_URL names already holds tables; restore into an empty \
             database (createdb), or stop the servers and pass --force to drop its public \
             schema first"
        );
    }
    drop(conn);
    pg_restore_into(url, input, occupied)?;
    let mut conn = url
        .connect()
        .map_err(|e| anyhow!("cannot connect to the database: {e}"))?;
    let inspected = inspect(&mut conn, true)?;
    report.tables = inspected.tables;
    report.chains = inspected.chains;
    report.migrations = inspected.migrations;
    report.pending_migrations = inspected.pending_migrations;
    Ok(report)
}

/// The URL without its password, and the password (for `PGPASSWORD`): a password on a command
/// line is visible to every user of the machine (`ps`).
fn libpq_target(url: &DatabaseUrl) -> anyhow::Result<(String, Option<String>)> {
    let mut parsed =
        url::Url::parse(&url.target).map_err(|e| anyhow!("DATABASE_URL is not a URL: {e}"))?;
    let mut password = parsed.password().map(percent_decode);
    if password.is_some() {
        parsed
            .set_password(None)
            .map_err(|()| anyhow!("DATABASE_URL: cannot separate the password"))?;
    }
    // libpq also takes `?password=…` (the last one wins, as in libpq).
    if parsed.query_pairs().any(|(k, _)| k == "password") {
        let (secret, kept): (Vec<_>, Vec<_>) = parsed
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .partition(|(k, _)| k == "password");
        password = secret.into_iter().last().map(|(_, v)| v);
        if kept.is_empty() {
            parsed.set_query(None);
        } else {
            parsed.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    Ok((parsed.to_string(), password))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The same server, another database.
fn with_database(url: &DatabaseUrl, name: &str) -> anyhow::Result<DatabaseUrl> {
    let mut parsed =
        url::Url::parse(&url.target).map_err(|e| anyhow!("DATABASE_URL is not a URL: {e}"))?;
    parsed.set_path(&format!("/{name}"));
    Ok(DatabaseUrl {
        engine: Engine::Postgres,
        target: parsed.to_string(),
    })
}

/// Runs a PostgreSQL client tool; its standard output, or an error carrying its standard error.
fn pg_tool(tool: &str, args: &[&str], url: Option<&DatabaseUrl>) -> anyhow::Result<Vec<u8>> {
    let mut cmd = Command::new(tool);
    cmd.args(args).env("PGCONNECT_TIMEOUT", "10");
    if let Some(url) = url {
        let (target, password) = libpq_target(url)?;
        cmd.arg(format!("--dbname={target}"));
        if let Some(p) = password {
            cmd.env("PGPASSWORD", p);
        }
    }
    let out = cmd.output().map_err(|e| tool_missing(tool, e))?;
    if !out.status.success() {
        bail!(
            "{tool} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

fn tool_missing(tool: &str, e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        anyhow!(
            "{tool} is not on PATH: install the PostgreSQL client tools of the server's major \
             version (Debian: apt-get install postgresql-client), or run the documented command \
             by hand (docs/backup.md)"
        )
    } else {
        anyhow!("cannot run {tool}: {e}")
    }
}

fn backup_postgres(url: &DatabaseUrl, partial: &Path) -> anyhow::Result<Report> {
    let file = partial
        .to_str()
        .ok_or_else(|| anyhow!("{} is not valid UTF-8", partial.display()))?;
    // One repeatable-read transaction: the archive is the database as of the moment it began.
    pg_tool(
        "pg_dump",
        &["--format=custom", &format!("--file={file}")],
        Some(url),
    )?;
    let report = verify_archive(partial)?;
    if report.pending_migrations > 0 {
        bail!(
            "the database lacks {} migration(s) of this build: run `leman migrate` (or start the \
             server) first, then back up",
            report.pending_migrations
        );
    }
    Ok(report)
}

/// Reads a custom-format archive's table of contents (`pg_restore --list`) and its migration
/// table's rows, without a database.
fn verify_archive(file: &Path) -> anyhow::Result<Report> {
    let absolute = tool_path(file)?;
    let path = absolute.as_str();
    let list =
        String::from_utf8_lossy(&pg_tool("pg_restore", &["--list", path], None)?).into_owned();
    // A data entry: `123; 0 16390 TABLE DATA public invoices postgres`.
    let mut tables: Vec<String> = list
        .lines()
        .filter(|l| !l.starts_with(';'))
        .filter_map(|l| {
            let (_, rest) = l.split_once(" TABLE DATA public ")?;
            rest.split_whitespace().next().map(str::to_string)
        })
        .collect();
    tables.sort();
    if !tables.iter().any(|t| t == "__diesel_schema_migrations") {
        bail!(
            "{} holds no migration table: it is not a dump of a Leman database",
            file.display()
        );
    }
    tables.retain(|t| t != "__diesel_schema_migrations");
    let data = String::from_utf8_lossy(&pg_tool(
        "pg_restore",
        &[
            "--data-only",
            "--table=__diesel_schema_migrations",
            "--file=-",
            path,
        ],
        None,
    )?)
    .into_owned();
    // `COPY public.__diesel_schema_migrations (version, run_on) FROM stdin;` then one row a line
    // (tab-separated) up to `\.`.
    let mut applied: Vec<String> = data
        .lines()
        .skip_while(|l| !l.starts_with("COPY "))
        .skip(1)
        .take_while(|l| *l != "\\.")
        .filter_map(|l| l.split('\t').next().map(str::to_string))
        .collect();
    applied.sort();
    let known = sql::known_migrations(Engine::Postgres).map_err(|e| anyhow!(e))?;
    if let Some(v) = applied.iter().find(|v| !known.contains(v)) {
        bail!(
            "{} has migration {v}, which this build does not know: restore it with the release \
             that made it",
            file.display()
        );
    }
    let pending_migrations = known.iter().filter(|v| !applied.contains(v)).count();
    Ok(Report {
        engine: Engine::Postgres,
        file: file.to_path_buf(),
        bytes: std::fs::metadata(file)?.len(),
        duration: Duration::ZERO,
        tables: tables.into_iter().map(|t| (t, None)).collect(),
        migrations: applied.len(),
        pending_migrations,
        chains: None,
    })
}

/// A file's path as a PostgreSQL tool's argument: absolute, so that a name starting with `-` is
/// never taken for an option.
fn tool_path(file: &Path) -> anyhow::Result<String> {
    let absolute =
        std::path::absolute(file).with_context(|| format!("cannot resolve {}", file.display()))?;
    absolute
        .into_os_string()
        .into_string()
        .map_err(|_| anyhow!("{} is not valid UTF-8", file.display()))
}

/// Restores the archive into the database `url` names in one transaction: `pg_restore` writes the
/// archive as SQL and `psql` runs it between our `BEGIN` and a `COMMIT` sent only once
/// `pg_restore` has finished well, after emptying the public schema when `replace` (`--force`).
/// An archive that fails half-way (in `pg_restore` or in `psql`) is never committed: the
/// database stays as it was, its old schema included.
fn pg_restore_into(url: &DatabaseUrl, file: &Path, replace: bool) -> anyhow::Result<()> {
    use std::process::Stdio;
    let path = tool_path(file)?;
    let (target, password) = libpq_target(url)?;
    let mut script = Command::new("pg_restore")
        .args(["--no-owner", "--no-privileges", "--file=-", &path])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| tool_missing("pg_restore", e))?;
    let mut psql = Command::new("psql");
    psql.args([
        "--no-psqlrc",
        "--quiet",
        "--set=ON_ERROR_STOP=1",
        "--file=-",
        &format!("--dbname={target}"),
    ])
    .env("PGCONNECT_TIMEOUT", "10")
    // Few lines on stderr (read only at the end): no NOTICE per dropped object.
    .env("PGOPTIONS", "-c client_min_messages=warning")
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    if let Some(p) = password {
        psql.env("PGPASSWORD", p);
    }
    let mut psql = match psql.spawn() {
        Ok(child) => child,
        Err(e) => {
            let _ = script.kill();
            let _ = script.wait();
            return Err(tool_missing("psql", e));
        }
    };
    let mut input = psql.stdin.take().expect("psql's stdin is piped");
    let mut sql_out = script.stdout.take().expect("pg_restore's stdout is piped");
    // A write error means psql stopped (its error says why, below).
    let fed = (|| -> std::io::Result<()> {
        input.write_all(b"BEGIN;\n")?;
        if replace {
            input.write_all(sql::RESET_PUBLIC_SCHEMA.as_bytes())?;
        }
        std::io::copy(&mut sql_out, &mut input)?;
        Ok(())
    })();
    // pg_restore sees a closed pipe if psql stopped early, and ends.
    drop(sql_out);
    let read = script.wait_with_output()?;
    let whole = fed.is_ok() && read.status.success();
    if whole {
        // psql stops at an error (ON_ERROR_STOP), so it reaches this line only without one.
        let _ = input.write_all(b"COMMIT;\n");
    }
    // Without COMMIT, psql's end of input ends the session and the transaction rolls back.
    drop(input);
    let restored = psql.wait_with_output()?;
    if !restored.status.success() || fed.is_err() {
        bail!(
            "psql failed ({}): {}; the database is unchanged",
            restored.status,
            String::from_utf8_lossy(&restored.stderr).trim()
        );
    }
    if !whole {
        bail!(
            "pg_restore failed ({}): {}; the database is unchanged",
            read.status,
            String::from_utf8_lossy(&read.stderr).trim()
        );
    }
    Ok(())
}

/// Prints a report's lines to standard output.
pub fn print(report: &Report) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in report.lines() {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(url: &str) -> DatabaseUrl {
        DatabaseUrl {
            engine: Engine::Postgres,
            target: url.to_string(),
        }
    }

    /// Attack review: a password given as `?password=` reached pg_dump's command line (`ps`).
    #[test]
    fn no_password_reaches_a_tools_command_line() {
        let (url, password) = libpq_target(&pg(
            "postgres://leman:s%40cret@db:5432/leman?sslmode=require",
        ))
        .unwrap();
        assert_eq!(url, "postgres://leman@db:5432/leman?sslmode=require");
        assert_eq!(password.as_deref(), Some("s@cret"));
        let (url, password) = libpq_target(&pg(
            "postgres://leman@db/leman?password=one&sslmode=disable&password=two%26",
        ))
        .unwrap();
        assert_eq!(url, "postgres://leman@db/leman?sslmode=disable");
        assert_eq!(password.as_deref(), Some("two&"));
        let (url, password) = libpq_target(&pg("postgres://db/leman?password=x")).unwrap();
        assert_eq!(url, "postgres://db/leman");
        assert_eq!(password.as_deref(), Some("x"));
    }

    #[test]
    fn a_tools_file_argument_never_starts_with_a_dash() {
        let p = tool_path(Path::new("-h.backup")).unwrap();
        assert!(p.starts_with('/') && p.ends_with("/-h.backup"), "{p}");
    }
}
