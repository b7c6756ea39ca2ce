// coord dashboard: renders the snapshot the server pushes over server-sent
// events. Every text from the hub goes in through textContent, never as HTML.
"use strict";

// The token comes in the URL's fragment (from the page `--open` writes) or
// its query (the URL printed); it is taken off the address bar at once.
const token =
  new URLSearchParams(location.hash.slice(1)).get("token") ||
  new URLSearchParams(location.search).get("token") ||
  "";
if (location.hash || location.search) history.replaceState(null, "", location.pathname);
let snap = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    // Through the CSSOM: the page's policy forbids style attributes.
    else if (k === "style") {
      for (const decl of v.split(";")) {
        const at = decl.indexOf(":");
        if (at > 0) e.style.setProperty(decl.slice(0, at).trim(), decl.slice(at + 1).trim());
      }
    }
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function clear(id) {
  const e = document.getElementById(id);
  e.replaceChildren();
  return e;
}

// Seconds between the server's clock and ours, so that "ago" and
// countdowns tick right even when the hub's clock is set by COORD_NOW.
let skew = 0;

function now() {
  return Date.now() / 1000 + skew;
}

function secs(ts) {
  return Date.parse(ts) / 1000;
}

function span(s) {
  s = Math.max(0, Math.round(s));
  if (s < 60) return s + "s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + "m";
  const h = Math.floor(m / 60);
  if (h < 48) return h + "h" + (m % 60 ? (m % 60) + "m" : "");
  return Math.floor(h / 24) + "d";
}

function ago(ts) {
  return el("span", { class: "ago", "data-ts": ts }, span(now() - secs(ts)) + " ago");
}

function left(ts) {
  return el("span", { class: "left", "data-until": ts }, span(secs(ts) - now()) + " left");
}

function tick() {
  document.querySelectorAll(".ago").forEach((e) => {
    e.textContent = span(now() - secs(e.dataset.ts)) + " ago";
  });
  document.querySelectorAll(".left").forEach((e) => {
    const s = secs(e.dataset.until) - now();
    e.textContent = s > 0 ? span(s) + " left" : "expired";
  });
  if (snap) {
    document.getElementById("clock").textContent = new Date(now() * 1000).toISOString().slice(11, 19) + " UTC";
    placeNow();
  }
}

function cmd(text) {
  return el("code", {}, text);
}

