//! A private PostgreSQL server on loopback, from Debian's `postgresql`
//! package (`scripts/install-postgresql.sh` installs it on first use).
//!
//! [`Postgres::start`] runs `initdb` into a new temporary directory and
//! `pg_ctl start` on a free port of 127.0.0.1, with the socket directory
//! in the same temporary directory, so no system cluster is touched. The
//! server runs as the `postgres` user when the test runs as root (it
//! refuses root). Dropping the value stops it with `pg_ctl stop -m fast`
//! and removes the directory.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How long `pg_ctl` waits for the server to start or stop (seconds).
const PG_CTL_TIMEOUT_SECS: &str = "60";

/// A running private PostgreSQL server.
pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs `program args` as the `postgres` user when we are root.
fn as_postgres(program: &Path, args: &[&str]) -> std::process::Output {
    let mut command = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    command
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

impl Postgres {
    /// Installs PostgreSQL if it is missing and starts a private server.
    ///
    /// # Panics
    ///
    /// When it cannot be installed or started, with the server's log.
    pub fn start() -> Postgres {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new("bash")
            .arg(root.join("scripts/install-postgresql.sh"))
            .output()
            .expect("cannot run scripts/install-postgresql.sh");
        assert!(
            out.status.success(),
            "scripts/install-postgresql.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let dir =
            std::env::temp_dir().join(format!("traced-pg-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        if is_root() {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown");
            assert!(
                status.success(),
                "cannot give {} to postgres",
                dir.display()
            );
        }
        let data = dir.join("data");
        let init = as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                &data.to_string_lossy(),
                "-A",
                "trust",
                "-U",
                "postgres",
            ],
        );
        assert!(
            init.status.success(),
            "initdb failed:\n{}",
            String::from_utf8_lossy(&init.stderr)
        );
        let port = free_port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            dir.display()
        );
        let log = dir.join("log");
        let started = as_postgres(
            &bin.join("pg_ctl"),
            &[
                "-D",
                &data.to_string_lossy(),
                "-o",
                &options,
                "-l",
                &log.to_string_lossy(),
                "-t",
                PG_CTL_TIMEOUT_SECS,
                "-w",
                "start",
            ],
        );
        let server = Postgres { bin, dir, port };
        assert!(
            started.status.success(),
            "pg_ctl start failed:\n{}\n{}",
            String::from_utf8_lossy(&started.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        server
    }

    /// The port it listens on, on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = as_postgres(
            &self.bin.join("pg_ctl"),
            &[
                "-D",
                &data.to_string_lossy(),
                "-m",
                "fast",
                "-t",
                PG_CTL_TIMEOUT_SECS,
                "-w",
                "stop",
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
