//! `coord sync` against a hostile or broken peer: commits crafted with git
//! plumbing straight into the bare remote (a default bare remote accepts any
//! tree: `..`, links, duplicate names), then synced by a victim clone whose
//! hub, git config, refs, work tree and home folder are compared byte for
//! byte before and after.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::*;

const NOW: &str = "2026-03-02T09:00:00Z";

struct Net {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    remote: PathBuf,
}

struct Clone {
    dir: PathBuf,
    home: PathBuf,
    machine: String,
}

/// git with `input` on stdin, in `dir`; trimmed stdout.
fn git_in(dir: &Path, args: &[&str], input: &[u8]) -> String {
    let mut child = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "mallory")
        .env("GIT_AUTHOR_EMAIL", "m@m")
        .env("GIT_COMMITTER_NAME", "mallory")
        .env("GIT_COMMITTER_EMAIL", "m@m")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// One entry of a crafted tree: mode, name, and a blob's bytes or a subtree.
enum Item<'a> {
    Blob(&'a str, &'a str, &'a [u8]),
    Tree(&'a str, Vec<Item<'a>>),
}

fn mktree(repo: &Path, items: &[Item]) -> String {
    let mut listing = String::new();
    for item in items {
        match item {
            Item::Blob(mode, name, bytes) => {
                let oid = git_in(repo, &["hash-object", "-w", "--stdin"], bytes);
                listing.push_str(&format!("{mode} blob {oid}\t{name}\n"));
            }
            Item::Tree(name, inner) => {
                let oid = mktree(repo, inner);
                listing.push_str(&format!("040000 tree {oid}\t{name}\n"));
            }
        }
    }
    git_in(repo, &["mktree"], listing.as_bytes())
}

impl Net {
    /// A bare remote with a code branch `main`.
    fn new() -> Net {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let remote = remote_with_code(&root);
        Net {
            _tmp: tmp,
            root,
            remote,
        }
    }

    fn clone(&self, machine: &str) -> Clone {
        let dir = self.root.join(machine);
        git(
            &self.root,
            &[
                "clone",
                "-q",
                self.remote.to_str().unwrap(),
                dir.to_str().unwrap(),
            ],
        );
        let home = self.root.join(format!("{machine}-home"));
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(home.join(".bashrc"), "# mine\n").unwrap();
        let c = Clone {
            dir,
            home,
            machine: machine.to_string(),
        };
        c.coord(&["init", "-q"]).ok();
        c
    }

    /// The remote's hub branch tip.
    fn tip(&self) -> String {
        git(&self.remote, &["rev-parse", "refs/heads/coord"])
            .trim()
            .to_string()
    }

    /// A commit of `items` on top of the hub branch, pushed as a peer would.
    fn push(&self, items: &[Item]) -> String {
        let tree = mktree(&self.remote, items);
        let parent = self.tip();
        let commit = git_in(
            &self.remote,
            &["commit-tree", &tree, "-p", &parent, "-m", "peer"],
            b"",
        );
        git(&self.remote, &["update-ref", "refs/heads/coord", &commit]);
        commit
    }

    /// The hub branch's current files, to build a hostile commit on.
    fn blob(&self, name: &str) -> Vec<u8> {
        let out = Command::new("git")
            .args(["cat-file", "blob", &format!("refs/heads/coord:{name}")])
            .current_dir(&self.remote)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name} on the branch");
        out.stdout
    }
}

impl Clone {
    fn coord(&self, args: &[&str]) -> Out {
        self.coord_at(NOW, args)
    }

    fn coord_at(&self, now: &str, args: &[&str]) -> Out {
        run(in_clone(&self.dir, &self.home, &self.machine, now, args))
    }

    fn hub(&self) -> PathBuf {
        self.dir.join(".git/coord")
    }

    fn hub_file(&self, name: &str) -> String {
        std::fs::read_to_string(self.hub().join(name)).unwrap_or_default()
    }

