//! Identity is never wrong: a command acts as the session bound to its own
//! agent or shell, or fails with exit 4 and `coord start --name NAME`. Every
//! scenario runs real processes: stand-in agents that run each command in a
//! fresh `bash -c`, and interactive shells standing in for terminals.

use crate::agents::{Agent, Terminal};
use crate::support::*;

fn acts_as(out: &Out, who: &str) {
    assert_eq!(out.code, 0, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(
        out.stdout.starts_with(&format!("{who}:")) || out.stdout == format!("{who}\n"),
        "want {who}: {}",
        out.stdout
    );
}

fn refused(out: &Out) {
    assert_eq!(out.code, 4, "stdout: {}\nstderr: {}", out.stdout, out.stderr);
    assert!(out.stderr.contains("coord start --name NAME"), "{}", out.stderr);
}

#[test]
fn chained_commands_in_one_shell_act_as_the_session_just_started() {
    let hub = Hub::new();
    let mut agent = Agent::spawn(&hub, &[]);
    // bash runs the first command as a child and execs the last one.
    let out = agent.sh("\"$COORD\" start --name x1 -q && \"$COORD\" heartbeat y");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "x1\nx1: y\n");
    acts_as(&agent.coord("whoami"), "x1");
}

#[test]
fn a_new_agent_in_the_same_parent_never_inherits_a_dead_agents_session() {
    let hub = Hub::new();
    let mut first = Agent::spawn(&hub, &[]);
    first.coord("start --name q1").ok();
    first.coord("claim task api").ok();
    first.exit();
    let mut next = Agent::spawn(&hub, &[]);
    // Before its own start: nobody, not q1.
    let out = next.coord("heartbeat y");
    refused(&out);
    assert!(!out.stderr.contains("q1"), "{}", out.stderr);
    refused(&next.coord("claim task api"));
    refused(&next.coord("send broadcast hello"));
    let out = next.sh("\"$COORD\" start --name x1 -q && \"$COORD\" heartbeat y");
    assert_eq!(out.stdout, "x1\nx1: y\n", "{}", out.stderr);
    // q1 lives on by liveness and keeps its claim; nothing acted as it.
    assert_eq!(hub.registry()["claims"]["task:api"]["holder"], "q1");
    assert!(hub
        .events_of("session.heartbeat")
        .iter()
        .all(|e| e["session"] == "x1"));
}

#[test]
fn shells_wrappers_and_pipes_inside_an_agent_find_its_session() {
    let hub = Hub::new();
    let mut agent = Agent::spawn(&hub, &[]);
    agent.coord("start --name wrap").ok();
    for script in [
        "\"$COORD\" heartbeat a",
        "bash -lc '\"$COORD\" heartbeat b'",
        "sh -c '\"$COORD\" heartbeat c'",
        "( \"$COORD\" heartbeat d )",
        "\"$COORD\" heartbeat e | cat",
        "echo $(\"$COORD\" heartbeat f)",
        "timeout 20 \"$COORD\" heartbeat g",
        "nohup \"$COORD\" heartbeat h 2>/dev/null",
        "env A=1 \"$COORD\" heartbeat i",
        "nice \"$COORD\" heartbeat j",
        "true && { \"$COORD\" heartbeat k; true; }",
        "printf 'l\\n' | xargs \"$COORD\" heartbeat",
    ] {
        let out = agent.sh(script);
        assert_eq!(out.code, 0, "{script}: {}", out.stderr);
        assert!(out.stdout.starts_with("wrap: "), "{script}: {}", out.stdout);
    }
}

