//! `coord dashboard`: a live page for the human lead, served on 127.0.0.1.
//! One page (HTML, CSS and script built into the binary), JSON endpoints of
//! the same shapes as `--json`, and a server-sent event stream that pushes a
//! fresh snapshot within a moment of any change to the hub's files (watched
//! with `notify`, no polling in the page). Read-only unless `--write`, whose
//! routes need the per-run token printed in the URL. axum on tokio, which
//! only this command and `coord mcp` start.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use tokio::sync::watch;

use crate::app::{Ctx, Location};
use crate::cli::ui::Ui;
use crate::core::error::{failure, usage, Result};

const PAGE: &str = include_str!("../dashboard/index.html");
const SCRIPT: &str = include_str!("../dashboard/app.js");
const STYLE: &str = include_str!("../dashboard/app.css");

/// Serve a live dashboard of the hub on 127.0.0.1
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The port on 127.0.0.1 (0: any free port)
    #[arg(long, default_value = "7420", value_name = "N")]
    pub port: String,
    /// Listen on this address instead (ADDR:PORT); anything but loopback is
    /// reachable by others and is warned about, and refused with --write
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Open the page in the default browser
    #[arg(long)]
    pub open: bool,
    /// Let the page send messages, acknowledge and resolve emergencies and
    /// decide gates, as the session given by --session (default: a session
    /// named dashboard, role lead)
    #[arg(long)]
    pub write: bool,
}

/// Where to listen: 127.0.0.1:PORT, or `--listen` (loopback, or another
/// address with a warning; never with `--write`).
fn address(args: &Args, ui: &Ui) -> Result<SocketAddr> {
    let Some(listen) = &args.listen else {
        let port: u16 = args.port.parse().map_err(|_| {
            usage(format!(
                "--port {:?} is not a port number; the dashboard listens on 127.0.0.1 only (another address needs --listen ADDR:PORT)",
                args.port
            ))
        })?;
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    };
    let addr: SocketAddr = listen.parse().map_err(|_| {
        usage(format!(
            "--listen {listen:?} is not an address; write it as 127.0.0.1:7420"
        ))
    })?;
    if !addr.ip().is_loopback() {
        if args.write {
            return Err(usage(format!(
                "--write on {addr} would let anyone who can reach it write to the hub; use --write only on 127.0.0.1"
            )));
        }
        ui.alert(&format!(
            "warning: listening on {addr}: anyone who can reach it can read the hub (sessions, claims, messages)"
        ));
    }
    Ok(addr)
}

struct Shared {
    hub: PathBuf,
    /// The acting session of write routes.
    session: Option<String>,
    token: String,
    /// Host headers accepted (a page from elsewhere that renames itself to
    /// 127.0.0.1 through DNS cannot read the hub); empty: any.
    hosts: Vec<String>,
    snapshot: watch::Receiver<Arc<String>>,
    shutdown: watch::Receiver<bool>,
}

type App = Arc<Shared>;