// Quote a word for a shell the way coord does: plain words bare, the rest
// in single quotes.
function q(word) {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : "'" + word.replace(/'/g, "'\\''") + "'";
}

async function post(path, body) {
  const out = document.getElementById("write-result");
  try {
    const r = await fetch(path + "?token=" + encodeURIComponent(token), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const j = await r.json();
    out.textContent = j.text || (r.ok ? "done" : "refused");
  } catch (e) {
    out.textContent = "could not reach coord: " + e;
  }
}

function renderAlerts(s) {
  const box = clear("alerts");
  for (const e of s.emergencies) {
    box.append(
      el("div", { class: "alert emergency" },
        el("span", { class: "kind" }, "EMERGENCY"),
        e.subject, " from ", e.from, " ",
        e.waiting.length ? el("span", { class: "muted" }, "(not acknowledged by " + e.waiting.join(", ") + ") ") : "",
        cmd("coord ack " + q(e.id)), " ",
        e.resolvable ? cmd("coord ack " + q(e.id) + " --resolve") : el("span", { class: "muted" }, "resolved by " + e.resolved_by + " "),
        s.write ? el("button", { class: "small", onclick: () => post("/api/ack", { id: e.id, resolve: false }) }, "Acknowledge") : "",
        s.write && e.resolvable ? el("button", { class: "small", onclick: () => post("/api/ack", { id: e.id, resolve: true }) }, "Resolve") : ""));
  }
  for (const a of s.status.alerts) {
    if (a.kind === "emergency") continue;
    box.append(el("div", { class: "alert" }, el("span", { class: "kind" }, a.kind.replace(/_/g, " ")), a.text));
  }
}

function renderCards(s) {
  const box = clear("cards");
  const label = { emergency: "emergency", stale_holding: "stale, holding claims", silent: "silent", waiting: "waiting", active: "active", done: "done" };
  for (const c of s.cards) {
    const doing = [c.action, c.target].filter(Boolean).join(" ");
    box.append(
      el("div", { class: "card " + c.attention, "data-session": c.id },
        el("div", { class: "top" },
          el("span", { class: "name" }, c.id),
          el("span", { class: "badge " + c.attention }, label[c.attention] || c.attention)),
        el("div", { class: "muted" }, [c.role, c.machine].filter(Boolean).join(" @ ") || "no role"),
        doing ? el("div", {}, doing, c.phase ? el("span", { class: "muted" }, " (" + c.phase + ")") : "") : el("div", { class: "muted" }, "nothing said"),
        c.progress !== undefined && c.progress !== null
          ? el("div", { class: "progress", title: c.progress + "%" }, el("span", { style: "width:" + Math.min(100, c.progress) + "%" }))
          : "",
        el("div", { class: "muted" }, "seen ", ago(c.last_seen), c.claims.length ? " - holds " + c.claims.join(", ") : "")));
  }
  if (!s.cards.length) box.append(el("p", { class: "muted" }, "No sessions yet: coord start --name NAME"));
}

function renderClaims(s) {
  const box = clear("claims");
  const held = s.status.claims.filter((c) => c.holder);
  if (!held.length) {
    box.append(el("p", { class: "muted" }, "No claims."));
    return;
  }
  const rows = held.map((c) =>
    el("tr", {},
      el("td", {}, el("code", {}, c.key)),
      el("td", {}, c.holder),
      el("td", {}, c.expires ? left(c.expires) : c.live ? "while live" : "lapsed"),
      el("td", { class: "muted" }, c.token ? "token " + c.token : ""),
      el("td", { class: "muted" }, c.note || "")));
  box.append(el("div", { class: "scroll" }, el("table", {}, el("tr", {}, ["Claim", "Holder", "Time left", "", "Note"].map((h) => el("th", {}, h))), rows)));
}

function bar(done, total) {
  const pct = total ? Math.round((done * 100) / total) : 0;
  return el("div", { class: "progress", title: pct + "%" }, el("span", { style: "width:" + pct + "%" }));
}

function renderPlan(s) {
  const box = clear("plan");
  const p = s.status.plan;
  if (!p) {
    box.append(el("p", { class: "muted" }, "No plan: coord task add ID --title TITLE"));
    return;
  }
  box.append(el("p", {}, p.done + " of " + p.total + " tasks done."));
  for (const m of p.milestones) {
    box.append(el("div", { class: "gate" },
      el("strong", {}, m.id + " " + m.title), m.due ? el("span", { class: "muted" }, " due " + m.due) : "",
      el("span", { class: "muted" }, "  " + m.done + "/" + m.total),
      bar(m.done, m.total),
      m.blocked.map(([t, by]) => el("div", { class: "muted" }, t + " waits on " + by.join(", ")))));
  }
  box.append(el("p", {}, "Ready to take: ",
    p.ready.length ? p.ready.map((t, i) => [i ? ", " : "", el("code", {}, t.id), t.role ? " [" + t.role + "]" : ""]) : el("span", { class: "muted" }, "none")));
  for (const g of s.gates) {
    box.append(el("div", { class: "gate" },
      el("strong", {}, "gate " + g.name + " "), el("span", { class: "state-" + g.state }, g.state.toUpperCase()),
      g.owner ? el("span", { class: "muted" }, " (decided by " + g.owner + ")") : "",
      g.checks.map((c) => el("div", { class: "check" }, el("span", { class: "box" + (c.done ? " done" : "") }), c.text, c.by ? el("span", { class: "muted" }, " (" + c.by + ")") : "")),
      g.decision ? el("div", { class: "muted" }, "decided by " + g.decision.by + ": " + g.decision.note) : "",
      s.write ? el("div", {},
        el("button", { class: "small", onclick: () => decide(g.name, true) }, "GO"),
        el("button", { class: "small", onclick: () => decide(g.name, false) }, "NO-GO")) : ""));
  }
  for (const h of p.handoffs || []) {
    box.append(el("div", { class: "muted" }, "handoff " + h.id + ": " + h.key + " from " + h.from + " to " + h.to + ", ", left(h.expires)));
  }
}

function decide(name, go) {
  const note = prompt((go ? "GO" : "NO-GO") + " for " + name + ": why?");
  if (note) post("/api/decide", { name, go, note });
}

function minutes(hhmm) {
  const [h, m] = hhmm.split(":").map(Number);
  return h * 60 + m;
}

function renderReservations(s) {
  const box = clear("reservations");
  box.append(el("p", { class: "muted" }, "Times in " + s.zone + "."));
  if (!s.reservations.length) {
    box.append(el("p", { class: "muted" }, "None today."));
    return;
  }
  const by = {};
  for (const r of s.reservations) (by[r.resource] = by[r.resource] || []).push(r);
  for (const [res, list] of Object.entries(by)) {
    const line = el("div", { class: "timeline" });
    for (const r of list) {
      const a = minutes(r.from), b = minutes(r.to);
      line.append(el("div", { class: "slot" + (r.active ? " on" : ""), style: "left:" + (a / 14.4) + "%;width:" + ((b - a) / 14.4) + "%", title: r.from + "-" + r.to + " " + r.holder }, r.from + " " + r.holder));
    }
    for (const h of [0, 6, 12, 18]) line.append(el("span", { class: "hours", style: "left:" + (h * 60) / 14.4 + "%" }, String(h).padStart(2, "0") + ":00"));
    line.append(el("div", { class: "now" }));
    box.append(el("div", { class: "resource" }, res), line);
  }
  placeNow();
}

// The now marker, in the hub's zone (its offset from the server's "now").
function placeNow() {
  if (!snap) return;
  const offset = snap.zone === "UTC" ? 0 : (snap.zone.startsWith("-") ? -1 : 1) * minutes(snap.zone.slice(1));
  const d = new Date(now() * 1000);
  const m = (d.getUTCHours() * 60 + d.getUTCMinutes() + offset + 1440) % 1440;
  document.querySelectorAll(".timeline .now").forEach((e) => (e.style.left = m / 14.4 + "%"));
}

function renderLogs(s) {
  const ms = clear("messages");
  for (const m of s.messages) {
    ms.append(el("li", {}, el("span", { class: "muted" }, m.ts.slice(11, 16) + " "), m.from + " -> " + m.to + " ",
      m.level !== "info" ? el("span", { class: "badge" + (m.level === "emergency" ? " emergency" : "") }, m.level) : "", " ", m.subject));
  }
  if (!s.messages.length) ms.append(el("li", { class: "muted" }, "None."));
  const ev = clear("events");
  for (const e of s.events) {
    ev.append(el("li", {}, el("span", { class: "muted" }, e.ts.slice(11, 16) + " "), e.text));
  }
  if (!s.events.length) ev.append(el("li", { class: "muted" }, "None."));
}

function render() {
  const s = snap;
  skew = secs(s.status.now) - Date.now() / 1000;
  document.getElementById("hub").textContent = s.hub;
  document.getElementById("write").hidden = !s.write;
  renderAlerts(s);
  renderCards(s);
  renderClaims(s);
  renderPlan(s);
  renderReservations(s);
  renderLogs(s);
  document.body.dataset.version = String(s.version);
  tick();
}

function connect() {
  const conn = document.getElementById("conn");
  const text = document.getElementById("conn-text");
  const es = new EventSource("/events");
  es.onopen = () => { conn.className = "conn live"; text.textContent = "live"; };
  es.onmessage = (e) => { snap = JSON.parse(e.data); render(); };
  // EventSource reconnects by itself; the server sends the whole state
  // first on every connection, so a reconnected page catches up.
  es.onerror = () => { conn.className = "conn lost"; text.textContent = "reconnecting"; };
}

document.getElementById("send-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  post("/api/send", { to: f.get("to"), subject: f.get("subject"), body: f.get("body") || null, level: f.get("level") });
});

setInterval(tick, 1000);
connect();
