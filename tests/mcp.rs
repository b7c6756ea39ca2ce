//! `coord mcp`: JSON-RPC over the child's stdio, as an MCP client speaks it
//! (initialize, notifications/initialized, tools/list, tools/call).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use serde_json::{json, Value};

use crate::support::*;

struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next: u64,
}

impl Client {
    /// `coord mcp ARGS` on `hub`, initialized with `version`.
    fn open(hub: &Hub, args: &[&str], version: &str) -> (Client, Value) {
        let mut all = vec!["mcp"];
        all.extend_from_slice(args);
        let mut c = hub.cmd(&all);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut client = Client {
            child,
            stdin,
            stdout,
            next: 0,
        };
        let init = client.request(
            "initialize",
            json!({
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "coord-test", "version": "0"},
            }),
        );
        client.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        (client, init)
    }

    fn send(&mut self, message: Value) {
        writeln!(self.stdin, "{message}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// One request and its response; every line on stdout must be JSON-RPC.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "the server closed stdout"
            );
            let v: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON on stdout ({e}): {line}"));
            assert_eq!(v["jsonrpc"], "2.0", "{line}");
            if v["id"] == json!(id) {
                return v;
            }
        }
    }

    fn tool(&mut self, name: &str, arguments: Value) -> Value {
        let r = self.request("tools/call", json!({"name": name, "arguments": arguments}));
        assert!(r.get("error").is_none(), "{r}");
        r["result"].clone()
    }

    fn tools(&mut self) -> (Vec<String>, usize) {
        let r = self.request("tools/list", json!({}));
        let tools = r["result"]["tools"].as_array().unwrap().clone();
        let size = serde_json::to_string(&tools).unwrap().len();
        (
            tools
                .iter()
                .map(|t| t["name"].as_str().unwrap().to_string())
                .collect(),
            size,
        )
    }

    /// Close stdin: the server ends, with success.
    fn close(self) -> std::process::Output {
        drop(self.stdin);
        let out = self.child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out
    }
}

fn text(result: &Value) -> String {
    result["content"][0]["text"].as_str().unwrap_or("").to_string()
}

#[test]
fn the_versions_clients_send_are_accepted_and_the_profiles_list_their_tools() {
    let hub = Hub::new();
    for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let (mut c, init) = Client::open(&hub, &[], version);
        assert_eq!(init["result"]["protocolVersion"], version, "{init}");
        assert_eq!(init["result"]["serverInfo"]["name"], "coord");
        assert!(init["result"]["capabilities"]["tools"].is_object());
        let (mut names, _) = c.tools();
        names.sort();
        assert_eq!(
            names,
            [
                "ack",
                "brief",
                "claim",
                "heartbeat",
                "inbox",
                "prime",
                "release",
                "send",
                "start",
                "status",
                "whoami"
            ]
        );
        c.close();
    }
    let (mut c, _) = Client::open(&hub, &["--tools", "minimal"], "2025-06-18");
    let (mut names, _) = c.tools();
    names.sort();
    assert_eq!(names, ["claim", "inbox", "release", "send"]);
    c.close();
}