/// A token nobody else can guess: 128 bits from the system's randomness.
fn token() -> Result<String> {
    let mut bytes = [0u8; 16];
    crate::core::ids::os_random_bytes(&mut bytes)
        .map_err(|e| failure(format!("cannot read /dev/urandom for the write token: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Run coord in-process against the hub, as `session` when given.
fn coord(hub: &Path, session: Option<&str>, args: &[&str]) -> (i32, crate::cli::ui::Captured) {
    crate::cli::run_as(Some(hub), session, args)
}

/// The page's snapshot as JSON: the state, its version, and what the page
/// may do.
fn snapshot(hub: &Path, version: u64, write: bool) -> Result<String> {
    let location = Location {
        flag: Some(hub.to_path_buf()),
        env: None,
        cwd: hub.to_path_buf(),
    };
    let ctx = Ctx::open(&location, crate::cli::env::options(None, false)?)?;
    let snap = crate::app::dashboard::snapshot(&ctx)?;
    #[derive(serde::Serialize)]
    struct Page<'a> {
        version: u64,
        hub: String,
        write: bool,
        #[serde(flatten)]
        snap: &'a crate::app::dashboard::Snapshot,
    }
    serde_json::to_string(&Page {
        version,
        hub: hub.display().to_string(),
        write,
        snap: &snap,
    })
    .map_err(|e| failure(format!("cannot write the snapshot: {e}")))
}

/// The hub's own files: a change to any of them is a change to show. Lock
/// and temporary files are left out (reading takes the lock, which would
/// otherwise wake the watcher for ever).
fn matters(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    matches!(
        name,
        "REGISTRY.json" | "MESSAGES.jsonl" | "EVENTS.jsonl" | "coord.toml" | ".pulse.jsonl"
    )
}

pub fn run(ui: &Ui, hub_flag: Option<PathBuf>, session: Option<String>, args: &Args) -> Result<()> {
    let location = crate::cli::env::location(hub_flag)?;
    let hub = location.find()?;
    let addr = address(args, ui)?;
    // The lead's own session, for the write routes.
    let session = if args.write {
        let name = session.unwrap_or_else(|| "dashboard".to_string());
        let (code, out) = coord(
            &hub,
            None,
            &["start", "--name", &name, "--role", "lead", "--resume"],
        );
        if code != 0 {
            return Err(failure(format!(
                "cannot start the dashboard's session {name}: {}",
                out.stderr.trim()
            )));
        }
        Some(name)
    } else {
        None
    };
    let token = token()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| failure(format!("cannot start the dashboard: {e}")))?;
    runtime.block_on(serve(ui, hub, session, token, addr, args))
}

async fn serve(
    ui: &Ui,
    hub: PathBuf,
    session: Option<String>,
    token: String,
    addr: SocketAddr,
    args: &Args,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
        usage(format!("cannot listen on {addr}: {e}"))
            .hint("pick another port with --port N (0: any free port)")
    })?;
    let bound = listener
        .local_addr()
        .map_err(|e| failure(format!("cannot read the bound address: {e}")))?;
    let write = args.write;
    let first = tokio::task::spawn_blocking({
        let hub = hub.clone();
        move || snapshot(&hub, 0, write)
    })
    .await
    .map_err(|e| failure(format!("the dashboard failed: {e}")))??;
    let (snap_tx, snap_rx) = watch::channel(Arc::new(first));
    let (stop_tx, stop_rx) = watch::channel(false);

    // Watch the hub folder; each relevant change wakes the refresher.
    let (wake_tx, mut wake_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            let change = matches!(
                ev.kind,
                notify::EventKind::Create(_) | notify::EventKind::Modify(_) | notify::EventKind::Remove(_)
            );
            if change && ev.paths.iter().any(|p| matters(p)) {
                let _ = wake_tx.send(());
            }
        }
    })
    .map_err(|e| failure(format!("cannot watch the hub: {e}")))?;
    notify::Watcher::watch(&mut watcher, &hub, notify::RecursiveMode::NonRecursive)
        .map_err(|e| failure(format!("cannot watch {}: {e}", hub.display())))?;

    // The refresher: a new snapshot after each burst of changes, and every
    // 15 s (sessions go stale with no file changing). The lead's session
    // says it is here every minute.
    let refresher = {
        let hub = hub.clone();
        let session = session.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let mut version = 0u64;
            let mut every = tokio::time::interval(Duration::from_secs(15));
            let mut beats = 0u32;
            loop {
                tokio::select! {
                    Some(()) = wake_rx.recv() => {
                        // Let a burst of writes settle, then take them all.
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        while wake_rx.try_recv().is_ok() {}
                    }
                    _ = every.tick() => {
                        beats += 1;
                        if let (Some(s), true) = (&session, beats.is_multiple_of(4)) {
                            let (hub, s) = (hub.clone(), s.clone());
                            let _ = tokio::task::spawn_blocking(move || coord(&hub, Some(&s), &["heartbeat", "--action", "watching", "--target", "dashboard"])).await;
                        }
                    }
                    _ = stop.changed() => return,
                }
                version += 1;
                let hub = hub.clone();
                let v = version;
                if let Ok(Ok(json)) = tokio::task::spawn_blocking(move || snapshot(&hub, v, write)).await {
                    let _ = snap_tx.send(Arc::new(json));
                }
            }
        })
    };

    let hosts = if bound.ip().is_loopback() {
        let p = bound.port();
        vec![
            format!("127.0.0.1:{p}"),
            format!("localhost:{p}"),
            format!("[::1]:{p}"),
        ]
    } else {
        Vec::new()
    };
    let shared = Arc::new(Shared {
        hub,
        session,
        token: token.clone(),
        hosts,
        snapshot: snap_rx,
        shutdown: stop_rx,
    });
    let app = Router::new()
        .route("/", get(index))
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/app.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        // No icon: an empty answer, not a 404 in the browser's console.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/api/state", get(api_state))
        .route("/api/status", get(api_status))
        .route("/api/brief", get(api_brief))
        .route("/events", get(events))
        .route("/api/send", post(api_send))
        .route("/api/ack", post(api_ack))
        .route("/api/decide", post(api_decide))
        .layer(axum::middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared);

    let url = if write {
        format!("http://{bound}/?token={token}")
    } else {
        format!("http://{bound}/")
    };
    // Ctrl-C is caught from before the URL is shown: a client that stops
    // the server as soon as it has the URL still gets a clean end.
    let interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    ui.out(&format!("{url}\n"))?;
    ui.status("serving the dashboard; stop it with Ctrl-C");
    // The browser is opened on a page of the user's own (a private folder,
    // a file only they can read) that passes the token on: no process's
    // command line ever holds it.
    let mut launcher = None;
    if args.open {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        let target = if write {
            match launcher_page(&format!("http://{bound}/#token={token}")) {
                Ok(dir) => {
                    let page = dir.join("open.html");
                    launcher = Some(dir);
                    page.display().to_string()
                }
                Err(e) => {
                    ui.alert(&format!("warning: {e}; open the URL above yourself"));
                    String::new()
                }
            }
        } else {
            url.clone()
        };
        if !target.is_empty()
            && std::process::Command::new(opener)
                .arg(&target)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .is_err()
        {
            ui.alert(&format!(
                "warning: could not run {opener}; open the URL above yourself"
            ));
        }
    }
    let shutdown = async move {
        match interrupt {
            Some(mut i) => {
                i.recv().await;
            }
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
        // Ends the refresher and every open event stream, so that the
        // server can finish.
        let _ = stop_tx.send(true);
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| failure(format!("the dashboard stopped: {e}")))?;
    let _ = refresher.await;
    drop(watcher);
    if let Some(dir) = launcher {
        let _ = std::fs::remove_dir_all(dir);
    }
    ui.status("dashboard stopped");
    Ok(())
}