#[test]
fn two_agents_in_one_folder_stay_two_even_at_once() {
    let hub = Hub::new();
    let runs: Vec<_> = ["left", "right"]
        .into_iter()
        .map(|name| {
            let mut agent = Agent::spawn(&hub, &[]);
            std::thread::spawn(move || {
                agent.coord(&format!("start --name {name}")).ok();
                (0..5)
                    .map(|i| agent.coord(&format!("heartbeat step{i}")))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for (name, run) in ["left", "right"].into_iter().zip(runs) {
        for out in run.join().unwrap() {
            acts_as(&out, name);
        }
    }
}

#[test]
fn two_agents_in_two_linked_worktrees_share_the_hub_and_not_their_identity() {
    let hub = Hub::new();
    let repo = hub.repo();
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t")
            .output()
            .unwrap();
        assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    };
    git(&["init", "-q"]);
    git(&["commit", "-q", "--allow-empty", "-m", "root"]);
    let tree = hub.tmp.path().join("tree-b");
    git(&["worktree", "add", "-q", tree.to_str().unwrap()]);
    let mut a = Agent::spawn_in(&hub, &repo, &[]);
    let mut b = Agent::spawn_in(&hub, &tree, &[]);
    a.coord("start --name main-side").ok();
    b.coord("start --name tree-side").ok();
    acts_as(&a.coord("heartbeat on main"), "main-side");
    acts_as(&b.coord("heartbeat on tree"), "tree-side");
    let status = b.coord("status --short").ok();
    assert!(status.stdout.contains("main-side") && status.stdout.contains("tree-side"));
}

#[test]
fn an_agent_launched_from_a_humans_shell_is_not_the_human() {
    let hub = Hub::new();
    let mut term = Terminal::open(&hub);
    acts_as(&term.coord("start --name lead"), "lead");
    let mut agent = term.launch_agent(&[("CLAUDE_CODE_SESSION_ID", "claude-1")]);
    // Before its own start the agent is nobody, not the human.
    refused(&agent.coord("heartbeat sneaking"));
    agent.coord("start --name worker").ok();
    acts_as(&agent.coord("heartbeat coding"), "worker");
    // The agent's start did not take the terminal over.
    acts_as(&term.coord("whoami"), "lead");
    acts_as(&term.coord("heartbeat reviewing"), "lead");
    agent.exit();
    // After the agent exits, the human is still the human.
    acts_as(&term.coord("heartbeat after"), "lead");
    let how = term.coord("--json whoami").ok().json();
    assert_eq!(how["how"]["by"], "anchor");
    assert_eq!(how["how"]["process"], "bash");
}

#[test]
fn nothing_inherits_a_session_whose_process_is_gone() {
    let hub = Hub::new();
    // An agent starts, claims, and exits without `coord stop`.
    let mut ghost = Agent::spawn(&hub, &[("CLAUDE_CODE_SESSION_ID", "claude-ghost")]);
    ghost.coord("start --name ghost").ok();
    ghost.coord("claim task api").ok();
    ghost.exit();
    // A human who never ran start.
    let mut term = Terminal::open(&hub);
    refused(&term.coord("send broadcast hi"));
    refused(&term.coord("release task api"));
    // A new agent with another agent id.
    let mut other = Agent::spawn(&hub, &[("CLAUDE_CODE_SESSION_ID", "claude-new")]);
    refused(&other.coord("claim task api"));
    assert_eq!(hub.registry()["claims"]["task:api"]["holder"], "ghost");
    assert!(
        hub.lines("MESSAGES.jsonl").is_empty(),
        "nothing was sent as ghost"
    );
    // A terminal window closed, and a new one opened.
    let mut window = Terminal::open(&hub);
    acts_as(&window.coord("start --name win1"), "win1");
    window.close();
    let mut fresh = Terminal::open(&hub);
    refused(&fresh.coord("heartbeat"));
    // The same agent id comes back (a resumed conversation): its session.
    let mut back = Agent::spawn(&hub, &[("CLAUDE_CODE_SESSION_ID", "claude-ghost")]);
    acts_as(&back.coord("heartbeat back"), "ghost");
}

#[test]
fn an_agent_id_decides_alone() {
    let hub = Hub::new();
    let mut term = Terminal::open(&hub);
    term.coord("start --name human").ok();
    // A command from under the human's shell that carries an agent id is
    // that agent's, never the human's.
    let out = term.typed("CODEX_THREAD_ID=thread-9 \"$COORD\" heartbeat x");
    refused(&out);
    let out = term.typed("CODEX_THREAD_ID=thread-9 \"$COORD\" start --name codex-9");
    assert_eq!(out.code, 0, "{}", out.stderr);
    acts_as(
        &term.typed("CODEX_THREAD_ID=thread-9 \"$COORD\" heartbeat y"),
        "codex-9",
    );
    acts_as(
        &term.typed("COORD_AGENT_ID=any-tool \"$COORD\" start --name generic -q"),
        "generic",
    );
    acts_as(
        &term.typed("COORD_AGENT_ID=any-tool \"$COORD\" heartbeat z"),
        "generic",
    );
    acts_as(&term.coord("heartbeat w"), "human");
    let how = term
        .typed("CODEX_THREAD_ID=thread-9 \"$COORD\" --json whoami")
        .ok()
        .json();
    assert_eq!(how["how"]["by"], "agent");
    assert_eq!(how["how"]["variable"], "CODEX_THREAD_ID");
}

#[test]
fn several_dead_sessions_are_never_offered_as_ids_to_take() {
    let hub = Hub::new();
    for name in ["k1", "k2", "k3"] {
        let mut a = Agent::spawn(&hub, &[]);
        a.coord(&format!("start --name {name}")).ok();
        a.exit();
    }
    let mut next = Agent::spawn(&hub, &[]);
    let out = next.coord("heartbeat");
    refused(&out);
    for name in ["k1", "k2", "k3"] {
        assert!(!out.stderr.contains(name), "{}", out.stderr);
    }
    let out = next.coord("--json whoami");
    assert_eq!(out.code, 4);
    assert_eq!(out.json()["error"]["kind"], "not_found");
}

#[test]
fn starting_again_returns_the_same_session() {
    let hub = Hub::new();
    let mut agent = Agent::spawn(&hub, &[]);
    agent.coord("start --name a1 --role backend").ok();
    agent.coord("claim task api").ok();
    // After a context compaction the agent starts again: the same session.
    let again = agent.coord("--json start").ok().json();
    assert_eq!(again["session"]["id"], "a1");
    assert_eq!(again["resumed"], true);
    assert_eq!(agent.coord("start --name a1").ok().stdout, "a1\n");
    assert_eq!(hub.registry()["sessions"].as_object().unwrap().len(), 1);
    // Another name while a1 holds claims: refused, with the way out.
    let before = hub.snapshot();
    let out = agent.coord("start --name b1").code(3).one_error_line();
    assert!(
        out.stderr.contains("a1") && out.stderr.contains("--replace"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("coord stop"), "{}", out.stderr);
    assert_eq!(hub.snapshot(), before);
    // --replace ends a1 (journaled, claims released) and starts b1.
    acts_as(&agent.coord("start --name b1 --replace"), "b1");
    let reg = hub.registry();
    assert!(reg["sessions"]["a1"]["ended"].is_string());
    assert!(reg["claims"]["task:api"].get("holder").is_none());
    assert_eq!(hub.events_of("claim.released").len(), 1);
    acts_as(&agent.coord("heartbeat"), "b1");
    // Without claims a new name simply moves the binding.
    acts_as(&agent.coord("start --name c1"), "c1");
    acts_as(&agent.coord("whoami"), "c1");
}

#[test]
fn a_named_session_must_exist_for_every_command() {
    let hub = Hub::new();
    hub.start("alice");
    for args in [
        &["status"][..],
        &["status", "--short"],
        &["inbox"],
        &["whoami"],
        &["heartbeat"],
    ] {
        let out = hub.as_("nobody", args).code(4).one_error_line();
        assert!(out.stderr.contains("nobody"), "{args:?}: {}", out.stderr);
    }
    let out = hub.call(&["status"]).env("COORD_SESSION", "nobody").run().code(4);
    assert!(out.stderr.contains("COORD_SESSION"), "{}", out.stderr);
    hub.as_("alice", &["stop"]).ok();
    hub.as_("alice", &["status"]).code(4);
    // Anyone may still read status without naming a session.
    hub.run(&["status"]).ok();
}

#[test]
fn whoami_says_who_and_how() {
    let hub = Hub::new();
    hub.start("alice");
    let out = hub.as_("alice", &["whoami"]).ok();
    assert_eq!(out.stdout, "alice\n");
    assert!(out.stderr.contains("--session"), "{}", out.stderr);
    let v = hub
        .call(&["--json", "whoami"])
        .env("COORD_SESSION", "alice")
        .run()
        .ok()
        .json();
    assert_eq!(v["how"]["by"], "env");
    assert_eq!(v["session"]["id"], "alice");
    let v = hub
        .call(&["--json", "whoami"])
        .env("COORD_AGENT_ID", "agent-alice")
        .run()
        .ok()
        .json();
    assert_eq!(
        v["how"],
        serde_json::json!({"by": "agent", "variable": "COORD_AGENT_ID"})
    );
}
