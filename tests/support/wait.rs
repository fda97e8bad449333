//! Bounded waits on a real condition. Each one polls or blocks on the thing
//! a test needs (a child's first line of output, a child's exit) and
//! panics, saying what it waited for, when the time is up.

use std::io::{BufRead as _, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the polling waits look again.
const POLL: Duration = Duration::from_millis(20);

/// Waits for `child` to exit.
///
/// # Panics
///
/// When it is still running after `timeout` (it is killed then), naming
/// `what`.
pub fn exit(child: &mut Child, timeout: Duration, what: &str) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child
            .try_wait()
            .unwrap_or_else(|e| panic!("cannot wait for {what}: {e}"))
        {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not exit within {timeout:?}; killed it");
        }
        std::thread::sleep(POLL);
    }
}

/// The first line `stdout` delivers, without its line ending. The rest of
/// the output is read and dropped in the background, so the child never
/// blocks on (or is broken by) a full or closed pipe.
///
/// # Panics
///
/// When no line comes within `timeout`, or the output ends first, naming
/// `what`.
pub fn first_line(stdout: impl Read + Send + 'static, timeout: Duration, what: &str) -> String {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = tx.send(reader.read_line(&mut line).map(|_| line));
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(line)) if line.ends_with('\n') => line.trim_end().to_owned(),
        Ok(Ok(line)) => panic!("{what} ended its output before a whole first line: {line:?}"),
        Ok(Err(e)) => panic!("cannot read the output of {what}: {e}"),
        Err(_) => panic!("{what} printed no line within {timeout:?}"),
    }
}

/// Runs `command` to completion like [`Command::output`], but for at most
/// `timeout`.
///
/// # Panics
///
/// When it cannot start, or is still running after `timeout` (it is killed
/// then), with what it printed on stderr so far, naming `what`.
pub fn output(command: &mut Command, timeout: Duration, what: &str) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .unwrap_or_else(|e| panic!("cannot wait for {what}: {e}"))
        {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = stderr.join().unwrap_or_default();
            panic!(
                "{what} did not finish within {timeout:?}; killed it. Its stderr:\n{}",
                String::from_utf8_lossy(&stderr)
            );
        }
        std::thread::sleep(POLL);
    };
    Output {
        status,
        stdout: stdout.join().expect("the stdout reader"),
        stderr: stderr.join().expect("the stderr reader"),
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// A child process killed (and reaped) when dropped, so a failing test
/// leaves no process behind.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `ready` until it returns `Some`, and returns that.
///
/// # Panics
///
/// When it still returns `None` after `timeout`, naming `what`.
pub fn until<T>(timeout: Duration, what: &str, ready: impl FnMut() -> Option<T>) -> T {
    try_until(timeout, ready).unwrap_or_else(|| panic!("{what}: not within {timeout:?}"))
}

/// Polls `ready` until it returns `Some`, and returns that; `None` when it
/// still returns `None` after `timeout` (for a caller whose failure
/// message needs more than a name).
#[allow(dead_code)]
pub fn try_until<T>(timeout: Duration, mut ready: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = ready() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(POLL);
    }
}