/// A private folder (0700, made fresh) holding `open.html` (0600, created
/// exclusively, never through a link) that sends the browser to `url`.
/// Returns the folder, removed when the dashboard stops.
fn launcher_page(url: &str) -> std::result::Result<PathBuf, String> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let mut bytes = [0u8; 8];
    crate::core::ids::os_random_bytes(&mut bytes).map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
    let tag: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let dir = std::env::temp_dir().join(format!("coord-dashboard-{tag}"));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let page = dir.join("open.html");
    let html = format!(
        "<!doctype html><meta charset=\"utf-8\"><title>coord dashboard</title>\
         <meta http-equiv=\"refresh\" content=\"0;url={url}\"><a href=\"{url}\">open the dashboard</a>\n"
    );
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&page)
        .and_then(|mut f| f.write_all(html.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", page.display()))?;
    Ok(dir)
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "no-store")],
        body,
    )
        .into_response()
}

/// Every response: the Host must be this server's (loopback), and nothing
/// may load from elsewhere.
async fn guard(State(s): State<App>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !s.hosts.is_empty() && !s.hosts.iter().any(|h| h == host) {
        return (
            StatusCode::FORBIDDEN,
            "this dashboard answers only as 127.0.0.1\n",
        )
            .into_response();
    }
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res
}

async fn index() -> Response {
    asset("text/html; charset=utf-8", PAGE)
}

fn json_body(code: StatusCode, body: String) -> Response {
    (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The page's state as of this request (the stream pushes the same).
async fn api_state(State(s): State<App>) -> Response {
    let hub = s.hub.clone();
    let write = s.session.is_some();
    match tokio::task::spawn_blocking(move || snapshot(&hub, 0, write)).await {
        Ok(Ok(body)) => json_body(StatusCode::OK, body),
        Ok(Err(e)) => json_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({"error": e.message}).to_string(),
        ),
        Err(e) => json_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({"error": e.to_string()}).to_string(),
        ),
    }
}

