//! `coord dashboard`: the server on an ephemeral port, spoken to over plain
//! HTTP/1.1 from the test (the page, every JSON endpoint, the event stream,
//! the bind rules, the token on write routes, Ctrl-C).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

struct Server {
    child: Child,
    port: u16,
    token: Option<String>,
}

impl Server {
    fn start(hub: &Hub, args: &[&str]) -> Server {
        Server::start_with(hub, args, &[])
    }

    fn start_with(hub: &Hub, args: &[&str], env: &[(&str, String)]) -> Server {
        let mut all = vec!["dashboard", "--port", "0"];
        all.extend_from_slice(args);
        let mut c = hub.cmd(&all);
        for (k, v) in env {
            c.env(k, v);
        }
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // http://127.0.0.1:PORT/ or http://127.0.0.1:PORT/?token=T
        let rest = line
            .trim()
            .strip_prefix("http://127.0.0.1:")
            .unwrap_or_else(|| panic!("{line}"));
        let (port, tail) = rest.split_once('/').unwrap();
        Server {
            child,
            port: port.parse().unwrap(),
            token: tail.strip_prefix("?token=").map(str::to_string),
        }
    }

    fn stream(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    /// One request; the status code, headers and body.
    fn request(
        &self,
        method: &str,
        path: &str,
        host: Option<&str>,
        body: Option<&str>,
    ) -> (u16, String, String) {
        let mut s = self.stream();
        let host = host
            .map(str::to_string)
            .unwrap_or(format!("127.0.0.1:{}", self.port));
        let body = body.unwrap_or("");
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let code = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        (code, head.to_string(), body.to_string())
    }

    fn get_json(&self, path: &str) -> Value {
        let (code, _, body) = self.request("GET", path, None, None);
        assert_eq!(code, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }

    /// Ctrl-C: the server stops by itself, with success.
    fn interrupt(mut self) -> String {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        let status = self.child.wait().unwrap();
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(status.success(), "{status:?}: {err}");
        err
    }
}

/// A failed assertion must not leave the server running.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn team() -> Hub {
    let hub = Hub::new();
    hub.start_role("alice", "backend").ok();
    hub.start_role("bob", "frontend").ok();
    hub.as_("alice", &["claim", "task", "auth", "--for", "2h"]).ok();
    hub.as_("alice", &["task", "add", "ship", "--title", "Ship"]).ok();
    hub
}

#[test]
fn the_page_and_every_endpoint_answer_with_the_clis_shapes() {
    let hub = team();
    let server = Server::start(&hub, &[]);
    assert_eq!(server.token, None, "read-only: no token in the URL");
    let (code, head, page) = server.request("GET", "/", None, None);
    assert_eq!(code, 200);
    assert!(head.to_lowercase().contains("content-type: text/html"), "{head}");
    assert!(head.contains("default-src 'self'"), "{head}");
    assert!(page.contains("<script src=\"/app.js\""), "{page}");
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "no external resource"
    );
    for asset in ["/app.js", "/app.css"] {
        let (code, _, body) = server.request("GET", asset, None, None);
        assert_eq!(code, 200);
        assert!(!body.contains("https://"), "{asset} loads nothing from elsewhere");
    }
    // The same JSON as the CLI's --json.
    let status = server.get_json("/api/status");
    let cli = hub.run(&["--json", "status"]).ok().json();
    assert_eq!(status["sessions"], cli["sessions"]);
    assert_eq!(status["claims"], cli["claims"]);
    assert_eq!(status["plan"], cli["plan"]);
    assert_eq!(status["schema"], 1);
    let brief = server.get_json("/api/brief");
    assert!(
        brief["markdown"].as_str().unwrap().starts_with("# Current state"),
        "{brief}"
    );
    let state = server.get_json("/api/state");
    let cards: Vec<&str> = state["cards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(cards, ["alice", "bob"]);
    assert_eq!(state["status"]["plan"]["ready"][0]["id"], "ship");
    // A page from another host name (DNS rebinding) is refused.
    let (code, _, _) = server.request("GET", "/api/state", Some("evil.example"), None);
    assert_eq!(code, 403);
    let err = server.interrupt();
    assert!(err.contains("dashboard stopped"), "{err}");
}

#[test]
fn the_event_stream_delivers_a_change_made_by_another_coord_process() {
    let hub = team();
    let server = Server::start(&hub, &[]);
    let mut s = server.stream();
    write!(
        s,
        "GET /events HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
        server.port
    )
    .unwrap();
    let mut reader = BufReader::new(s);
    // Read stream lines until one satisfies `want`.
    let mut until = |want: &dyn Fn(&str) -> bool| -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            assert!(Instant::now() < deadline, "no such event in time");
            let mut line = String::new();
            assert!(reader.read_line(&mut line).unwrap() > 0, "the stream ended");
            if want(&line) {
                return line;
            }
        }
    };
    // The current state at once, on connecting.
    let first = until(&|l| l.starts_with("data:"));
    assert!(first.contains("\"cards\""), "{first}");
    // Another process changes the hub: the stream brings it.
    hub.as_("bob", &["heartbeat", "styling", "stream-check-target"])
        .ok();
    let next = until(&|l| l.starts_with("data:") && l.contains("stream-check-target"));
    let v: Value = serde_json::from_str(next.trim_start_matches("data:").trim()).unwrap();
    let bob = v["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "bob")
        .unwrap();
    assert_eq!(bob["target"], "stream-check-target");
    // Ctrl-C ends the server even with a stream open.
    server.interrupt();
}

