//! `coord install claude|codex|cursor`: coord's hooks merged into the agent
//! tool's configuration, and those very commands run the way the tool runs
//! them (`sh -c` in the project, the payload on stdin).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::support::*;

/// A settings file a user already has: other settings, and other hooks on
/// two of the events coord uses, in the two-space layout the tools write.
const THEIRS: &str = r#"{
  "permissions": {
    "allow": [
      "Bash(npm test)"
    ]
  },
  "hooks": {
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [
          {
            "type": "command",
            "command": "./scripts/check-bash.sh"
          }
        ]
      }
    ],
    "Stop": [
      {
        "hooks": [
          {
            "type": "command",
            "command": "say done",
            "timeout": 5
          }
        ]
      }
    ]
  },
  "model": "opus"
}
"#;

/// Each of `words` appears in `text`, one after the other.
fn assert_in_order(text: &str, words: &[&str]) {
    let mut at = 0;
    for w in words {
        let found = text[at..]
            .find(w)
            .unwrap_or_else(|| panic!("{w} after byte {at} in {text}"));
        at += found + w.len();
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The commands coord wrote for `event` (Claude Code and Codex layout).
fn ours(settings: &Value, event: &str) -> Vec<String> {
    let mut out = Vec::new();
    for group in settings["hooks"][event].as_array().into_iter().flatten() {
        let handlers = group["hooks"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| vec![group.clone()]);
        for h in handlers {
            let c = h["command"].as_str().unwrap_or("");
            if c.starts_with("coord hook ") {
                out.push(c.to_string());
            }
        }
    }
    out
}

#[test]
fn install_claude_twice_then_uninstall_keeps_other_hooks_byte_identical() {
    let (_tmp, repo) = repo();
    let path = repo.join(".claude/settings.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, THEIRS).unwrap();
    let first = coord_in(&repo, None, &["install", "claude"]).ok();
    assert!(first.stderr.contains("installed"), "{}", first.stderr);
    let once = std::fs::read_to_string(&path).unwrap();
    let v: Value = serde_json::from_str(&once).unwrap();
    // Theirs, unchanged and in their order; ours appended.
    let original: Value = serde_json::from_str(THEIRS).unwrap();
    assert_eq!(v["permissions"], original["permissions"]);
    assert_eq!(v["hooks"]["PreToolUse"][0], original["hooks"]["PreToolUse"][0]);
    assert_eq!(v["hooks"]["Stop"][0], original["hooks"]["Stop"][0]);
    assert_in_order(
        &once,
        &[
            "\"permissions\"",
            "\"hooks\"",
            "\"PreToolUse\"",
            "\"Stop\"",
            "\"model\"",
        ],
    );
    assert!(once.contains(
        &THEIRS[THEIRS.find("      {\n        \"matcher\": \"Bash\"").unwrap()
            ..THEIRS.find("\n    ],\n    \"Stop\"").unwrap()]
    ));
    for (event, cmd) in [
        ("SessionStart", "coord hook session-start --agent claude"),
        ("UserPromptSubmit", "coord hook user-prompt-submit --agent claude"),
        ("PreToolUse", "coord hook pre-tool-use --agent claude"),
        ("PostToolUse", "coord hook post-tool-use --agent claude"),
        ("Stop", "coord hook stop --agent claude"),
        ("SessionEnd", "coord hook session-end --agent claude"),
    ] {
        assert_eq!(ours(&v, event), [cmd], "{event}");
    }
    // Every tool call is seen: coord's groups carry no matcher.
    assert!(v["hooks"]["PreToolUse"][1].get("matcher").is_none());
    // Twice: the same file, byte for byte.
    let again = coord_in(&repo, None, &["install", "claude", "--json"]).ok();
    assert!(
        again.stdout.contains("\"action\":\"updated\""),
        "{}",
        again.stdout
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), once);
    // Uninstall: the file exactly as the user had it.
    coord_in(&repo, None, &["install", "claude", "--uninstall"]).ok();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), THEIRS);
    let none = coord_in(&repo, None, &["install", "claude", "--uninstall", "--json"]).ok();
    assert!(none.stdout.contains("\"action\":\"absent\""), "{}", none.stdout);
}