    /// Everything a sync must not change: every file of the clone (work
    /// tree, git config, hooks, refs, the hub) but git's object store, its
    /// logs and coord's own fetched ref, and the home folder.
    fn everything(&self) -> BTreeMap<String, Vec<u8>> {
        fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
            for e in std::fs::read_dir(dir).unwrap().flatten() {
                let path = e.path();
                let rel = path.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                if [
                    ".git/objects",
                    ".git/logs",
                    ".git/refs/coord",
                    ".git/refs/heads/coord",
                    ".git/refs/remotes/origin/coord",
                    ".git/FETCH_HEAD",
                    ".git/coord/.lock",
                    ".git/coord/.synced.json",
                ]
                .iter()
                .any(|skip| rel.starts_with(skip))
                {
                    continue;
                }
                let meta = std::fs::symlink_metadata(&path).unwrap();
                if meta.is_dir() {
                    out.insert(format!("{rel}/"), Vec::new());
                    walk(base, &path, out);
                } else if meta.file_type().is_symlink() {
                    out.insert(
                        rel,
                        std::fs::read_link(&path)
                            .unwrap()
                            .to_string_lossy()
                            .into_owned()
                            .into_bytes(),
                    );
                } else {
                    out.insert(rel, std::fs::read(&path).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.dir, &self.dir, &mut out);
        let mut home = BTreeMap::new();
        walk(&self.home, &self.home, &mut home);
        out.extend(home.into_iter().map(|(k, v)| (format!("~/{k}"), v)));
        // Every ref but coord's own hub branch, which a sync may move.
        let refs = git(&self.dir, &["for-each-ref", "--format=%(refname) %(objectname)"]);
        let refs: Vec<&str> = refs
            .lines()
            .filter(|l| {
                !l.starts_with("refs/heads/coord ")
                    && !l.starts_with("refs/coord/")
                    && !l.starts_with("refs/remotes/origin/coord ")
            })
            .collect();
        out.insert("refs".into(), refs.join("\n").into_bytes());
        out
    }

    /// The hub branch here.
    fn hub_branch(&self) -> String {
        git(&self.dir, &["rev-parse", "refs/heads/coord"])
    }
}

/// A victim and a peer with a session each, both synced once.
fn team() -> (Net, Clone, Clone) {
    let net = Net::new();
    let victim = net.clone("victim");
    let peer = net.clone("peer");
    victim.coord(&["start", "--name", "vic"]).ok();
    victim.coord(&["-s", "vic", "claim", "task", "api"]).ok();
    victim.coord(&["sync"]).ok();
    peer.coord(&["sync"]).ok();
    peer.coord(&["start", "--name", "pete"]).ok();
    peer.coord(&["sync"]).ok();
    victim.coord(&["sync"]).ok();
    (net, victim, peer)
}

/// The branch's legitimate data, to put beside hostile entries: the
/// registry and each log whole (the branch keeps them in hourly segments;
/// a log whole is what an older coord pushed, and is read too).
fn legit(net: &Net) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let log = |folder: &str| -> Vec<u8> {
        let out = Command::new("git")
            .args(["ls-tree", "--name-only", &format!("refs/heads/coord:{folder}")])
            .current_dir(&net.remote)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .flat_map(|n| net.blob(&format!("{folder}/{n}")))
            .collect()
    };
    (net.blob("REGISTRY.json"), log("MESSAGES"), log("EVENTS"))
}

fn assert_same(before: &BTreeMap<String, Vec<u8>>, after: &BTreeMap<String, Vec<u8>>) {
    let keys = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(before), keys(after), "the same files");
    for (k, v) in before {
        assert!(
            after[k] == *v,
            "{k} changed:\n{}",
            String::from_utf8_lossy(&after[k])
        );
    }
}

