//! The committed sample hub (`docs/sample-hub/`) is exactly what the scripted
//! day in examples/team.rs leaves behind: rerunning it reproduces every
//! shared file byte for byte.

use crate::support::snapshot;
use std::path::PathBuf;

fn example_binary() -> PathBuf {
    // target/<profile>/deps/integration-<hash> -> target/<profile>/examples/team
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(|d| d.parent()).unwrap();
    let bin = profile
        .join("examples")
        .join(format!("team{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: cargo test builds examples; run `cargo test`",
        bin.display()
    );
    bin
}

#[test]
fn rerunning_the_example_reproduces_the_sample_hub() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("hub");
    let run = std::process::Command::new(example_binary())
        .arg("--out")
        .arg(&out)
        .env_remove("COORD_HUB")
        .env_remove("COORD_SESSION")
        .stderr(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(run.status.success());
    // It ends by naming a briefing that is there to read.
    let printed = String::from_utf8_lossy(&run.stdout);
    let cat = printed
        .lines()
        .find_map(|l| l.strip_prefix("read the briefing: cat "))
        .expect("the last lines say how to read the briefing");
    assert!(std::path::Path::new(cat.trim_matches('\'')).is_file(), "{cat}");
    let committed = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join("sample-hub");
    let mut fresh = snapshot(&out);
    let mut kept = snapshot(&committed);
    // Machine-local files are ignored by the hub's .gitignore and never committed.
    for map in [&mut fresh, &mut kept] {
        for local in [".bindings.json", ".digest", ".pulse.jsonl", ".logscan.json"] {
            map.remove(local);
        }
    }
    assert_eq!(
        fresh.keys().collect::<Vec<_>>(),
        kept.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (name, bytes) in &fresh {
        assert!(
            kept[name] == *bytes,
            "{name} differs from docs/sample-hub/{name}; regenerate with: rm -rf docs/sample-hub && cargo run --release --example team -- --out docs/sample-hub"
        );
    }
    assert!(kept.contains_key("CURRENT_STATE.md"));
}