#[test]
fn local_settings_codex_and_cursor_files_and_their_refusals() {
    let (_tmp, repo) = repo();
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    // From a subfolder: the files at the top of the work tree.
    coord_in(
        &repo.join("sub"),
        None,
        &["install", "claude", "--local", "--role", "backend"],
    )
    .ok();
    let local = read_json(&repo.join(".claude/settings.local.json"));
    assert_eq!(
        ours(&local, "SessionStart"),
        ["coord hook session-start --agent claude --role backend"]
    );
    assert!(!repo.join(".claude/settings.json").exists());

    coord_in(&repo, None, &["install", "codex"]).ok();
    let codex = read_json(&repo.join(".codex/hooks.json"));
    assert_eq!(codex["hooks"].as_object().unwrap().len(), 6);
    assert_in_order(
        &std::fs::read_to_string(repo.join(".codex/hooks.json")).unwrap(),
        &[
            "SessionStart",
            "UserPromptSubmit",
            "PreToolUse",
            "PostToolUse",
            "Stop",
            "SessionEnd",
        ],
    );
    assert_eq!(
        ours(&codex, "PreToolUse"),
        ["coord hook pre-tool-use --agent codex"]
    );

    coord_in(&repo, None, &["install", "cursor"]).ok();
    let cursor = read_json(&repo.join(".cursor/hooks.json"));
    assert_eq!(cursor["version"], 1);
    assert_eq!(
        cursor["hooks"]["preToolUse"],
        json!([{ "command": "coord hook pre-tool-use --agent cursor" }])
    );
    assert_eq!(
        cursor["hooks"]["sessionStart"],
        json!([{ "command": "coord hook session-start --agent cursor" }])
    );

    // Files coord created go away whole.
    for tool in ["codex", "cursor"] {
        coord_in(&repo, None, &["install", tool, "--uninstall"]).ok();
    }
    assert!(!repo.join(".codex/hooks.json").exists());
    assert!(!repo.join(".cursor/hooks.json").exists());

    // Refusals: one sentence, exit 2 (flags) or 4 (a file coord cannot read), nothing written.
    let bad = coord_in(&repo, None, &["install", "codex", "--local"]).code(2);
    assert!(
        bad.stderr.contains("--local is for `coord install claude`"),
        "{}",
        bad.stderr
    );
    coord_in(&repo, None, &["install", "git", "--role", "x"]).code(2);
    std::fs::create_dir_all(repo.join(".codex")).unwrap();
    std::fs::write(repo.join(".codex/hooks.json"), "[1, 2]\n").unwrap();
    let broken = coord_in(&repo, None, &["install", "codex"]);
    assert_ne!(broken.code, 0);
    assert!(broken.stderr.contains("not a JSON object"), "{}", broken.stderr);
    assert_eq!(
        std::fs::read_to_string(repo.join(".codex/hooks.json")).unwrap(),
        "[1, 2]\n"
    );
}

/// Run the hook command the tool's configuration holds for `event` the way
/// the tool does: `sh -c COMMAND` in the project, coord on PATH, the
/// payload on stdin. Its stdout, parsed when not empty.
fn fire(repo: &Path, command: &str, payload: &Value, env: &[(&str, &str)]) -> Option<Value> {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let mut c = Command::new("sh");
    c.env_clear()
        .env(
            "PATH",
            format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap()),
        )
        .env("COORD_NOW", T0)
        .env("COORD_TESTING", "1")
        .current_dir(repo)
        .args(["-c", command])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(payload.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!text.is_empty()).then(|| serde_json::from_str(&text).expect("one JSON object"))
}

