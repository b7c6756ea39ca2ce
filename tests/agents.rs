//! Stand-ins for the processes coord meets: an agent tool (a long-lived
//! process that runs every command in a fresh `bash -c`, as Claude Code and
//! Codex do) and a human's terminal (an interactive `bash -i`). The agent is
//! this test binary itself, re-run as the ignored test `agents::agent_process`,
//! so `cargo test` needs nothing beyond Rust and bash.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support::*;

const MARK: &str = "@@coord-agent@@ ";

/// The agent's main loop: one JSON string (a script) per line on stdin, run
/// in a fresh `bash -c`; one marked JSON line back per script. Ends at EOF.
#[test]
#[ignore = "a stand-in agent process, started by the identity tests"]
fn agent_process() {
    let mut out = std::io::stdout();
    writeln!(
        out,
        "\n{MARK}{}",
        serde_json::json!({ "pid": std::process::id() })
    )
    .unwrap();
    out.flush().unwrap();
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let script: String = serde_json::from_str(&line).unwrap();
        let done = Command::new("bash").arg("-c").arg(&script).output().unwrap();
        let answer = serde_json::json!({
            "code": done.status.code().unwrap_or(-1),
            "stdout": String::from_utf8_lossy(&done.stdout),
            "stderr": String::from_utf8_lossy(&done.stderr),
        });
        writeln!(out, "\n{MARK}{answer}").unwrap();
        out.flush().unwrap();
    }
}

/// The environment every stand-in gets: the hub, the pinned clock, and
/// `$COORD`, the binary under test (scripts call `"$COORD"`, since a login
/// shell may reset PATH).
fn base_env(c: &mut Command, hub: &Hub, cwd: &Path) {
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", hub.tmp.path())
        .env("COORD", BIN)
        .env("COORD_NOW", &hub.now)
        .env("COORD_TESTING", "1")
        .current_dir(cwd);
}

/// How to start the agent process (this test binary, one ignored test).
fn agent_argv() -> (PathBuf, Vec<&'static str>) {
    let exe = std::env::current_exe().unwrap();
    (
        exe,
        vec![
            "--ignored",
            "--exact",
            "agents::agent_process",
            "--nocapture",
            "--test-threads=1",
            "-q",
        ],
    )
}

/// A stand-in agent.
pub struct Agent {
    pub pid: u32,
    child: Option<Child>,
    input: Box<dyn Write + Send>,
    output: BufReader<Box<dyn Read + Send>>,
}

impl Agent {
    /// An agent started by the test process, in the hub's repository.
    pub fn spawn(hub: &Hub, env: &[(&str, &str)]) -> Agent {
        Self::spawn_in(hub, &hub.repo(), env)
    }

    /// An agent started in `cwd` (found by walking up: no COORD_HUB).
    pub fn spawn_in(hub: &Hub, cwd: &Path, env: &[(&str, &str)]) -> Agent {
        let (exe, args) = agent_argv();
        let mut c = Command::new(exe);
        base_env(&mut c, hub, cwd);
        if cwd == hub.repo() {
            c.env("COORD_HUB", &hub.dir);
        }
        for (k, v) in env {
            c.env(k, v);
        }
        c.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        let input = Box::new(child.stdin.take().unwrap());
        let output = BufReader::new(Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>);
        Self::ready(Some(child), input, output)
    }

    fn ready(
        child: Option<Child>,
        input: Box<dyn Write + Send>,
        output: BufReader<Box<dyn Read + Send>>,
    ) -> Agent {
        let mut agent = Agent {
            pid: 0,
            child,
            input,
            output,
        };
        agent.pid = agent.answer()["pid"].as_u64().unwrap() as u32;
        agent
    }

