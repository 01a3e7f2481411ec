//! Finding 13 of the security review: on PostgreSQL, `leman migrate` and `leman audit verify`
//! were killed by SIGSEGV after finishing their work, about one run in ten (OpenSSL's exit-time
//! clean-up freed its state while a pool thread was still opening a TLS connection). Operators
//! script these commands and read their exit code, so each must exit 0 every time.

use crate::helpers::TestApp;

#[tokio::test]
async fn f13_commands_exit_cleanly_every_time_on_postgresql() {
    let app = TestApp::spawn().await;
    // The test databases connect without TLS; the crash needed it, so ask for it here (`prefer`
    // falls back to a plain connection where the server offers no TLS).
    let url = app
        .db
        .url
        .replace("?sslmode=disable", "")
        .replace("&sslmode=disable", "");
    let runs = if app.db.engine() == leman::db::Engine::Postgres {
        50
    } else {
        5
    };
    for args in [&["migrate"][..], &["audit", "verify"][..]] {
        for run in 0..runs {
            let out = app.cli(args, &[("DATABASE_URL", url.as_str())]);
            assert!(
                out.status.success(),
                "`leman {}` run {run}: {:?}\n{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