#[test]
fn two_claude_sessions_with_the_installed_hooks_deny_and_deliver_without_being_told() {
    let (tmp, repo) = repo();
    coord_in(&repo, None, &["install", "claude"]).ok();
    coord_in(&repo, None, &["install", "git"]).ok();
    let settings = read_json(&repo.join(".claude/settings.json"));
    let cmd = |event: &str| ours(&settings, event).remove(0);
    let base = |session: &str, event: &str| json!({ "session_id": session, "cwd": repo, "hook_event_name": event, "transcript_path": "/dev/null" });
    // Two conversations open: each is registered and primed.
    let mut ids = Vec::new();
    for session in ["conv-one", "conv-two"] {
        let env_file = tmp.path().join(format!("{session}.env"));
        let mut p = base(session, "SessionStart");
        p["source"] = json!("startup");
        let env_path = env_file.to_string_lossy().into_owned();
        let out = fire(&repo, &cmd("SessionStart"), &p, &[("CLAUDE_ENV_FILE", &env_path)]).unwrap();
        let context = out["hookSpecificOutput"]["additionalContext"].as_str().unwrap();
        assert!(context.contains("You are"), "{context}");
        let line = std::fs::read_to_string(&env_file).unwrap();
        ids.push(
            line.trim()
                .trim_start_matches("export COORD_SESSION=")
                .to_string(),
        );
    }
    // The first one's shell claims a file (its session id is in its shells).
    coord_in(
        &repo,
        None,
        &["claim", "file", "src/auth.rs", "--session", &ids[0]],
    )
    .ok();
    // The second is denied an edit to it, told who holds it.
    let mut edit = base("conv-two", "PreToolUse");
    edit["tool_name"] = json!("Edit");
    edit["tool_input"] = json!({"file_path": repo.join("src/auth.rs"), "old_string": "a", "new_string": "b"});
    let denied = fire(&repo, &cmd("PreToolUse"), &edit, &[]).expect("a decision");
    let o = &denied["hookSpecificOutput"];
    assert_eq!(o["permissionDecision"], "deny");
    let why = o["permissionDecisionReason"].as_str().unwrap();
    assert!(why.contains(&format!("claimed by {}", ids[0])), "{why}");
    // The first may edit its own file.
    edit["session_id"] = json!("conv-one");
    assert_eq!(fire(&repo, &cmd("PreToolUse"), &edit, &[]), None);
    // A message from the first arrives in the second's next prompt, once.
    coord_in(
        &repo,
        None,
        &[
            "send",
            &ids[1],
            "auth.rs is mine until noon",
            "--session",
            &ids[0],
        ],
    )
    .ok();
    let mut prompt = base("conv-two", "UserPromptSubmit");
    prompt["prompt"] = json!("go on");
    let news = fire(&repo, &cmd("UserPromptSubmit"), &prompt, &[]).expect("news");
    let text = news["hookSpecificOutput"]["additionalContext"].as_str().unwrap();
    assert!(text.contains("auth.rs is mine until noon"), "{text}");
    assert_eq!(fire(&repo, &cmd("UserPromptSubmit"), &prompt, &[]), None);
    // The other hooks run quietly.
    for event in ["PostToolUse", "Stop", "SessionEnd"] {
        let mut p = base("conv-two", event);
        p["tool_name"] = json!("Bash");
        p["tool_input"] = json!({"command": "ls"});
        assert_eq!(fire(&repo, &cmd(event), &p, &[]), None, "{event}");
    }
}

#[test]
fn cursor_payloads_get_cursor_answers() {
    let (_tmp, repo) = repo();
    coord_in(&repo, None, &["install", "cursor"]).ok();
    let config = read_json(&repo.join(".cursor/hooks.json"));
    let cmd = |event: &str| config["hooks"][event][0]["command"].as_str().unwrap().to_string();
    let base = |conv: &str, event: &str| {
        json!({
            "conversation_id": conv,
            "generation_id": "g1",
            "hook_event_name": event,
            "workspace_roots": [repo],
        })
    };
    let started = fire(&repo, &cmd("sessionStart"), &base("cur-a", "sessionStart"), &[]).unwrap();
    assert!(
        started["additional_context"]
            .as_str()
            .unwrap()
            .contains("You are"),
        "{started}"
    );
    fire(&repo, &cmd("sessionStart"), &base("cur-b", "sessionStart"), &[]).unwrap();
    coord_in(&repo, Some("holder"), &["start", "--name", "holder"]).ok();
    coord_in(&repo, Some("holder"), &["claim", "file", "web/**"]).ok();
    let mut write = base("cur-b", "preToolUse");
    write["tool_name"] = json!("Write");
    write["tool_input"] = json!({"file_path": "web/index.html", "contents": "<p>"});
    let denied = fire(&repo, &cmd("preToolUse"), &write, &[]).expect("a decision");
    assert_eq!(denied["permission"], "deny");
    assert!(
        denied["agent_message"]
            .as_str()
            .unwrap()
            .contains("claimed by holder"),
        "{denied}"
    );
    // A prompt is a sign of life only (Cursor takes no context there); the
    // message waits for the next tool call.
    coord_in(&repo, Some("holder"), &["send", "broadcast", "web is frozen"]).ok();
    let mut prompt = base("cur-b", "beforeSubmitPrompt");
    prompt["prompt"] = json!("hi");
    assert_eq!(fire(&repo, &cmd("beforeSubmitPrompt"), &prompt, &[]), None);
    let mut after = base("cur-b", "postToolUse");
    after["tool_name"] = json!("Read");
    after["tool_input"] = json!({"file_path": "README"});
    let news = fire(&repo, &cmd("postToolUse"), &after, &[]).expect("news");
    assert!(
        news["additional_context"]
            .as_str()
            .unwrap()
            .contains("web is frozen"),
        "{news}"
    );
}

