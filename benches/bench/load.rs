//! The external load generator: `wrk` (Debian's package, installed when missing), pinned to one
//! core while this process (both servers) is pinned to the other.

use std::process::Command;
use std::time::Duration;

/// The core the generator runs on; the servers get `SERVER_CORE`.
const GENERATOR_CORE: &str = "0";
const SERVER_CORE: &str = "1";
/// Connections `wrk` keeps open (one thread: it has one core).
pub const CONNECTIONS: usize = 16;

/// Installs `wrk` when it is not on the PATH (`apt-get install -y wrk`).
pub fn ensure_wrk() {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return;
    }
    println!("bench: installing wrk (apt-get install -y wrk)");
    let status = Command::new("apt-get")
        .args(["install", "-y", "wrk"])
        .status()
        .expect("apt-get");
    assert!(
        status.success(),
        "apt-get install -y wrk failed: install wrk"
    );
}

/// Pins every thread of this process (the servers, their blocking pools) to `SERVER_CORE`, or
/// lets them run anywhere again. Threads started later inherit the mask.
pub fn pin_servers(pinned: bool) {
    let cores = if pinned { SERVER_CORE } else { "0-1023" };
    let pid = std::process::id().to_string();
    let out = Command::new("taskset")
        .args(["-a", "-p", "-c", cores, &pid])
        .output()
        .expect("taskset (util-linux)");
    assert!(
        out.status.success(),
        "taskset: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What one `wrk` run measured.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    pub rps: f64,
    pub p99: Duration,
}

/// `wrk` on `url` for `secs`, pinned to `GENERATOR_CORE`, with `CONNECTIONS` connections;
/// every answer must be a 2xx.
pub fn wrk(url: &str, token: Option<&str>, secs: u64) -> Run {
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", GENERATOR_CORE, "wrk", "-t1", "--latency"])
        .arg(format!("-c{CONNECTIONS}"))
        .arg(format!("-d{secs}s"));
    if let Some(token) = token {
        cmd.arg("-H").arg(format!("Authorization: Bearer {token}"));
    }
    let out = cmd.arg(url).output().expect("wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk failed: {text}");
    assert!(
        !text.contains("Non-2xx or 3xx responses") && !text.contains("Socket errors"),
        "wrk saw errors on {url}:\n{text}"
    );
    let rps = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk's output:\n{text}"));
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .and_then(|v| parse_duration(v.trim()))
        .unwrap_or_else(|| panic!("no 99% latency in wrk's output:\n{text}"));
    Run { rps, p99 }
}

/// wrk's `1.23ms`, `456.00us`, `1.02s`.
fn parse_duration(v: &str) -> Option<Duration> {
    let (number, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = number.parse().ok()?;
    let secs = match unit {
        "us" => n / 1e6,
        "ms" => n / 1e3,
        "s" => n,
        "m" => n * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

/// Median and spread of ratios: (median, min, max, interquartile range low, high).
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub q1: f64,
    pub q3: f64,
}

pub fn spread(values: &[f64]) -> Spread {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    Spread {
        median: at(0.5),
        min: v[0],
        max: v[v.len() - 1],
        q1: at(0.25),
        q3: at(0.75),
    }
}
