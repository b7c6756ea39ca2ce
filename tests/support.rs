//! The harness: run the real `coord` binary with a cleared environment, a
//! temporary hub and a pinned clock, and look at stdout, stderr and the exit
//! code together.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_coord");
pub const T0: &str = "2026-03-02T09:00:00Z";

pub struct Hub {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub now: String,
    /// COORD_ID_SEED for byte-exact snapshots; real randomness otherwise.
    pub seed: Option<String>,
}

#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    #[track_caller]
    pub fn ok(self) -> Out {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn code(self, code: i32) -> Out {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}): {}", self.stdout))
    }

    /// Exactly one line on stderr, starting with `error:`.
    #[track_caller]
    pub fn one_error_line(self) -> Out {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "want one line on stderr, got: {:?}", self.stderr);
        assert!(lines[0].starts_with("error: "), "{:?}", self.stderr);
        self
    }
}

impl Hub {
    /// A fresh hub in `<tmp>/repo/coordination`.
    pub fn new() -> Hub {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("repo").join("coordination");
        std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
        let hub = Hub {
            tmp,
            dir,
            now: T0.to_string(),
            seed: None,
        };
        hub.run(&["init"]).ok();
        hub
    }

    pub fn repo(&self) -> PathBuf {
        self.dir.parent().unwrap().to_path_buf()
    }

    pub fn at(&mut self, now: &str) -> &mut Hub {
        self.now = now.to_string();
        self
    }

    /// A command with a cleared environment, this hub and this clock.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.tmp.path())
            .env("COORD_HUB", &self.dir)
            .env("COORD_NOW", &self.now)
            .env("COORD_TESTING", "1")
            .env("COORD_MACHINE", "test-machine")
            .current_dir(self.repo())
            .args(args)
            .stdin(Stdio::null());
        if let Some(seed) = &self.seed {
            c.env("COORD_ID_SEED", seed);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Out {
        run(self.cmd(args))
    }

    /// A call to build up: acting session, stdin, clock, other variables.
    pub fn call(&self, args: &[&str]) -> Call<'_> {
        Call {
            hub: self,
            args: args.iter().map(|a| a.to_string()).collect(),
            session: None,
            stdin: None,
            now: Some(self.now.clone()),
            env: Vec::new(),
        }
    }

    /// Replace coord.toml with these settings.
    pub fn settings(&self, toml: &str) -> &Hub {
        std::fs::write(self.dir.join("coord.toml"), toml).expect("write coord.toml");
        self
    }

    /// Seed generated ids and names, for byte-exact snapshots.
    pub fn seeded(mut self, seed: &str) -> Hub {
        self.seed = Some(seed.to_string());
        self
    }

    /// Run as session `who` (via --session).
    pub fn as_(&self, who: &str, args: &[&str]) -> Out {
        let mut all = vec!["-s", who];
        all.extend_from_slice(args);
        self.run(&all)
    }

    /// Start `name` as an agent of its own (its own `COORD_AGENT_ID`), so
    /// sessions started one after another by the test process stay apart.
    pub fn start(&self, name: &str) -> Out {
        self.call(&["start", "--name", name])
            .env("COORD_AGENT_ID", format!("agent-{name}"))
            .run()
            .ok()
    }

    pub fn start_role(&self, name: &str, role: &str) -> Out {
        self.call(&["start", "--name", name, "--role", role])
            .env("COORD_AGENT_ID", format!("agent-{name}"))
            .run()
            .ok()
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    /// The registry as coord reads it: REGISTRY.json with the signs of
    /// life of `.pulse.jsonl` (not yet folded) applied, as the fold will
    /// (an independent reading of the rule in store::pulse).
    pub fn registry(&self) -> serde_json::Value {
        let mut reg: serde_json::Value =
            serde_json::from_str(&self.read("REGISTRY.json")).expect("registry parses");
        for line in self.read(".pulse.jsonl").lines() {
            let Ok(p) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            // Records written whole on the hot path.
            if let (Some(id), Some(record)) = (p["s"].as_str(), p.get("session")) {
                reg["sessions"][id] = record.clone();
            }
            if let Some(claims) = p["claims"].as_object() {
                for (key, c) in claims {
                    if c.is_null() {
                        if let Some(all) = reg["claims"].as_object_mut() {
                            all.remove(key);
                        }
                    } else {
                        reg["claims"][key] = c.clone();
                    }
                }
            }
            let Some(s) = p["s"].as_str().and_then(|id| reg["sessions"].get_mut(id)) else {
                continue;
            };
            if p["ts"].as_str() > s["last_seen"].as_str() {
                s["last_seen"] = p["ts"].clone();
            }
            if let Some(a) = p.get("activity") {
                for f in ["action", "note", "phase", "progress", "target"] {
                    match a.get(f) {
                        Some(v) => s[f] = v.clone(),
                        None => {
                            if let Some(o) = s.as_object_mut() {
                                o.remove(f);
                            }
                        }
                    }
                }
            }
            if let Some(c) = p.get("cursor") {
                s["cursor"] = c.clone();
            }
            if let Some(read) = p["read"].as_array() {
                if let Some(pending) = s["pending"].as_array_mut() {
                    pending.retain(|id| !read.contains(id));
                }
            }
        }
        reg
    }

    /// Every hub file's bytes, for "nothing was written" checks; the
    /// registry and the journal as readers see them (the pulse applied:
    /// where a change lands, the registry file or the pulse, and when the
    /// pulse is folded, are not what these checks are about).
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        let mut out = snapshot(&self.dir);
        // A reader's cache, written by reads.
        out.remove(".logscan.json");
        // A hub file a test broke on purpose is compared as it is.
        let parses = |f: &str| {
            std::fs::read_to_string(self.dir.join(f)).is_ok_and(|t| {
                t.lines()
                    .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
                    || serde_json::from_str::<serde_json::Value>(&t).is_ok()
            })
        };
        if !(parses("REGISTRY.json") && parses("EVENTS.jsonl") && parses(".pulse.jsonl")) {
            return out;
        }
        for f in [".pulse.jsonl", ".digest"] {
            out.remove(f);
        }
        out.insert(
            "REGISTRY.json".into(),
            serde_json::to_string_pretty(&self.registry())
                .unwrap()
                .into_bytes(),
        );
        let events: String = self
            .lines("EVENTS.jsonl")
            .iter()
            .map(|e| format!("{e}\n"))
            .collect();
        out.insert("EVENTS.jsonl".into(), events.into_bytes());
        out
    }