#[test]
fn installs_never_write_through_a_planted_link() {
    let (tmp, repo) = repo();
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    // Links at the temporary names older versions used, and at any name a
    // guess could reach: the files still land where they belong.
    std::fs::create_dir_all(repo.join(".claude")).unwrap();
    for planted in [
        repo.join(".AGENTS.md.coord-tmp"),
        repo.join(".claude/.settings.json.coord-tmp"),
        repo.join(".git/hooks/.pre-commit.coord-tmp"),
    ] {
        std::os::unix::fs::symlink(&victim, planted).unwrap();
    }
    coord_in(&repo, None, &["install", "agents-md"]).ok();
    coord_in(&repo, None, &["install", "claude"]).ok();
    coord_in(&repo, None, &["install", "git"]).ok();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&victim).unwrap().permissions().mode() & 0o111,
        0,
        "not made executable"
    );
    assert!(std::fs::read_to_string(repo.join("AGENTS.md"))
        .unwrap()
        .contains("coord"));
    assert!(std::fs::read_to_string(repo.join(".git/hooks/pre-commit"))
        .unwrap()
        .contains("coord guard"));
    // A committed link to a folder elsewhere is refused with one sentence,
    // and nothing is written there.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, repo.join(".codex")).unwrap();
    let out = coord_in(&repo, None, &["install", "codex"])
        .code(5)
        .one_error_line();
    assert!(out.stderr.contains(".codex is a symbolic link"), "{}", out.stderr);
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    // A linked target file is refused the same way.
    std::fs::remove_file(repo.join("AGENTS.md")).unwrap();
    std::os::unix::fs::symlink(&victim, repo.join("AGENTS.md")).unwrap();
    coord_in(&repo, None, &["install", "agents-md"])
        .code(5)
        .one_error_line();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

/// A stand-in for `codex app-server` (JSON-RPC on stdin and stdout, as the
/// real one speaks it: scripts/agents-check runs the real one). What was
/// trusted is kept in the file `$FAKE_CODEX_STATE`.
const FAKE_CODEX: &str = r#"#!/bin/bash
[ "$1" = app-server ] || exit 2
state="$FAKE_CODEX_STATE"
while IFS= read -r line; do
  id=$(printf '%s' "$line" | sed -n 's/^{"id":\([0-9]*\),.*/\1/p')
  [ -n "$id" ] || continue
  case "$line" in
    *'"method":"initialize"'*) r='{}' ;;
    *'"method":"config/read"'*)
      top=$(printf '%s' "$line" | sed -n 's/.*"cwd":"\([^"]*\)".*/\1/p')
      r='{"config":{}}'
      grep -q project "$state" 2>/dev/null && r="{\"config\":{\"projects\":{\"$top\":{\"trust_level\":\"trusted\"}}}}" ;;
    *'"method":"hooks/list"'*)
      top=$(printf '%s' "$line" | sed -n 's/.*"cwds":\["\([^"]*\)".*/\1/p')
      hooks=""
      if grep -q project "$state" 2>/dev/null; then
        trust=untrusted; grep -q hooks "$state" && trust=trusted
        for e in preToolUse:pre-tool-use postToolUse:post-tool-use sessionStart:session-start sessionEnd:session-end userPromptSubmit:user-prompt-submit stop:stop; do
          hooks="$hooks${hooks:+,}{\"eventName\":\"${e%%:*}\",\"trustStatus\":\"$trust\",\"key\":\"k-${e%%:*}\",\"currentHash\":\"sha256:h-${e%%:*}\",\"sourcePath\":\"$top/.codex/hooks.json\",\"command\":\"coord hook ${e#*:} --agent codex\"}"
        done
      fi
      r="{\"data\":[{\"cwd\":\"$top\",\"hooks\":[$hooks],\"warnings\":[],\"errors\":[]}]}" ;;
    *'"keyPath":"projects"'*) echo "project $line" >> "$state"; r='{"status":"ok"}' ;;
    *'"keyPath":"hooks.state"'*) echo "hooks $line" >> "$state"; r='{"status":"ok"}' ;;
    *) r='null' ;;
  esac
  printf '{"id":%s,"result":%s}\n' "$id" "$r"