#[test]
fn a_dot_dot_entry_and_other_non_hub_entries_are_left_out_on_fast_forward_and_merge() {
    let (net, victim, _peer) = team();
    let (reg, msgs, events) = legit(&net);
    let evil_config: &[u8] = b"[core]\n\tfsmonitor = touch /tmp/pwned\n";
    net.push(&[
        Item::Blob("100644", "REGISTRY.json", &reg),
        Item::Blob("100644", "MESSAGES.jsonl", &msgs),
        Item::Blob("100644", "EVENTS.jsonl", &events),
        Item::Tree(
            "archive",
            vec![
                Item::Blob("100644", "..", evil_config),
                Item::Blob("100644", "config", evil_config),
                Item::Blob("100755", "MESSAGES-2026-01.jsonl", b""),
                Item::Tree("..", vec![Item::Blob("100644", "config", evil_config)]),
            ],
        ),
        Item::Tree("..", vec![Item::Blob("100644", "config", evil_config)]),
        Item::Blob("100644", ".bindings.json", b"{\"agents\":{\"x\":\"vic\"}}"),
        Item::Blob("100644", ".lock", b"x"),
        Item::Blob("120000", "notes.md", b"/etc/passwd"),
        Item::Blob("100644", "install.sh", b"rm -rf ~"),
    ]);
    // Fast forward: the victim has nothing new.
    let before = victim.everything();
    let out = victim.coord(&["sync"]).ok();
    assert!(
        out.stderr.contains("left out of origin's hub states"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("\"..\"") && out.stderr.contains("install.sh"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.matches("left out").count(), 1, "reported once");
    assert_same(&before, &victim.everything());
    assert!(!victim.dir.join(".git/coord/archive").exists());
    // Merge: the victim changed something too, and so does the peer's next push.
    victim.coord(&["-s", "vic", "send", "broadcast", "hello"]).ok();
    net.push(&[
        Item::Blob("100644", "REGISTRY.json", &reg),
        Item::Blob("100644", "MESSAGES.jsonl", &msgs),
        Item::Blob("100644", "EVENTS.jsonl", &events),
        Item::Tree("archive", vec![Item::Blob("100644", "..", evil_config)]),
        Item::Blob("100644", "x", b""),
    ]);
    let config = std::fs::read(victim.dir.join(".git/config")).unwrap();
    victim.coord(&["sync"]).ok();
    assert_eq!(std::fs::read(victim.dir.join(".git/config")).unwrap(), config);
    assert_eq!(std::fs::read(victim.home.join(".bashrc")).unwrap(), b"# mine\n");
    let hub: Vec<String> = std::fs::read_dir(victim.hub())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for name in &hub {
        assert!(
            [
                "REGISTRY.json",
                "MESSAGES.jsonl",
                "EVENTS.jsonl",
                "CURRENT_STATE.md",
                "coord.toml",
                ".gitignore",
                ".gitattributes",
                ".lock",
                ".bindings.json",
                ".synced.json",
                ".digest",
                ".pulse.jsonl",
                ".logscan.json"
            ]
            .contains(&name.as_str()),
            "unexpected {name} in the hub"
        );
    }
    assert!(!victim.hub_file(".bindings.json").contains("\"x\""));
    assert!(victim.hub_file("MESSAGES.jsonl").contains("hello"));
}

#[test]
fn a_settings_file_on_the_branch_changes_nothing_and_the_code_branch_is_never_moved() {
    let (net, victim, _peer) = team();
    let (reg, msgs, events) = legit(&net);
    let main_before = git(&net.remote, &["rev-parse", "main"]);
    let toml = b"[sync]\nbranch = \"main\"\n[hooks]\nrequire_claim = false\n[roles]\nlead = [\"anyone\"]\n[liveness]\nstale_after = \"1s\"\ngone_after = \"2s\"\n[time]\nmax_skew = \"876000h\"\n";
    victim.coord(&["init"]).ok();
    std::fs::write(victim.hub().join("coord.toml"), "[hooks]\nrequire_claim = true\n").unwrap();
    net.push(&[
        Item::Blob("100644", "REGISTRY.json", &reg),
        Item::Blob("100644", "MESSAGES.jsonl", &msgs),
        Item::Blob("100644", "EVENTS.jsonl", &events),
        Item::Blob("100644", "coord.toml", toml),
    ]);
    let settings = victim.hub_file("coord.toml");
    for _ in 0..2 {
        victim.coord(&["sync"]).ok();
    }
    assert_eq!(victim.hub_file("coord.toml"), settings);
    assert_eq!(git(&net.remote, &["rev-parse", "main"]), main_before);
    assert_eq!(git(&victim.dir, &["rev-parse", "main"]), main_before);
    // vic's lease did not lapse 3 s later: liveness is still 30 min / 2 h.
    let later = "2026-03-02T09:00:03Z";
    let claims = victim.coord_at(later, &["--json", "claims"]).ok().json();
    assert_eq!(claims["claims"][0]["holder"], "vic", "{claims}");
    // Naming a code branch outright is refused, the checked-out one and another.
    let out = victim
        .coord(&["sync", "--branch", "main"])
        .code(5)
        .one_error_line();
    assert!(out.stderr.contains("checked out"), "{}", out.stderr);
    git(&victim.dir, &["branch", "feature"]);
    let out = victim
        .coord(&["sync", "--branch", "feature"])
        .code(5)
        .one_error_line();
    assert!(out.stderr.contains("not a hub branch"), "{}", out.stderr);
    let out = victim.coord(&["sync", "--branch=-x"]).code(2).one_error_line();
    assert!(out.stderr.contains("not a branch name"), "{}", out.stderr);
    assert_eq!(git(&victim.dir, &["rev-parse", "feature"]), main_before);
    assert_eq!(git(&net.remote, &["rev-parse", "main"]), main_before);
}

/// The victim refuses a bad state, names the commit, the file and `--skip`,
/// and nothing here changes; returns the refusal.
fn refused(net: &Net, victim: &Clone, items: &[Item]) -> (String, Out) {
    let commit = net.push(items);
    let before = victim.everything();
    let branch = victim.hub_branch();
    let out = victim.coord(&["sync"]).code(5).one_error_line();
    assert_eq!(victim.hub_branch(), branch);
    assert!(
        out.stderr.contains(&commit[..12]) && out.stderr.contains("REGISTRY.json"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("coord sync --remote origin --skip {}", &commit[..12])),
        "{}",
        out.stderr
    );
    assert_same(&before, &victim.everything());
    // Every other command still works.
    victim.coord(&["status"]).ok();
    (commit, out)
}

#[test]
fn a_broken_registry_is_refused_and_skipping_it_lets_the_team_go_on() {
    let (net, victim, peer) = team();
    let (_, msgs, events) = legit(&net);
    let (bad, _) = refused(
        &net,
        &victim,
        &[
            Item::Blob("100644", "REGISTRY.json", b"not json at all"),
            Item::Blob("100644", "MESSAGES.jsonl", &msgs),
            Item::Blob("100644", "EVENTS.jsonl", &events),
        ],
    );
    // Skipping the commit: the branch moves past it with a good state.
    victim.coord(&["-s", "vic", "send", "pete", "still here"]).ok();
    let out = victim.coord(&["sync", "--skip", &bad[..12]]).ok();
    assert!(
        out.stderr.is_empty() || !out.stderr.contains("error"),
        "{}",
        out.stderr
    );
    let tip = net.tip();
    assert_ne!(tip, bad);
    git(&net.remote, &["merge-base", "--is-ancestor", &bad, &tip]);
    // The peer takes the good state and gets the message.
    peer.coord(&["sync"]).ok();
    let inbox = peer.coord(&["-s", "pete", "inbox"]).ok();
    assert!(inbox.stdout.contains("still here"), "{}", inbox.stdout);
    assert!(peer.hub_file("REGISTRY.json").contains("\"vic\""));
}

#[test]
fn a_registry_coord_would_refuse_is_refused_whatever_is_wrong_with_it() {
    let (net, victim, _peer) = team();
    let (reg, msgs, events) = legit(&net);
    let reg = String::from_utf8(reg).unwrap();
    let logs = |r: &str| -> Vec<u8> { r.as_bytes().to_vec() };
    let cases: Vec<(String, &str)> = vec![
        (reg.replacen("{\n", "{\n  \"schema\": 99,\n", 1), "twice"),
        (reg.replace("\"token\": 1", "\"token\": 0"), "fencing token 0"),
        (
            reg.replace(
                "\"last_seen\": \"2026-03-02T09:00:00Z\"",
                "\"last_seen\": \"2126-03-02T09:00:00Z\"",
            ),
            "future",
        ),
        (reg.replace("\"task:api\"", "\"task:web\""), "does not match"),
        (reg[..reg.len() / 2].to_string(), "does not parse"),
    ];
    for (bad, why) in cases {
        assert_ne!(bad, reg, "the case {why} changes the registry");
        let (_, out) = refused(
            &net,
            &victim,
            &[
                Item::Blob("100644", "REGISTRY.json", &logs(&bad)),
                Item::Blob("100644", "MESSAGES.jsonl", &msgs),
                Item::Blob("100644", "EVENTS.jsonl", &events),
            ],
        );
        assert!(out.stderr.contains(why), "{why}: {}", out.stderr);
    }
}

#[test]
fn a_broken_local_hub_is_never_pushed() {
    let (net, victim, peer) = team();
    let tip = net.tip();
    let reg = victim.hub_file("REGISTRY.json");
    std::fs::write(victim.hub().join("REGISTRY.json"), &reg[..reg.len() / 3]).unwrap();
    let out = victim.coord(&["sync"]).code(5).one_error_line();
    assert!(
        out.stderr.contains("nothing was pushed") && out.stderr.contains("coord doctor"),
        "{}",
        out.stderr
    );
    assert_eq!(net.tip(), tip);
    peer.coord(&["sync"]).ok();
    peer.coord(&["status"]).ok();
}

#[test]
fn the_briefing_is_made_here_and_never_taken_from_a_peer() {
    let (net, victim, _peer) = team();
    let (reg, msgs, events) = legit(&net);
    net.push(&[
        Item::Blob("100644", "REGISTRY.json", &reg),
        Item::Blob("100644", "MESSAGES.jsonl", &msgs),
        Item::Blob("100644", "EVENTS.jsonl", &events),
        Item::Blob(
            "100644",
            "CURRENT_STATE.md",
            b"\x1b]0;pwned\x07 <img src=x onerror=alert(1)>\n",
        ),
    ]);
    victim.coord(&["-s", "vic", "heartbeat", "testing"]).ok();
    victim.coord(&["sync"]).ok();
    let page = victim.hub_file("CURRENT_STATE.md");
    assert!(!page.contains("onerror") && !page.contains('\u{1b}'), "{page}");
    assert!(page.contains("vic"), "{page}");
}

#[test]
fn the_remote_hint_is_quoted_and_restore_hints_work_in_the_git_directory() {
    let (net, victim, _peer) = team();
    let out = victim
        .coord(&["sync", "--remote", "x;touch y"])
        .code(5)
        .one_error_line();
    assert!(
        out.stderr.contains("git remote add 'x;touch y' URL"),
        "{}",
        out.stderr
    );
    // A broken registry: every command names doctor; doctor offers the
    // hub branch's copy; --fix puts it back and keeps the broken one.
    std::fs::write(victim.hub().join("REGISTRY.json"), "{ broken").unwrap();
    let out = victim.coord(&["status"]).code(5).one_error_line();
    assert!(out.stderr.contains("`coord doctor`"), "{}", out.stderr);
    let out = victim.coord(&["doctor"]).code(5);
    assert!(
        out.stdout
            .contains("--fix puts back the last good copy (the coord branch at"),
        "{}",
        out.stdout
    );
    victim.coord(&["doctor", "--fix"]).ok();
    assert_eq!(
        victim.hub_file("REGISTRY.json").as_bytes(),
        net.blob("REGISTRY.json")
    );
    let backups: Vec<_> = std::fs::read_dir(victim.hub())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".bak"))
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read_to_string(backups[0].path()).unwrap(), "{ broken");
    victim.coord(&["-s", "vic", "status"]).ok();
    // doctor checks the merge driver and a stale in-tree hub from .git/coord too.
    git(&victim.dir, &["config", "--unset", "merge.coord.driver"]);
    std::fs::create_dir_all(victim.dir.join("coordination")).unwrap();
    std::fs::write(victim.dir.join("coordination/REGISTRY.json"), "{}\n").unwrap();
    git(&victim.dir, &["add", "coordination"]);
    let out = victim.coord(&["doctor"]).code(5);
    assert!(
        out.stdout.contains("merge driver is not registered"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("(coordination/) is tracked"),
        "{}",
        out.stdout
    );
}