    /// A log's records; for EVENTS.jsonl, with the journal entries the
    /// pulse carries until its next fold.
    pub fn lines(&self, log: &str) -> Vec<serde_json::Value> {
        let mut out: Vec<serde_json::Value> = self
            .read(log)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
            .collect();
        if log == "EVENTS.jsonl" {
            for line in self.read(".pulse.jsonl").lines() {
                let p: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
                out.extend(p["events"].as_array().cloned().unwrap_or_default());
            }
        }
        out
    }

    pub fn events_of(&self, kind: &str) -> Vec<serde_json::Value> {
        self.lines("EVENTS.jsonl")
            .into_iter()
            .filter(|e| e["kind"] == kind)
            .collect()
    }
}

/// One call of the real binary, built up before it runs.
pub struct Call<'h> {
    hub: &'h Hub,
    args: Vec<String>,
    session: Option<String>,
    stdin: Option<Vec<u8>>,
    /// `None`: the live system clock.
    now: Option<String>,
    env: Vec<(String, String)>,
}

impl Call<'_> {
    /// Act as `who` (through --session).
    pub fn as_(mut self, who: &str) -> Self {
        self.session = Some(who.to_string());
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Pin the clock at this time.
    pub fn at(mut self, now: &str) -> Self {
        self.now = Some(now.to_string());
        self
    }

    /// The real clock, for the few behaviours that are about time passing.
    pub fn live_clock(mut self) -> Self {
        self.now = None;
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.env
            .push((key.to_string(), value.as_ref().to_string_lossy().into_owned()));
        self
    }

    pub fn command(&self) -> Command {
        let mut all: Vec<&str> = Vec::new();
        if let Some(who) = &self.session {
            all.extend(["-s", who]);
        }
        all.extend(self.args.iter().map(String::as_str));
        let mut c = self.hub.cmd(&all);
        if self.now.is_none() {
            c.env_remove("COORD_NOW");
        } else if let Some(now) = &self.now {
            c.env("COORD_NOW", now);
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    pub fn run(self) -> Out {
        let mut c = self.command();
        let Some(input) = self.stdin else {
            return run(c);
        };
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("coord runs");
        {
            use std::io::Write;
            let mut pipe = child.stdin.take().expect("stdin");
            // A command may end before it reads its input (a usage error):
            // its answer is what the test looks at, not the write.
            if let Err(e) = pipe.write_all(&input) {
                assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
            }
        }
        let out = child.wait_with_output().expect("coord ends");
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn spawn(self) -> std::process::Child {
        let mut c = self.command();
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        c.spawn().expect("coord runs")
    }
}

pub fn run(mut c: Command) -> Out {
    let out = c.output().expect("coord runs");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Hub files that matter (not the lock, temp files or machine-local bindings).
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == ".lock" || name.ends_with(".tmp") {
            continue;
        }
        if entry.path().is_file() {
            out.insert(name, std::fs::read(entry.path()).unwrap());
        }
    }
    out
}

/// Cells of a Markdown table row, splitting on unescaped pipes.
pub fn cells(row: &str) -> usize {
    let mut n = 0;
    let mut escaped = false;
    for c in row.chars() {
        match c {
            '\\' if !escaped => escaped = true,
            '|' if !escaped => n += 1,
            _ => escaped = false,
        }
    }
    n
}

/// Check that every row of every table on a Markdown page has as many cells
/// as its header; return the number of body rows, or the first bad row.
pub fn tables_hold(page: &str) -> Result<usize, String> {
    let mut header: Option<&str> = None;
    let mut rows = 0;
    for line in page.lines() {
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        match header {
            None => header = Some(line),
            Some(h) if cells(line) == cells(h) => rows += 1,
            Some(h) => return Err(format!("row {line:?} breaks its table under {h:?}")),
        }
    }
    Ok(rows)
}

/// Runs git in `dir` with a fixed author, coord's folder first on PATH (for
/// the merge driver) and COORD_TESTING set; fails the test when git fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .env("COORD_TESTING", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// coord run from `dir` with no hub flag or variable (the hub is found the
/// way a user's shell finds it), as the agent `agent` or as nobody.
pub fn coord_in(dir: &Path, agent: Option<&str>, args: &[&str]) -> Out {
    let agent: Vec<(&str, &std::ffi::OsStr)> = agent
        .map(|a| ("COORD_AGENT_ID", std::ffi::OsStr::new(a)))
        .into_iter()
        .collect();
    coord_in_env(dir, &agent, args)
}

/// `coord_in` with these variables set as well (they win).
pub fn coord_in_env(dir: &Path, env: &[(&str, &std::ffi::OsStr)], args: &[&str]) -> Out {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("COORD_NOW", T0)
        .env("COORD_TESTING", "1")
        // Never ask a Codex that happens to be installed here.
        .env("COORD_CODEX", "")
        .current_dir(dir)
        .args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    run(c)
}

/// A repository with a live hub and a first commit, found from the folder
/// as a user's shell finds it.
pub fn repo() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("proj");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("README"), "code\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-qm", "first"]);
    coord_in(&repo, None, &["init"]).ok();
    (tmp, repo)
}