    fn answer(&mut self) -> serde_json::Value {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(self.output.read_line(&mut line).unwrap() > 0, "the agent ended");
            if let Some(at) = line.find(MARK) {
                return serde_json::from_str(line[at + MARK.len()..].trim()).unwrap();
            }
        }
    }

    /// Run `script` the way agent tools do: `bash -c SCRIPT`.
    pub fn sh(&mut self, script: &str) -> Out {
        writeln!(self.input, "{}", serde_json::to_string(script).unwrap()).unwrap();
        self.input.flush().unwrap();
        let a = self.answer();
        Out {
            code: a["code"].as_i64().unwrap() as i32,
            stdout: a["stdout"].as_str().unwrap().to_string(),
            stderr: a["stderr"].as_str().unwrap().to_string(),
        }
    }

    /// `coord ARGS` in a fresh `bash -c`.
    pub fn coord(&mut self, args: &str) -> Out {
        self.sh(&format!("\"$COORD\" {args}"))
    }

    /// The agent exits (its tool was closed); returns once it is gone.
    pub fn exit(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        // EOF on its input ends the loop.
        self.input = Box::new(std::io::sink());
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        } else {
            let mut rest = String::new();
            let _ = self.output.read_to_string(&mut rest);
            wait_gone(self.pid);
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Wait until `pid` has exited (a process that is not our child).
fn wait_gone(pid: u32) {
    for _ in 0..500 {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if state.is_empty() || state.contains(") Z ") {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("process {pid} did not exit");
}

/// A human's terminal: an interactive bash reading what the human types.
pub struct Terminal {
    child: Child,
    input: std::process::ChildStdin,
    output: BufReader<std::process::ChildStdout>,
    dir: tempfile::TempDir,
    hub_dir: PathBuf,
    n: usize,
}

impl Terminal {
    pub fn open(hub: &Hub) -> Terminal {
        let mut c = Command::new("bash");
        base_env(&mut c, hub, &hub.repo());
        c.env("COORD_HUB", &hub.dir)
            .env("PS1", "")
            .env("PS2", "")
            .args(["--norc", "--noprofile", "-i"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = c.spawn().unwrap();
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        Terminal {
            child,
            input,
            output,
            dir: tempfile::tempdir().unwrap(),
            hub_dir: hub.dir.clone(),
            n: 0,
        }
    }

    /// Type a line; wait for it to finish. The command runs in the
    /// interactive shell itself (a simple command is forked from it).
    pub fn typed(&mut self, line: &str) -> Out {
        self.n += 1;
        let out = self.dir.path().join(format!("{}.out", self.n));
        let err = self.dir.path().join(format!("{}.err", self.n));
        writeln!(
            self.input,
            "{line} >'{}' 2>'{}'; echo \"@@done $?\"",
            out.display(),
            err.display()
        )
        .unwrap();
        self.input.flush().unwrap();
        let mut got = String::new();
        let code = loop {
            got.clear();
            assert!(
                self.output.read_line(&mut got).unwrap() > 0,
                "the terminal closed"
            );
            if let Some(at) = got.find("@@done ") {
                break got[at + 7..].trim().parse().unwrap();
            }
        };
        Out {
            code,
            stdout: std::fs::read_to_string(out).unwrap_or_default(),
            stderr: std::fs::read_to_string(err).unwrap_or_default(),
        }
    }

    /// `coord ARGS` typed at the prompt.
    pub fn coord(&mut self, args: &str) -> Out {
        self.typed(&format!("\"$COORD\" {args}"))
    }

    /// Launch an agent from this terminal (in the background, as a child of
    /// the interactive shell), talking through two named pipes.
    pub fn launch_agent(&mut self, env: &[(&str, &str)]) -> Agent {
        self.n += 1;
        let to = self.dir.path().join(format!("{}.in", self.n));
        let from = self.dir.path().join(format!("{}.out", self.n));
        for fifo in [&to, &from] {
            let ok = Command::new("mkfifo").arg(fifo).status().unwrap();
            assert!(ok.success());
        }
        let (exe, args) = agent_argv();
        let vars: String = env.iter().map(|(k, v)| format!("{k}='{v}' ")).collect();
        writeln!(
            self.input,
            "{vars}COORD_HUB='{}' '{}' {} <'{}' >'{}' 2>/dev/null &",
            self.hub_dir.display(),
            exe.display(),
            args.join(" "),
            to.display(),
            from.display()
        )
        .unwrap();
        self.input.flush().unwrap();
        let input = Box::new(std::fs::OpenOptions::new().write(true).open(&to).unwrap());
        let output = BufReader::new(Box::new(std::fs::File::open(&from).unwrap()) as Box<dyn Read + Send>);
        Agent::ready(None, input, output)
    }

    /// The terminal window is closed.
    pub fn close(mut self) {
        let _ = writeln!(self.input, "exit");
        let _ = self.child.wait();
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