#[test]
fn two_agents_claim_message_and_ack_through_their_own_servers() {
    let hub = Hub::new();
    let (mut a, _) = Client::open(&hub, &[], "2025-06-18");
    let (mut b, _) = Client::open(&hub, &[], "2025-06-18");
    // Each server holds its own session.
    let started = a.tool("start", json!({"name": "alice", "role": "backend"}));
    assert_eq!(started["isError"], false);
    assert_eq!(started["structuredContent"]["session"]["id"], "alice");
    b.tool("start", json!({"name": "bob"}));
    assert_eq!(
        a.tool("whoami", json!({}))["structuredContent"]["session"]["id"],
        "alice"
    );
    assert_eq!(
        b.tool("whoami", json!({}))["structuredContent"]["session"]["id"],
        "bob"
    );

    let claimed = a.tool("claim", json!({"type": "file", "name": "src/**", "for": "2h"}));
    assert_eq!(claimed["structuredContent"]["outcome"], "taken", "{claimed}");
    assert!(text(&claimed).contains("file:src/**"), "{claimed}");
    // The second is refused with the CLI's sentence and exit code.
    let refused = b.tool("claim", json!({"type": "file", "name": "src/**"}));
    assert_eq!(refused["isError"], true, "{refused}");
    assert_eq!(refused["structuredContent"]["exit_code"], 3);
    let cli = hub.as_("bob", &["claim", "file", "src/**"]).code(3);
    assert_eq!(text(&refused), cli.stderr.trim_end());
    // The hub is the CLI's hub.
    let claims = hub.run(&["claims", "--json"]).ok().json();
    assert_eq!(claims["claims"][0]["holder"], "alice", "{claims}");

    // A message, read once; an emergency, acknowledged.
    b.tool(
        "send",
        json!({"to": "alice", "subject": "-1 on that glob", "body": "leave src/web to me"}),
    );
    let inbox = a.tool("inbox", json!({}));
    let messages = inbox["structuredContent"]["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 1, "{inbox}");
    assert_eq!(messages[0]["subject"], "-1 on that glob");
    assert!(text(&inbox).contains("leave src/web to me"), "{inbox}");
    let again = a.tool("inbox", json!({}));
    assert!(
        again["structuredContent"]["messages"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{again}"
    );
    let sent = b.tool(
        "send",
        json!({"to": "alice", "subject": "halt all deploys", "level": "emergency"}),
    );
    let id = sent["structuredContent"]["message"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Every tool result of the addressee carries the emergency until acked.
    let status = a.tool("status", json!({}));
    assert!(text(&status).contains("halt all deploys"), "{status}");
    let acked = a.tool("ack", json!({"id": id, "resolve": true}));
    assert_eq!(acked["isError"], false, "{acked}");

    a.tool(
        "heartbeat",
        json!({"action": "editing", "target": "src/db.rs", "progress": "40", "note": "-1 on the old schema"}),
    );
    let bob_sees = b.tool("status", json!({}));
    assert!(text(&bob_sees).contains("src/db.rs"), "{bob_sees}");
    // A value that starts with a hyphen stays a value.
    assert_eq!(
        hub.registry()["sessions"]["alice"]["note"],
        "-1 on the old schema"
    );
    let released = a.tool("release", json!({"all": true}));
    assert_eq!(released["isError"], false, "{released}");
    let brief = a.tool("brief", json!({}));
    assert!(text(&brief).starts_with("# "), "{brief}");
    let prime = a.tool("prime", json!({}));
    assert!(text(&prime).contains("You are session alice"), "{prime}");

    // Nothing but protocol went to stdout (each line was parsed above), and
    // closing stdin ends the server cleanly.
    a.close();
    b.close();
}

#[test]
fn bad_arguments_are_tool_errors_and_the_session_can_come_from_the_flag() {
    let hub = Hub::new();
    hub.run(&["start", "--name", "carol"]).ok();
    let (mut c, _) = Client::open(&hub, &["--session", "carol"], "2025-06-18");
    assert_eq!(
        c.tool("whoami", json!({}))["structuredContent"]["session"]["id"],
        "carol"
    );
    // Missing a required argument: the SDK refuses it as a tool error.
    let missing = c.tool("claim", json!({"type": "file"}));
    assert_eq!(missing["isError"], true, "{missing}");
    assert!(text(&missing).contains("missing field `name`"), "{missing}");
    // A value coord refuses: a tool error with the CLI's hint.
    let bad = c.tool(
        "claim",
        json!({"type": "file", "name": "src/**", "for": "forever"}),
    );
    assert_eq!(bad["isError"], true, "{bad}");
    assert_eq!(bad["structuredContent"]["exit_code"], 2);
    assert!(text(&bad).starts_with("error: "), "{bad}");
    let out = c.close();
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_server_binds_to_its_own_connection_and_takes_no_live_session() {
    let hub = Hub::new();
    // A human's shell (this test process) has its own session.
    hub.run(&["start", "--name", "ana"]).ok();
    // Launched by hand from that shell, the server starts a session of its
    // own: the shell stays ana.
    let (mut server, _) = Client::open(&hub, &[], "2025-06-18");
    let started = server.tool("start", json!({"name": "mcpy"}));
    assert_eq!(started["isError"], false, "{started}");
    let me = hub.run(&["whoami"]).ok().stdout;
    assert!(me.starts_with("ana"), "the shell was rebound: {me}");
    hub.run(&["send", "broadcast", "from the shell"]).ok();
    assert_eq!(hub.lines("MESSAGES.jsonl").last().unwrap()["from"], "ana");
    let who = server.tool("whoami", json!({}));
    assert!(text(&who).starts_with("mcpy"), "{who}");
    // Another agent's live session is refused to the start tool, resume or not.
    let mut aaa = Shell::on(&hub, &[("CLAUDE_CODE_SESSION_ID", "aaa")]);
    aaa.run("coord start --name alice").ok();
    let (mut other, _) = Client::open(&hub, &[], "2025-06-18");
    let taken = other.tool("start", json!({"name": "alice", "resume": true}));
    assert_eq!(taken["isError"], true, "{taken}");
    assert!(text(&taken).contains("held by another agent"), "{taken}");
    assert!(aaa.run("coord whoami").ok().stdout.starts_with("alice"));
    // The first server's session dies with its connection: it may be
    // taken back once the server is gone.
    server.close();
    let back = other.tool("start", json!({"name": "mcpy", "resume": true}));
    assert_eq!(back["isError"], false, "{back}");
    other.close();
}