#[test]
fn write_routes_need_write_mode_and_the_token() {
    let hub = team();
    let ro = Server::start(&hub, &[]);
    let (code, _, body) = ro.request("POST", "/api/send", None, Some(r#"{"to":"bob","subject":"hi"}"#));
    assert_eq!(code, 403);
    assert!(body.contains("read-only"), "{body}");
    ro.interrupt();

    let rw = Server::start(&hub, &["--write"]);
    let token = rw.token.clone().expect("a token in the URL");
    assert_eq!(token.len(), 32);
    let send = r#"{"to":"bob","subject":"from the lead","level":"warning"}"#;
    let before = hub.lines("MESSAGES.jsonl").len();
    for path in ["/api/send".to_string(), "/api/send?token=wrong".to_string()] {
        let (code, _, body) = rw.request("POST", &path, None, Some(send));
        assert_eq!(code, 403, "{path}: {body}");
    }
    assert_eq!(
        hub.lines("MESSAGES.jsonl").len(),
        before,
        "refused writes wrote nothing"
    );
    let (code, _, body) = rw.request("POST", &format!("/api/send?token={token}"), None, Some(send));
    assert_eq!(code, 200, "{body}");
    let last = hub.lines("MESSAGES.jsonl").pop().unwrap();
    assert_eq!(last["from"], "dashboard");
    assert_eq!(last["subject"], "from the lead");
    // An emergency, acknowledged and resolved from the page.
    let sent = hub
        .as_(
            "alice",
            &["--json", "send", "broadcast", "stop", "--level", "emergency"],
        )
        .ok()
        .json();
    let id = sent["message"]["id"].as_str().unwrap().to_string();
    let state = rw.get_json("/api/state");
    assert_eq!(state["emergencies"][0]["id"], id.as_str());
    // The page's session resolves what others sent only with lead rights,
    // which the settings grant.
    let resolve = format!(r#"{{"id":"{id}","resolve":true}}"#);
    let (code, _, body) = rw.request("POST", &format!("/api/ack?token={token}"), None, Some(&resolve));
    assert_ne!(code, 200, "{body}");
    hub.settings("[roles]\nlead = [\"dashboard\"]\n");
    let (code, _, body) = rw.request(
        "POST",
        &format!("/api/ack?token={token}"),
        None,
        Some(&format!(r#"{{"id":"{id}","resolve":true}}"#)),
    );
    assert_eq!(code, 200, "{body}");
    assert!(hub.registry()["escalations"].as_object().unwrap().is_empty());
    // A gate decided from the page, as the lead.
    hub.as_(
        "alice",
        &["gate", "add", "prod", "--check", "green", "--owner", "lead"],
    )
    .ok();
    hub.as_("alice", &["gate", "tick", "prod", "1"]).ok();
    let (code, _, body) = rw.request(
        "POST",
        &format!("/api/decide?token={token}"),
        None,
        Some(r#"{"name":"prod","go":true,"note":"-0 risk: looks good"}"#),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        hub.registry()["plan"]["gates"]["prod"]["decision"]["by"],
        "dashboard"
    );
    // A refusal carries the CLI's sentence.
    let (code, _, body) = rw.request(
        "POST",
        &format!("/api/send?token={token}"),
        None,
        Some(r#"{"to":"nobody","subject":"x"}"#),
    );
    assert_eq!(code, 422);
    assert!(body.contains("no session \\\"nobody\\\""), "{body}");
    rw.interrupt();
}

#[test]
fn binding_beyond_loopback_is_refused_or_warned() {
    let hub = team();
    let bad = hub
        .run(&["dashboard", "--port", "0.0.0.0:80"])
        .code(2)
        .one_error_line();
    assert!(bad.stderr.contains("listens on 127.0.0.1 only"), "{}", bad.stderr);
    let bad = hub
        .run(&["dashboard", "--listen", "0.0.0.0:0", "--write"])
        .code(2)
        .one_error_line();
    assert!(bad.stderr.contains("--write on 0.0.0.0:0"), "{}", bad.stderr);
    hub.run(&["dashboard", "--listen", "nonsense"])
        .code(2)
        .one_error_line();
    // Elsewhere than loopback with --listen: served, with a warning.
    let mut c = hub.cmd(&["dashboard", "--listen", "0.0.0.0:0"]);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("http://0.0.0.0:"), "{line}");
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: listening on 0.0.0.0"), "{err}");
}

#[test]
fn open_passes_the_token_through_a_private_page_never_a_command_line() {
    use std::os::unix::fs::PermissionsExt;
    let hub = team();
    // A stand-in browser opener that records the command line it was given.
    let bin = hub.tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let seen = hub.tmp.path().join("opener-argv");
    let opener = bin.join("xdg-open");
    std::fs::write(
        &opener,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}.part' && mv '{0}.part' '{0}'\n",
            seen.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    let tmpdir = hub.tmp.path().join("tmp");
    std::fs::create_dir_all(&tmpdir).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let rw = Server::start_with(
        &hub,
        &["--write", "--open"],
        &[("PATH", path), ("TMPDIR", tmpdir.display().to_string())],
    );
    let token = rw.token.clone().expect("the token, on the terminal that asked");
    let mut argv = String::new();
    for _ in 0..500 {
        if let Ok(t) = std::fs::read_to_string(&seen) {
            argv = t;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!argv.is_empty(), "the opener ran");
    assert!(!argv.contains(&token), "the token is on a command line: {argv}");
    let page = std::path::PathBuf::from(argv.trim());
    assert!(page.starts_with(&tmpdir), "{argv}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains(&format!("#token={token}")), "{html}");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&page), 0o600);
    assert_eq!(mode(page.parent().unwrap()), 0o700);
    rw.interrupt();
    assert!(
        !page.parent().unwrap().exists(),
        "removed when the dashboard stops"
    );
}
