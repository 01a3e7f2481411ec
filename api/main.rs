//! The `leman` command: serve (default), migrate, worker, openapi, check-config, users, jobs,
//! audit, registry, feedback, backup, restore.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use leman::config::{self, Config};
use leman::context::Services;
use leman::startup::Application;

#[derive(Parser)]
#[command(name = "leman", version, about = "Leman: the customer Manager API", after_help = config::settings_help())]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (and run background jobs unless LEMAN_JOBS=false). The default.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Run background jobs only, without the HTTP server.
    Worker,
    /// Print the OpenAPI document (or write it to a file).
    Openapi {
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// Validate the configuration and exit (0 when valid, 2 when not).
    CheckConfig,
    /// Manage accounts from the command line.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Billing operations.
    Billing {
        #[command(subcommand)]
        command: BillingCommand,
    },
    /// Fill the database with a demo account and organisation (and, for benchmarks, many
    /// invoices); prints the demo login.
    DemoData {
        /// Also generate this many paid invoices in the demo organisation.
        #[arg(long, default_value_t = 0)]
        invoices: u64,
    },
    /// Background jobs, by hand.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Check the activity record's integrity.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Feedback people sent (R53), for staff.
    Feedback {
        #[command(subcommand)]
        command: FeedbackCommand,
    },
    /// The domain registry (the built-in sandbox's simulations).
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// Copy the database to a file while the server runs (SQLite: a consistent snapshot;
    /// PostgreSQL: `pg_dump --format=custom`), checked before it gets its name; or check a
    /// backup (`leman backup check FILE`). See docs/backup.md.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Backup {
        #[command(subcommand)]
        command: Option<BackupCommand>,
        /// The backup file to write (a temporary file beside it is renamed once checked).
        #[arg(long, required = true)]
        output: Option<std::path::PathBuf>,
        /// Replace OUTPUT when it exists.
        #[arg(long)]
        force: bool,
    },
    /// Restore a backup into the (empty) database DATABASE_URL names, then verify it (tables,
    /// migrations, activity chains). Stop the servers first.
    Restore {
        /// The backup file (`leman backup --output`).
        #[arg(long)]
        input: std::path::PathBuf,
        /// Replace a database that already holds data (SQLite: the file; PostgreSQL: the
        /// public schema).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum BackupCommand {
    /// Check a backup file without touching the database: SQLite integrity, foreign keys,
    /// migrations, row counts and activity chains; a PostgreSQL archive's list, then a restore
    /// into a scratch database on DATABASE_URL's server (dropped after) for the same checks.
    Check {
        /// The backup file.
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum FeedbackCommand {
    /// Print the messages sent since a moment to standard output as JSON Lines (one object a
    /// line: id, created_at, user_id, email, service, language, message), oldest first, streamed
    /// page by page.
    Export {
        /// A day (`2026-12-01`, from its midnight UTC) or an RFC 3339 time
        /// (`2026-12-01T08:00:00Z`); messages sent at or after it.
        #[arg(long)]
        since: String,
    },
}

#[derive(Subcommand)]
enum RegistryCommand {
    /// Play the registry's other side against the sandbox registry (LEMAN_REGISTRY=sandbox).
    Simulate {
        #[command(subcommand)]
        command: SimulateCommand,
    },
}

#[derive(Subcommand)]
enum SimulateCommand {
    /// Ask for DOMAIN with CODE as the gaining registrar would: a wrong, expired or voided code
    /// (or a lock) is refused with exit 1; otherwise the transfer is pending until the
    /// extension's waiting period is over (`simulate advance`), or done at once where it has none.
    TransferRequest {
        /// The domain, e.g. example.com.
        domain: String,
        /// The transfer authorisation code its owner received.
        code: String,
        /// The gaining registrar's tag (default OTHER-REGISTRAR).
        #[arg(long)]
        registrar: Option<String>,
    },
    /// Move the sandbox registry's clock on by DAYS; transfers then due are approved (the
    /// `poll_registry` job then applies them).
    Advance {
        /// Whole days, 1 to 3650.
        #[arg(value_parser = clap::value_parser!(i64).range(1..=3650))]
        days: i64,
    },
}

#[derive(Subcommand)]
enum BillingCommand {
    /// Refund part or all of a paid invoice, to the prepaid account or the original method.
    Refund {
        /// The invoice number, e.g. 2026-000042.
        invoice: String,
        /// How much (default: all that is left to refund), e.g. 12.50.
        #[arg(long)]
        amount: Option<rust_decimal::Decimal>,
        /// `prepaid` or `original` (money paid from the prepaid account always goes back there).
        #[arg(long, default_value = "original")]
        to: String,
        /// Settle the refund left pending on this invoice (its command died, or the provider did
        /// not answer): the provider is asked again with the same refund id, never refunding twice.
        #[arg(long, conflicts_with_all = ["amount", "to"])]
        resume: bool,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// Run a periodic job once, now (e.g. `renew_due_products`), and exit: 0 when it succeeded;
    /// an unknown kind exits 1 listing the periodic jobs.
    Run {
        /// The job's kind.
        kind: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the hash chains (every organisation's, every user's); exit 1 at the first broken
    /// record of any chain, naming it.
    Verify {
        /// Only this chain (an organisation id, or `usr:…` as printed).
        #[arg(long)]
        chain: Option<String>,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create an account (for scripts, demos and contract tests).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long, default_value = "Demo")]
        first_name: String,
        #[arg(long, default_value = "User")]
        last_name: String,
        #[arg(long, default_value = "en")]
        language: String,
        /// Mark the email address as confirmed (otherwise the account cannot sign in yet).
        #[arg(long)]
        verified: bool,
    },
    /// End every active session of one account, or of everyone (a suspected intrusion, a key
    /// leak): each is signed out with a `session.ended` activity (reason `operator`); personal
    /// and application tokens stay (revoke those through the API). Prints how many ended.
    EndSessions {
        /// The account's login e-mail address.
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        email: Option<String>,
        /// Every account's sessions.
        #[arg(long)]
        all: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi { output }) = &cli.command {
        let json = leman::openapi::to_json(&leman::openapi::build());
        return match output {
            Some(path) => match std::fs::write(path, json) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("leman: cannot write {}: {e}", path.display());
                    ExitCode::FAILURE
                }
            },
            None => {
                print!("{json}");
                ExitCode::SUCCESS
            }
        };
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("leman: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(Command::CheckConfig) = cli.command {
        println!(
            "configuration is valid: {} database, listening on {}",
            engine_name(&config),
            config.bind
        );
        return ExitCode::SUCCESS;
    }
    leman::telemetry::init(config.log_json, &config.log_filter);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("leman: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::Migrate => Services::start(config)
                .await
                .map(|_| tracing::info!("database is up to date")),
            Command::Worker => worker(config).await,
            Command::Users {
                command:
                    UsersCommand::Create {
                        email,
                        password,
                        first_name,
                        last_name,
                        language,
                        verified,
                    },
            } => {
                create_user(
                    config, email, password, first_name, last_name, language, verified,
                )
                .await
            }
            Command::Users {
                command: UsersCommand::EndSessions { email, all: _ },
            } => end_sessions(config, email).await,
            Command::Audit {
                command: AuditCommand::Verify { chain },
            } => audit_verify(config, chain).await,
            Command::Billing {
                command:
                    BillingCommand::Refund {
                        invoice,
                        amount,
                        to,
                        resume,
                    },
            } => refund(config, invoice, amount, to, resume).await,
            Command::DemoData { invoices } => demo_data(config, invoices).await,
            Command::Jobs {
                command: JobsCommand::Run { kind },
            } => run_job(config, kind).await,
            Command::Registry {
                command: RegistryCommand::Simulate { command },
            } => simulate(config, command).await,
            Command::Feedback {
                command: FeedbackCommand::Export { since },
            } => export_feedback(config, since).await,
            Command::Backup {
                command: Some(BackupCommand::Check { file }),
                ..
            } => backup_check(config, file).await,
            Command::Backup {
                command: None,
                output,
                force,
            } => match output {
                Some(output) => backup(config, output, force).await,
                None => Err(anyhow::anyhow!("--output FILE is required")),
            },
            Command::Restore { input, force } => restore(config, input, force).await,
            Command::Openapi { .. } | Command::CheckConfig => unreachable!("handled above"),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("leman: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn engine_name(config: &Config) -> &'static str {
    match config.database_url.engine {
        leman::db::Engine::Sqlite => "SQLite",
        leman::db::Engine::Postgres => "PostgreSQL",
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let engine = engine_name(&config);
    let signals = leman::startup::Signals::install()?;
    let app = Application::build(config).await?;
    let addr = app.services().config.bind;
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        addr.ip().to_string()
    };
    tracing::info!(
        "Leman serves on http://{host}:{} ({engine}); API docs at http://{host}:{}/docs/",
        app.port(),
        app.port()
    );
    app.run_until_stopped(Some(signals)).await
}

async fn create_user(
    config: Config,
    email: String,
    password: String,
    first_name: String,
    last_name: String,
    language: String,
    verified: bool,
) -> anyhow::Result<()> {
    let services = Services::start(config).await?;
    let input = leman::services::accounts::SignUp {
        email,
        password,
        first_name,
        last_name,
        language: Some(language),
        timezone: None,
    };
    if !verified {
        leman::services::accounts::sign_up(
            &services.pool,
            &services.config,
            leman::domain::actor::Origin::operator("users create"),
            input,
        )
        .await
        .map_err(describe)?;
        println!("sign-up accepted; the verification mail is queued");
        return Ok(());
    }
    let user = leman::services::accounts::create_verified(&services.pool, input)
        .await
        .map_err(describe)?;
    println!("{}", user.id);
    Ok(())
}

fn describe(e: leman::error::AppError) -> anyhow::Error {
    let fields: Vec<String> = e
        .errors
        .iter()
        .map(|f| format!("{} {}", f.field, f.message))
        .collect();
    anyhow::anyhow!(
        "{}{}",
        e.detail,
        if fields.is_empty() {
            String::new()
        } else {
            format!(": {}", fields.join("; "))
        }
    )
}
async fn worker(config: Config) -> anyhow::Result<()> {
    let signals = leman::startup::Signals::install()?;
    let services = Services::start(config).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let runner = tokio::spawn(services.runner().run(stopped));
    tracing::info!("job worker running");
    signals.recv().await;
    tracing::info!("stopping: finishing running jobs");
    let _ = stop.send(true);
    let _ = runner.await;
    Ok(())
}

async fn end_sessions(config: Config, email: Option<String>) -> anyhow::Result<()> {
    let services = Services::start(config).await?;
    let ended = leman::services::sessions::end_by_operator(&services.pool, email)
        .await
        .map_err(describe)?;
    println!("{ended} session(s) ended");
    Ok(())
}

async fn audit_verify(config: Config, chain: Option<String>) -> anyhow::Result<()> {
    use leman::services::audit;
    let services = Services::start(config).await?;
    let reports = leman::db::run(&services.pool, move |conn| {
        Ok(match &chain {
            Some(c) => vec![audit::verify_chain(conn, c)?],
            None => audit::verify_all(conn)?,
        })
    })
    .await
    .map_err(describe)?;
    let mut broken = 0;
    for r in &reports {
        match &r.first_broken {
            None => println!("{}: intact ({} records)", r.chain_id, r.records),
            Some(b) => {
                broken += 1;
                println!(
                    "{}: BROKEN at position {} (record {}): {}",
                    r.chain_id,
                    b.seq,
                    b.id.as_deref().unwrap_or("missing"),
                    b.reason
                );
            }
        }
    }
    if broken > 0 {
        anyhow::bail!("{broken} of {} chain(s) broken", reports.len());
    }
    println!("{} chain(s) intact", reports.len());
    Ok(())
}

// Backups never go through `Services::start`: it would migrate (and, for SQLite, create) the
// database a backup copies or a restore must find empty.
async fn backup(config: Config, output: std::path::PathBuf, force: bool) -> anyhow::Result<()> {
    use leman::services::backup;
    let url = config.database_url.clone();
    let report =
        tokio::task::spawn_blocking(move || backup::backup(&url, &output, force)).await??;
    backup::print(&report)?;
    Ok(())
}

async fn backup_check(config: Config, file: std::path::PathBuf) -> anyhow::Result<()> {
    use leman::services::backup;
    let url = config.database_url.clone();
    let report = tokio::task::spawn_blocking(move || backup::check(&url, &file)).await??;
    backup::print(&report)?;
    println!("backup is sound");
    Ok(())
}

async fn restore(config: Config, input: std::path::PathBuf, force: bool) -> anyhow::Result<()> {
    use leman::services::backup;
    let url = config.database_url.clone();
    let report =
        tokio::task::spawn_blocking(move || backup::restore(&url, &input, force)).await??;
    backup::print(&report)?;
    println!("restored; `leman serve` can start on it");
    Ok(())
}

async fn export_feedback(config: Config, since: String) -> anyhow::Result<()> {
    use leman::services::feedback;
    use std::io::Write as _;
    let since = feedback::parse_since(&since).map_err(anyhow::Error::msg)?;
    let services = Services::start(config).await?;
    let n = leman::db::run(&services.pool, move |conn| {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        let n = feedback::export_since(conn, since, |f| {
            let line = serde_json::json!({
                "id": f.id,
                "created_at": f.created_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                "user_id": f.user_id,
                "email": f.email,
                "service": f.service,
                "language": f.language,
                "message": f.message,
            });
            writeln!(out, "{line}")
        })?;
        out.flush()
            .map_err(|e| leman::error::AppError::internal(format!("writing the export: {e}")))?;
        Ok(n)
    })
    .await
    .map_err(describe)?;
    eprintln!("{n} message(s)");
    Ok(())
}

async fn refund(
    config: Config,
    invoice: String,
    amount: Option<rust_decimal::Decimal>,
    to: String,
    resume: bool,
) -> anyhow::Result<()> {
    use leman::services::refunds::{self, Destination};
    if resume {
        let services = Services::start(config).await?;
        let money = refunds::resume(
            &services.pool,
            &services.config,
            services.gateway.clone(),
            invoice.clone(),
        )
        .await
        .map_err(describe)?;
        println!(
            "refunded {} of invoice {invoice} to the original payment method",
            money.display()
        );
        return Ok(());
    }
    let to = match to.as_str() {
        "prepaid" => Destination::Prepaid,
        "original" => Destination::Original,
        other => anyhow::bail!("--to must be prepaid or original, not {other}"),
    };
    let services = Services::start(config).await?;
    let (money, went) = refunds::refund(
        &services.pool,
        &services.config,
        services.gateway.clone(),
        invoice.clone(),
        amount,
        to,
    )
    .await
    .map_err(describe)?;
    let place = if went == Destination::Prepaid {
        "the prepaid account"
    } else {
        "the original payment method"
    };
    println!(
        "refunded {} of invoice {invoice} to {place}",
        money.display()
    );
    Ok(())
}

async fn run_job(config: Config, kind: String) -> anyhow::Result<()> {
    let kinds = leman::jobs::registry().periodic_kinds();
    if !kinds.contains(&kind) {
        anyhow::bail!(
            "no periodic job `{kind}`; periodic jobs: {}",
            kinds.join(", ")
        );
    }
    let services = Services::start(config).await?;
    services
        .runner()
        .run_now(&kind)
        .await
        .map_err(|e| anyhow::anyhow!("{kind}: {e}"))?;
    println!("{kind}: done");
    Ok(())
}

async fn simulate(config: Config, command: SimulateCommand) -> anyhow::Result<()> {
    use leman::registry::RegistryKind;
    use leman::registry::sandbox::SandboxRegistry;
    if config.registry != RegistryKind::Sandbox {
        anyhow::bail!(
            "simulations play against the sandbox registry only (LEMAN_REGISTRY=sandbox)"
        );
    }
    let services = Services::start(config).await?;
    let sandbox = SandboxRegistry::new(services.pool.clone(), services.catalog.extensions.clone());
    match command {
        SimulateCommand::TransferRequest {
            domain,
            code,
            registrar,
        } => {
            let name = leman::domain::domains::DomainName::parse(&domain, "domain")
                .map_err(|e| anyhow::anyhow!("{domain}: {}", e.message))?
                .ascii;
            let n = name.clone();
            let status = tokio::task::spawn_blocking(move || {
                sandbox.simulate_transfer_request(&n, &code, registrar.as_deref())
            })
            .await?
            .map_err(|e| anyhow::anyhow!("the registry refused the transfer of {name}: {e}"))?;
            println!("transfer of {name}: {}", status.as_str());
        }
        SimulateCommand::Advance { days } => {
            let now = tokio::task::spawn_blocking(move || sandbox.advance(days))
                .await?
                .map_err(|e| anyhow::anyhow!("advancing the sandbox's clock: {e}"))?;
            println!(
                "the sandbox registry's clock is now {}Z",
                now.format("%Y-%m-%dT%H:%M:%S")
            );
        }
    }
    Ok(())
}

async fn demo_data(config: Config, invoices: u64) -> anyhow::Result<()> {
    let services = Services::start(config).await?;
    let login = leman::services::demo::create(&services, invoices)
        .await
        .map_err(describe)?;
    println!("{login}");
    Ok(())
}