/// A bare repository `remote.git` in `dir` whose `main` holds one commit
/// of code: the remote clones sync through.
pub fn remote_with_code(dir: &Path) -> PathBuf {
    let remote = dir.join("remote.git");
    git(
        dir,
        &["init", "-q", "--bare", "-b", "main", remote.to_str().unwrap()],
    );
    let seed = dir.join("seed");
    std::fs::create_dir_all(&seed).unwrap();
    git(&seed, &["init", "-q", "-b", "main"]);
    std::fs::write(seed.join("README"), "code\n").unwrap();
    git(&seed, &["add", "-A"]);
    git(&seed, &["commit", "-qm", "code"]);
    git(&seed, &["remote", "add", "origin", remote.to_str().unwrap()]);
    git(&seed, &["push", "-q", "origin", "main"]);
    remote
}

/// coord in a clone's work tree, as that machine (`COORD_MACHINE`), with
/// its own home folder and a pinned clock.
pub fn in_clone(dir: &Path, home: &Path, machine: &str, now: &str, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("COORD_TESTING", "1")
        .env("COORD_NOW", now)
        .env("COORD_MACHINE", machine)
        .current_dir(dir)
        .args(args);
    c
}

/// A long-lived shell (`bash` reading commands from a pipe): a process of
/// its own that coord anchors sessions to, as it does an agent's process or
/// a human's terminal. Each command's exit code, stdout and stderr come
/// back separately.
pub struct Shell {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    err: PathBuf,
}

impl Shell {
    /// A shell on `hub` with these variables set (for every command).
    pub fn on(hub: &Hub, vars: &[(&str, &str)]) -> Shell {
        let mut c = Command::new("bash");
        c.env_clear()
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    Path::new(BIN).parent().unwrap().display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("HOME", hub.tmp.path())
            .env("COORD_HUB", &hub.dir)
            .env("COORD_NOW", &hub.now)
            .env("COORD_TESTING", "1")
            .env("COORD_MACHINE", "test-machine")
            .current_dir(hub.repo())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (k, v) in vars {
            c.env(k, v);
        }
        let mut child = c.spawn().expect("bash runs");
        let stdin = child.stdin.take().unwrap();
        let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let err = hub.tmp.path().join(format!("shell-{}.err", child.id()));
        Shell {
            child,
            stdin,
            stdout,
            err,
        }
    }

    /// Run `line` (shell syntax; `coord` is the binary under test).
    pub fn run(&mut self, line: &str) -> Out {
        use std::io::{BufRead, Write};
        writeln!(
            self.stdin,
            "{line} 2>'{}'; echo \"__done $?\"",
            self.err.display()
        )
        .unwrap();
        self.stdin.flush().unwrap();
        let mut stdout = String::new();
        loop {
            let mut l = String::new();
            assert!(self.stdout.read_line(&mut l).unwrap() > 0, "the shell ended");
            if let Some(code) = l.strip_prefix("__done ") {
                return Out {
                    code: code.trim().parse().unwrap(),
                    stdout,
                    stderr: std::fs::read_to_string(&self.err).unwrap_or_default(),
                };
            }
            stdout.push_str(&l);
        }
    }

    /// End the shell and wait for it: its bindings die with it.
    pub fn exit(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
