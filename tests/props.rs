//! Property: any string given as a name, role, subject, body or heartbeat
//! field either round-trips exactly or is refused cleanly (exit 2, one
//! line); coord never panics and the text never breaks CURRENT_STATE.md.

use crate::support::*;
use proptest::prelude::*;

/// Hostile pieces mixed with arbitrary Unicode (no NUL: no OS passes it).
fn text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "|",
        "\\|",
        "`",
        "```",
        "<script>",
        "</td>",
        "**",
        "_",
        "[x](y)",
        "![i](j)",
        "&amp;",
        "#",
        "~~",
        "\n",
        "\r\n",
        "\t",
        "\u{1b}[31m",
        "\u{7}",
        "\u{85}",
        "\u{202e}",
        " ",
        "  ",
        "é",
        "日本",
        "-",
        "--",
        "%",
        "\"",
        "'",
        "broadcast",
        "@role",
        "a",
        "Z",
        "0",
        "m-1",
        "{",
        "}",
        "\\",
    ]);
    prop_oneof![
        prop::collection::vec(pieces, 0..6).prop_map(|v| v.concat()),
        "\\PC{0,40}",
        "[a-z0-9._-]{1,70}",
        ".{0,210}",
    ]
    .prop_map(|s: String| s.replace('\0', ""))
}

fn check(out: &Out, what: &str, value: &str) -> bool {
    assert!(
        matches!(out.code, 0 | 2 | 3),
        "{what} {value:?}: exit {} {}",
        out.code,
        out.stderr
    );
    if out.code != 0 {
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{what} {value:?}: {:?}", out.stderr);
        assert!(lines[0].starts_with("error: "));
    }
    out.code == 0
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(40),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_text_round_trips_or_is_refused(name in text(), role in text(), action in text(), claim in text(), subject in text(), body in text()) {
        let hub = Hub::new();
        hub.start("bob");
        let out = hub.run(&["start", &format!("--name={name}")]);
        if check(&out, "name", &name) {
            prop_assert!(hub.registry()["sessions"][name.as_str()].is_object());
        }
        let out = hub.run(&["start", "--name", "eve", &format!("--role={role}")]);
        if check(&out, "role", &role) {
            let reg = hub.registry();
            prop_assert_eq!(reg["sessions"]["eve"]["role"].as_str(), Some(role.as_str()));
        } else {
            hub.start("eve");
        }
        let out = hub.as_("eve", &["heartbeat", "--", &action, &action]);
        if check(&out, "action", &action) {
            let s = &hub.registry()["sessions"]["eve"];
            prop_assert_eq!(s["action"].as_str(), Some(action.as_str()));
            prop_assert_eq!(s["target"].as_str(), Some(action.as_str()));
        }
        let out = hub.as_("eve", &["claim", &format!("--note={claim}"), "--", "task", &claim]);
        if check(&out, "claim", &claim) {
            // Claim names are kept in NFC.
            let nfc: String = unicode_normalization::UnicodeNormalization::nfc(claim.as_str()).collect();
            let key = format!("task:{nfc}");
            let reg = hub.registry();
            prop_assert_eq!(reg["claims"][key.as_str()]["name"].as_str(), Some(nfc.as_str()));
        }
        let out = hub.as_("eve", &["send", "--", "bob", &subject, &body]);
        if check(&out, "subject", &subject) {
            let v = hub.as_("bob", &["--json", "inbox", "--peek"]).ok().json();
            prop_assert_eq!(v["messages"][0]["subject"].as_str(), Some(subject.as_str()));
            // `-` means "read the body from stdin", which is empty here.
            let want = if body == "-" { "" } else { body.as_str() };
            prop_assert_eq!(v["messages"][0]["body"].as_str().unwrap_or(""), want);
            let text = hub.as_("bob", &["inbox"]).ok().stdout;
            prop_assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'), "raw control characters reach the terminal");
        }
        let page = hub.run(&["brief", "--stdout"]).ok().stdout;
        prop_assert!(tables_hold(&page).is_ok(), "{:?}", tables_hold(&page));
        prop_assert!(!page.chars().any(|c| c.is_control() && c != '\n'), "control characters in the page");
    }
}

/// A stand-in `coord` on PATH that writes the arguments it got, NUL-separated.
struct FakeCoord {
    dir: tempfile::TempDir,
}

impl FakeCoord {
    fn new() -> FakeCoord {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("coord");
        std::fs::write(
            &bin,
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > \"$ARGS_OUT\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        FakeCoord { dir }
    }

    /// Run `line` as a shell would, and return the arguments coord got.
    fn run(&self, line: &str) -> Vec<String> {
        let out = self.dir.path().join("args");
        let _ = std::fs::remove_file(&out);
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(line)
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", self.dir.path().display()))
            .env("ARGS_OUT", &out)
            .current_dir(self.dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "{line}");
        let raw = std::fs::read(&out).unwrap_or_default();
        raw.split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(40),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Every command line coord prints quotes its arguments: run by `sh -c`,
    /// it passes exactly those arguments to coord, whatever the name.
    #[test]
    fn printed_commands_pass_exactly_their_arguments(claim in text()) {
        let mut hub = Hub::new();
        hub.start("alice");
        hub.start("bob");
        let out = hub.as_("alice", &["claim", "--for", "30m", "--", "task", &claim]);
        prop_assume!(out.code == 0);
        let name = hub.registry()["claims"].as_object().unwrap().values().next().unwrap()["name"]
            .as_str()
            .unwrap()
            .to_string();
        let fake = FakeCoord::new();
        // The conflict hint: `coord send alice 'may I take task:NAME?'`.
        let refused = hub.as_("bob", &["--json", "claim", "--", "task", &claim]).code(3);
        let hint = refused.json()["error"]["hint"].as_str().unwrap().to_string();
        let ask = vec!["send".to_string(), "alice".to_string(), format!("may I take task:{name}?")];
        let line = coord::core::text::command_line(&ask.iter().map(String::as_str).collect::<Vec<_>>());
        prop_assert!(hint.contains(&line), "{} lacks {}", hint, line);
        prop_assert_eq!(fake.run(&line), ask);
        // The lapse message alice reads: `coord claim task NAME`.
        hub.at("2026-03-02T10:00:00Z");
        hub.as_("bob", &["heartbeat"]).ok();
        let inbox = hub.as_("alice", &["--json", "inbox"]).ok().json();
        let body = inbox["messages"][0]["body"].as_str().unwrap().to_string();
        let again = vec!["claim".to_string(), "task".to_string(), name.clone()];
        let line = coord::core::text::command_line(&again.iter().map(String::as_str).collect::<Vec<_>>());
        prop_assert!(body.contains(&line), "{} lacks {}", body, line);
        prop_assert_eq!(fake.run(&line), again);
    }
}