done
"#;

fn fake_codex(dir: &Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("fake-codex");
    std::fs::write(&path, FAKE_CODEX).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn coord_codex(repo: &Path, codex: &Path, state: &Path, args: &[&str]) -> Out {
    coord_in_env(
        repo,
        &[
            ("COORD_CODEX", codex.as_os_str()),
            ("FAKE_CODEX_STATE", state.as_os_str()),
        ],
        args,
    )
}

#[test]
fn codex_trust_is_reported_checked_and_given_through_codex_itself() {
    let (tmp, repo) = repo();
    let codex = fake_codex(tmp.path());
    let state = tmp.path().join("codex-state");
    // Installed, but Codex trusts neither the project nor the hooks: said,
    // with the next step, and the install itself succeeds.
    let out = coord_codex(&repo, &codex, &state, &["install", "codex"]).ok();
    assert!(
        out.stderr.contains("Codex does not trust") && out.stderr.contains("coord install codex --trust"),
        "{}",
        out.stderr
    );
    // --check: exit 1, one sentence and the command that fixes it; it
    // writes nothing.
    let before = std::fs::read(repo.join(".codex/hooks.json")).unwrap();
    let out = coord_codex(&repo, &codex, &state, &["install", "codex", "--check"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("coord install codex --trust"),
        "{}",
        out.stderr
    );
    assert!(!state.exists(), "--check trusted something");
    assert_eq!(std::fs::read(repo.join(".codex/hooks.json")).unwrap(), before);
    // --trust: the project, then coord's hooks by the hashes Codex gave.
    let out = coord_codex(&repo, &codex, &state, &["install", "codex", "--trust"]).ok();
    assert!(
        out.stderr.contains("Codex will run coord's 6 hooks here"),
        "{}",
        out.stderr
    );
    let written = std::fs::read_to_string(&state).unwrap();
    assert!(written.contains("\"trust_level\":\"trusted\""), "{written}");
    assert!(
        written.contains("\"k-preToolUse\":{\"trusted_hash\":\"sha256:h-preToolUse\"}"),
        "{written}"
    );
    let out = coord_codex(&repo, &codex, &state, &["install", "codex", "--check", "--json"]).ok();
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["ready"], true);
    assert_eq!(v["hooks"].as_array().unwrap().len(), 6);
    // Only hooks were trusted, nothing else: --check and --trust are refused
    // for other targets, and --check without Codex says so (exit 1).
    let out = coord_codex(&repo, &codex, &state, &["install", "claude", "--check"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = coord_codex(&repo, Path::new(""), &state, &["install", "codex", "--check"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("codex is not on PATH"), "{}", out.stderr);
}

#[test]
fn install_warns_when_a_login_shell_does_not_find_coord() {
    let (tmp, repo) = repo();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let install = |home: &Path| coord_in_env(&repo, &[("HOME", home.as_os_str())], &["install", "codex"]);
    // The test binary is in no folder a login shell puts on PATH.
    let out = install(&home).ok();
    assert!(
        out.stderr.contains("a login shell does not find coord") && out.stderr.contains("ln -s"),
        "{}",
        out.stderr
    );
    // The installed hooks are the same either way.
    let first = std::fs::read_to_string(repo.join(".codex/hooks.json")).unwrap();
    assert!(first.contains("\"coord hook pre-tool-use --agent codex\""));
    // The fix it names: coord's folder on the login shell's PATH.
    let dir = Path::new(BIN).parent().unwrap();
    std::fs::write(
        home.join(".profile"),
        format!("PATH=\"{}:$PATH\"\n", dir.display()),
    )
    .unwrap();
    let out = install(&home).ok();
    assert!(!out.stderr.contains("login shell"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(repo.join(".codex/hooks.json")).unwrap(),
        first
    );
}