#[test]
fn team_settings_come_from_the_code_branch_and_a_clone_override_shows_in_status() {
    let net = Net::new();
    let c = net.clone("one");
    std::fs::write(c.dir.join("coord.toml"), "[hooks]\nrequire_claim = true\n").unwrap();
    c.coord(&["start", "--name", "ann"]).ok();
    let payload = format!(
        r#"{{"session_id":"s1","cwd":"{}","hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{{"file_path":"{}/src/x.rs"}}}}"#,
        c.dir.display(),
        c.dir.display()
    );
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("COORD_TESTING", "1")
        .env("COORD_NOW", NOW)
        .current_dir(&c.dir)
        .args(["hook", "pre-tool-use"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(payload.as_bytes()).unwrap();
    let out = String::from_utf8_lossy(&child.wait_with_output().unwrap().stdout).into_owned();
    assert!(out.contains("deny") && out.contains("coord claim file"), "{out}");
    assert!(!c
        .coord(&["--json", "status"])
        .ok()
        .stdout
        .contains("settings_override"));
    std::fs::write(c.hub().join("coord.toml"), "[hooks]\nrequire_claim = false\n").unwrap();
    let status = c.coord(&["--json", "status"]).ok().json();
    let alerts = status["alerts"].to_string();
    assert!(
        alerts.contains("settings_override") && alerts.contains("hooks.require_claim"),
        "{alerts}"
    );
}

#[test]
fn the_merge_driver_merges_only_hub_files_and_refuses_a_broken_registry() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let good = "{\n  \"schema\": 1\n}\n";
    std::fs::write(d.join("base"), good).unwrap();
    std::fs::write(d.join("ours"), good).unwrap();
    std::fs::write(d.join("theirs"), "{\"schema\": 1, \"schema\": 99}").unwrap();
    let driver = |path: &str| {
        let mut c = Command::new(BIN);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .current_dir(d)
            .args(["merge-driver", "base", "ours", "theirs", path]);
        run(c)
    };
    let out = driver("REGISTRY.json");
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("not a registry coord merges"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(d.join("ours")).unwrap(), good);
    for path in [
        "../x.jsonl",
        "notes.jsonl",
        "archive/../../x.jsonl",
        ".git/config",
    ] {
        let out = driver(path);
        assert_ne!(out.code, 0, "{path}");
        assert!(out.stderr.contains("not a file coord merges"), "{}", out.stderr);
    }
    // The logs merge to the same bytes whichever side is ours.
    let a = "{\"id\":\"m-1\",\"ts\":\"2026-03-02T09:00:00Z\"}\n";
    let b = "{\"id\":\"m-2\",\"ts\":\"2026-03-02T09:00:00Z\"}\n";
    for (ours, theirs) in [(a, b), (b, a)] {
        std::fs::write(d.join("base"), "").unwrap();
        std::fs::write(d.join("ours"), ours).unwrap();
        std::fs::write(d.join("theirs"), theirs).unwrap();
        driver("coordination/MESSAGES.jsonl").ok();
        assert_eq!(
            std::fs::read_to_string(d.join("ours")).unwrap(),
            format!("{a}{b}")
        );
    }
}