/// A read-only coord command's `--json` output, as its HTTP answer.
async fn cli_json(s: &Shared, args: &'static [&'static str]) -> Response {
    let hub = s.hub.clone();
    match tokio::task::spawn_blocking(move || coord(&hub, None, args)).await {
        Ok((0, out)) => json_body(StatusCode::OK, out.stdout),
        Ok((_, out)) => json_body(StatusCode::INTERNAL_SERVER_ERROR, out.stdout),
        Err(e) => json_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({"error": e.to_string()}).to_string(),
        ),
    }
}

async fn api_status(State(s): State<App>) -> Response {
    cli_json(&s, &["--json", "status"]).await
}

async fn api_brief(State(s): State<App>) -> Response {
    cli_json(&s, &["--json", "brief", "--stdout"]).await
}

/// The current snapshot at once (a reconnecting page catches up), then each
/// new one.
async fn events(
    State(s): State<App>,
) -> Sse<impl futures_util::Stream<Item = std::result::Result<Event, Infallible>>> {
    let rx = s.snapshot.clone();
    let stop = s.shutdown.clone();
    let stream = futures_util::stream::unfold((rx, stop, true), |(mut rx, mut stop, first)| async move {
        if !first {
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { return None },
                _ = stop.changed() => return None,
            }
        }
        if *stop.borrow() {
            return None;
        }
        let data = rx.borrow_and_update().as_str().to_string();
        Some((Ok(Event::default().data(data)), (rx, stop, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// Equal in constant time: a wrong token takes as long to refuse as any.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Run a write as the dashboard's session; the answer is the command's
/// text and JSON.
async fn write(s: &Shared, q: &TokenQuery, headers: &HeaderMap, args: Vec<String>) -> Response {
    let given = q
        .token
        .clone()
        .or_else(|| {
            headers
                .get("x-coord-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_default();
    let Some(session) = s.session.clone() else {
        return json_body(
            StatusCode::FORBIDDEN,
            serde_json::json!({"ok": false, "text": "this dashboard is read-only; start it with --write"})
                .to_string(),
        );
    };
    if !same(&given, &s.token) {
        return json_body(
            StatusCode::FORBIDDEN,
            serde_json::json!({"ok": false, "text": "missing or wrong token: use the URL coord dashboard printed"}).to_string(),
        );
    }
    let hub = s.hub.clone();
    let run = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        coord(&hub, Some(&session), &args)
    })
    .await;
    match run {
        Ok((code, out)) => {
            let text = out.text();
            let status = if code == 0 {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            json_body(
                status,
                serde_json::json!({"ok": code == 0, "exit_code": code, "text": text, "result": out.structured}).to_string(),
            )
        }
        Err(e) => json_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({"ok": false, "text": e.to_string()}).to_string(),
        ),
    }
}

#[derive(Deserialize)]
struct SendBody {
    to: String,
    subject: String,
    body: Option<String>,
    level: Option<String>,
}

async fn api_send(
    State(s): State<App>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    Json(b): Json<SendBody>,
) -> Response {
    let mut args = vec!["send".to_string()];
    if let Some(l) = b.level {
        args.push(format!("--level={l}"));
    }
    args.extend(["--".to_string(), b.to, b.subject]);
    args.extend(b.body.filter(|t| !t.is_empty()));
    write(&s, &q, &headers, args).await
}

#[derive(Deserialize)]
struct AckBody {
    id: String,
    #[serde(default)]
    resolve: bool,
}

async fn api_ack(
    State(s): State<App>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    Json(b): Json<AckBody>,
) -> Response {
    let mut args = vec!["ack".to_string()];
    if b.resolve {
        args.push("--resolve".to_string());
    }
    args.extend(["--".to_string(), b.id]);
    write(&s, &q, &headers, args).await
}

#[derive(Deserialize)]
struct DecideBody {
    name: String,
    go: bool,
    note: String,
}

async fn api_decide(
    State(s): State<App>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    Json(b): Json<DecideBody>,
) -> Response {
    let verdict = if b.go { "go" } else { "no-go" };
    let args = vec![
        "gate".to_string(),
        "decide".to_string(),
        format!("--note={}", b.note),
        "--".to_string(),
        b.name,
        verdict.to_string(),
    ];
    write(&s, &q, &headers, args).await
}
