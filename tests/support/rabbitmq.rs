//! A private RabbitMQ node on loopback, from Debian's `rabbitmq-server`
//! package (`scripts/install-rabbitmq.sh` installs it on first use).
//!
//! [`RabbitMq::start`] runs `rabbitmq-server` with its own node name, data
//! directory, and AMQP, distribution and epmd ports on 127.0.0.1, and waits
//! (bounded) until the AMQP port accepts connections. Its epmd runs in the
//! foreground as our child (the node finds it on its port instead of
//! daemonising one of its own). Dropping the value stops the node with
//! `rabbitmqctl stop`, kills that epmd by its pid, and removes the
//! directory.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long the node has to accept AMQP connections.
pub const START_TIMEOUT: Duration = Duration::from_secs(90);

/// A running private RabbitMQ node.
pub struct RabbitMq {
    dir: PathBuf,
    node: String,
    amqp_port: u16,
    dist_port: u16,
    epmd_port: u16,
    epmd: Option<Child>,
    /// `rabbitmq-server` (Debian's wrapper, which runs the node).
    server: Option<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl RabbitMq {
    /// Installs RabbitMQ if it is missing and starts a private node.
    ///
    /// # Panics
    ///
    /// When it cannot be installed or does not start in time, with its log.
    pub fn start() -> RabbitMq {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = Command::new("bash")
            .arg(root.join("scripts/install-rabbitmq.sh"))
            .output()
            .expect("cannot run scripts/install-rabbitmq.sh");
        assert!(
            out.status.success(),
            "scripts/install-rabbitmq.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (amqp_port, dist_port, epmd_port) = (free_port(), free_port(), free_port());
        let dir = std::env::temp_dir().join(format!(
            "traced-rabbitmq-{}-{amqp_port}",
            std::process::id()
        ));
        for sub in ["mnesia", "log"] {
            std::fs::create_dir_all(dir.join(sub)).expect("a temporary directory");
        }
        std::fs::write(dir.join("plugins"), "[].\n").expect("the plugins file");
        // Debian's wrapper runs the node as `rabbitmq`: the directory must be its.
        let _ = Command::new("chown")
            .args(["-R", "rabbitmq:rabbitmq"])
            .arg(&dir)
            .status();
        let node = RabbitMq {
            node: format!("traced_test_{}@localhost", std::process::id()),
            dir,
            amqp_port,
            dist_port,
            epmd_port,
            epmd: None,
            server: None,
        };
        let mut node = node;
        node.epmd = Some(
            node.command("epmd")
                .args(["-port", &epmd_port.to_string(), "-address", "127.0.0.1"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("cannot start epmd"),
        );
        super::wait::until(START_TIMEOUT, "epmd listening", || {
            TcpStream::connect(("127.0.0.1", epmd_port)).ok()
        });
        let log = std::fs::File::create(node.dir.join("out.log")).expect("the output log");
        let server = node
            .command("rabbitmq-server")
            .current_dir(&node.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the output log"))
            .stderr(log)
            .spawn()
            .expect("cannot start rabbitmq-server");
        node.server = Some(server);
        let accepting = super::wait::try_until(START_TIMEOUT, || {
            TcpStream::connect(("127.0.0.1", amqp_port)).ok()
        });
        assert!(
            accepting.is_some(),
            "rabbitmq-server did not accept AMQP connections within {START_TIMEOUT:?}:\n{}",
            std::fs::read_to_string(node.dir.join("out.log")).unwrap_or_default()
        );
        node
    }

    /// A command with this node's environment.
    fn command(&self, program: &str) -> Command {
        let d = &self.dir;
        let mut command = Command::new(program);
        command
            .env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.amqp_port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("ERL_EPMD_PORT", self.epmd_port.to_string())
            .env("ERL_EPMD_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_MNESIA_BASE", d.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", d.join("log"))
            .env("RABBITMQ_PID_FILE", d.join("pid"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", d.join("plugins"))
            .env("RABBITMQ_FEATURE_FLAGS_FILE", d.join("feature_flags"))
            .env("RABBITMQ_CONFIG_FILE", d.join("rabbitmq"))
            .env("ERL_CRASH_DUMP", d.join("erl_crash.dump"));
        command
    }

    /// `amqp://guest:guest@127.0.0.1:PORT/%2f`.
    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.amqp_port)
    }
}

impl Drop for RabbitMq {
    fn drop(&mut self) {
        let _ = self
            .command("rabbitmqctl")
            .args(["-n", &self.node, "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        // Stopped: the wrapper has ended or ends now.
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
        if let Some(mut epmd) = self.epmd.take() {
            let _ = epmd.kill();
            let _ = epmd.wait();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
