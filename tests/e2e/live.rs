//! A running `nemo` (or `script` giving it a terminal) whose output is read
//! as it comes, for tests that act while it runs: send a signal, type,
//! start another command. Every wait is bounded.

use std::io::Read;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A child process with its stdout and stderr collected by threads.
pub struct Live {
    pub child: Child,
    /// Kept open so a prompt reading it waits instead of seeing its end.
    pub stdin: Option<ChildStdin>,
    out: Arc<Mutex<String>>,
    err: Arc<Mutex<String>>,
}

fn collect(mut from: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let into = text.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    text
}

impl Live {
    pub fn start(mut command: Command) -> Live {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the process");
        let stdin = child.stdin.take();
        let out = collect(child.stdout.take().expect("stdout"));
        let err = collect(child.stderr.take().expect("stderr"));
        Live {
            child,
            stdin,
            out,
            err,
        }
    }

    /// `nemo ARGS` run on a terminal that util-linux `script` gives it
    /// (the command line goes through `sh`). `script` is needed: a test
    /// that cannot find it fails rather than pass without a terminal.
    pub fn on_terminal(shell_line: &str, vars: &[(&str, &std::ffi::OsStr)]) -> Live {
        let script = ["/usr/bin/script", "/bin/script"]
            .into_iter()
            .map(std::path::PathBuf::from)
            .find(|p| p.exists())
            .expect("util-linux `script` is needed to give nemo a terminal");
        let mut command = Command::new(script);
        command
            .args(["-qec", shell_line, "/dev/null"])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("TERM", "xterm");
        for (name, value) in vars {
            command.env(name, value);
        }
        Live::start(command)
    }

    pub fn stdout(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.err.lock().unwrap().clone()
    }

    /// Waits (bounded) until stdout or stderr holds `text`.
    pub fn wait_for(&self, text: &str, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.stdout().contains(text) || self.stderr().contains(text) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Sends a signal (`TERM`, `HUP`, `INT`) to `pid` with kill(1).
    pub fn signal(pid: u32, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} {pid}");
    }

    /// Waits (bounded) for the exit; its code (`None`: killed by a signal).
    /// A process still running after `limit` is killed and fails the test.
    pub fn finish(&mut self, limit: Duration) -> Option<i32> {
        drop(self.stdin.take());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                // Let the reader threads take the last bytes.
                std::thread::sleep(Duration::from_millis(100));
                return status.code();
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!(
                    "still running after {limit:?}\nstdout: {}\nstderr: {}",
                    self.stdout(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
