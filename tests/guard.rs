//! The pre-commit guard: `coord install git` writes the hook, `coord guard`
//! refuses commits that stage files inside other sessions' live claims.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::*;

/// `git commit` of everything in `dir`, as `agent`, with extra variables.
fn commit(dir: &Path, agent: Option<&str>, vars: &[(&str, &str)], args: &[&str]) -> Output {
    std::fs::write(dir.join("touch"), format!("{:?}\n", std::time::SystemTime::now())).unwrap();
    git(dir, &["add", "-A"]);
    let mut c = Command::new("git");
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("COORD_NOW", T0)
        .env("COORD_TESTING", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .current_dir(dir)
        .args(["commit", "-qm", "work"])
        .args(args);
    if let Some(a) = agent {
        c.env("COORD_AGENT_ID", a);
    }
    for (k, v) in vars {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// alice (agent a1) holds src/**; bob (agent b1) is another session.
fn claimed(repo: &Path) {
    coord_in(repo, Some("a1"), &["start", "--name", "alice"]).ok();
    coord_in(repo, Some("b1"), &["start", "--name", "bob"]).ok();
    coord_in(repo, Some("a1"), &["claim", "file", "src/**"]).ok();
    std::fs::create_dir_all(repo.join("src")).unwrap();
}

#[test]
fn a_commit_inside_another_sessions_claim_is_refused_naming_file_and_holder() {
    let (_tmp, repo) = repo();
    coord_in(&repo, None, &["install", "git"]).ok();
    claimed(&repo);
    std::fs::write(repo.join("src/login.rs"), "bob was here\n").unwrap();
    let out = commit(&repo, Some("b1"), &[], &[]);
    assert!(!out.status.success(), "bob's commit went through");
    let err = stderr(&out);
    assert!(
        err.contains("src/login.rs is claimed by alice (file:src/**, lease)"),
        "{err}"
    );
    assert!(err.contains("coord send alice"), "{err}");
    assert!(err.contains("COORD_GUARD=off"), "{err}");
    // The holder commits; files outside every claim pass for anyone.
    assert!(commit(&repo, Some("a1"), &[], &[]).status.success());
    std::fs::write(repo.join("notes.md"), "free\n").unwrap();
    assert!(commit(&repo, Some("b1"), &[], &[]).status.success());
}

#[test]
fn the_documented_bypasses_let_a_commit_through() {
    let (_tmp, repo) = repo();
    coord_in(&repo, None, &["install", "git"]).ok();
    claimed(&repo);
    std::fs::write(repo.join("src/a.rs"), "1\n").unwrap();
    let off = commit(&repo, Some("b1"), &[("COORD_GUARD", "off")], &[]);
    assert!(off.status.success(), "{}", stderr(&off));
    assert!(stderr(&off).contains("not checked"));
    std::fs::write(repo.join("src/a.rs"), "2\n").unwrap();
    assert!(commit(&repo, Some("b1"), &[], &["--no-verify"]).status.success());
}

#[test]
fn guard_reports_json_and_passes_outside_a_coord_repository() {
    let (_tmp, repo) = repo();
    claimed(&repo);
    std::fs::write(repo.join("src/a.rs"), "1\n").unwrap();
    git(&repo, &["add", "-A"]);
    let out = coord_in(&repo, Some("b1"), &["guard", "--json"]).code(3);
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    let d = &v["error"]["details"];
    assert_eq!(v["error"]["code"], 3);
    assert_eq!(d["me"], "bob");
    assert_eq!(d["blocked"][0]["path"], "src/a.rs");
    assert_eq!(d["blocked"][0]["claims"][0]["holder"], "alice");
    let plain = tempfile::tempdir().unwrap();
    git(plain.path(), &["init", "-q"]);
    coord_in(plain.path(), None, &["guard"]).ok();
}

#[test]
fn install_chains_an_existing_hook_and_uninstall_puts_it_back_byte_for_byte() {
    let (_tmp, repo) = repo();
    let hooks = repo.join(".git/hooks");
    let theirs = "#!/bin/sh\necho ran > \"$(git rev-parse --show-toplevel)/../earlier-hook-ran\"\n";
    std::fs::write(hooks.join("pre-commit"), theirs).unwrap();
    std::fs::set_permissions(
        hooks.join("pre-commit"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    coord_in(&repo, None, &["install", "git"]).ok();
    let once = std::fs::read(hooks.join("pre-commit")).unwrap();
    let second = coord_in(&repo, None, &["install", "git"]).ok();
    assert!(second.stderr.contains("updated"), "{}", second.stderr);
    assert_eq!(
        std::fs::read(hooks.join("pre-commit")).unwrap(),
        once,
        "idempotent"
    );
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit.before-coord")).unwrap(),
        theirs
    );
    // The earlier hook still runs after the guard passes.
    assert!(commit(&repo, None, &[], &[]).status.success());
    assert!(repo.join("../earlier-hook-ran").exists());
    coord_in(&repo, None, &["install", "git", "--uninstall"]).ok();
    assert_eq!(std::fs::read_to_string(hooks.join("pre-commit")).unwrap(), theirs);
    assert!(!hooks.join("pre-commit.before-coord").exists());
    let again = coord_in(&repo, None, &["install", "git", "--uninstall", "--json"]).ok();
    assert!(again.stdout.contains("\"action\":\"absent\""), "{}", again.stdout);
    assert_eq!(std::fs::read_to_string(hooks.join("pre-commit")).unwrap(), theirs);
}

#[test]
fn the_hook_follows_core_hooks_path_and_guards_linked_worktrees() {
    let (tmp, repo) = repo();
    git(&repo, &["config", "core.hooksPath", "githooks"]);
    coord_in(&repo, None, &["install", "git"]).ok();
    assert!(repo.join("githooks/pre-commit").is_file());
    assert!(!repo.join(".git/hooks/pre-commit").exists());
    git(&repo, &["config", "--unset", "core.hooksPath"]);
    coord_in(&repo, None, &["install", "git"]).ok();
    claimed(&repo);
    let wt = tmp.path().join("wt");
    git(&repo, &["worktree", "add", "-q", wt.to_str().unwrap()]);
    std::fs::create_dir_all(wt.join("src")).unwrap();
    std::fs::write(wt.join("src/x.rs"), "from the worktree\n").unwrap();
    let out = commit(&wt, Some("b1"), &[], &[]);
    assert!(
        !out.status.success(),
        "a commit from a linked worktree went through"
    );
    assert!(
        stderr(&out).contains("src/x.rs is claimed by alice"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn agents_md_gets_one_marked_section_and_uninstall_leaves_the_rest_byte_for_byte() {
    let (_tmp, repo) = repo();
    let theirs = "# Agents\n\nRun the tests before you push.\n";
    std::fs::write(repo.join("AGENTS.md"), theirs).unwrap();
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    // From a subfolder: the file at the top of the work tree.
    coord_in(&repo.join("sub"), None, &["install", "agents-md"]).ok();
    let once = std::fs::read_to_string(repo.join("AGENTS.md")).unwrap();
    assert!(once.starts_with(theirs), "{once}");
    assert!(once.contains("<!-- coord:begin"), "{once}");
    assert!(once.contains("coord prime"), "{once}");
    assert!(once.contains("coord claim file PATH"), "{once}");
    assert!(once.trim_end().ends_with("<!-- coord:end -->"), "{once}");
    let again = coord_in(&repo, None, &["install", "agents-md"]).ok();
    assert!(again.stderr.contains("updated"), "{}", again.stderr);
    assert_eq!(
        std::fs::read_to_string(repo.join("AGENTS.md")).unwrap(),
        once,
        "idempotent"
    );
    // Text others add after the section stays through a refresh.
    std::fs::write(repo.join("AGENTS.md"), format!("{once}\nMore rules.\n")).unwrap();
    coord_in(&repo, None, &["install", "agents-md"]).ok();
    let refreshed = std::fs::read_to_string(repo.join("AGENTS.md")).unwrap();
    assert_eq!(refreshed, format!("{once}\nMore rules.\n"));
    std::fs::write(repo.join("AGENTS.md"), &once).unwrap();
    coord_in(&repo, None, &["install", "agents-md", "--uninstall"]).ok();
    assert_eq!(std::fs::read_to_string(repo.join("AGENTS.md")).unwrap(), theirs);
}

#[test]
fn agents_md_made_by_coord_goes_away_on_uninstall() {
    let (_tmp, repo) = repo();
    let out = coord_in(&repo, None, &["install", "agents-md", "--json"]).ok();
    assert!(out.stdout.contains("\"action\":\"installed\""), "{}", out.stdout);
    assert!(repo.join("AGENTS.md").is_file());
    coord_in(&repo, None, &["install", "agents-md", "--uninstall"]).ok();
    assert!(!repo.join("AGENTS.md").exists());
}
