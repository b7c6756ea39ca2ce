//! The git plumbing sync drives: checks of the remote, the branch and
//! `--skip`; this clone's id; what the remote publishes and coord's local
//! copies of it; fetch and push; hub trees and commits. Every ref named
//! here is coord's own: the local hub branch, the copies under
//! `refs/coord/`, this clone's ref on the remote and the summary branch.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::super::archive::ARCHIVE_DIR;
use super::super::git::{git, run, run_with};
use super::super::{fsio, segments, EVENTS, GITATTRIBUTES, MESSAGES, REGISTRY, STATE};
use super::cache::Cache;
use crate::core::error::{failure, hub, usage, CoordError, Result};
use crate::core::text::{command_line, sanitize, shell_line};

/// The refs of one sync.
pub struct Refs {
    pub remote: String,
    /// The hub branch here.
    pub local: String,
    /// On the remote: the summary branch, every clone's refs, and this one's.
    pub summary: String,
    pub clones: String,
    pub own: String,
    /// Here: coord's copies of the remote's summary and clone refs.
    pub summary_copy: String,
    pub clones_copy: String,
}

impl Refs {
    pub fn new(remote: &str, branch: &str, id: &str) -> Refs {
        Refs {
            remote: remote.to_string(),
            local: format!("refs/heads/{branch}"),
            summary: format!("refs/heads/{branch}"),
            clones: format!("refs/coord/clones/{branch}/"),
            own: format!("refs/coord/clones/{branch}/{id}"),
            summary_copy: format!("refs/coord/remotes/{remote}/{branch}"),
            clones_copy: format!("refs/coord/clones/{remote}/{branch}/"),
        }
    }

    /// The remote's name for a local copy, or `None` for another ref.
    fn remote_name(&self, copy: &str) -> Option<String> {
        if copy == self.summary_copy {
            Some(self.summary.clone())
        } else {
            copy.strip_prefix(&self.clones_copy)
                .map(|id| format!("{}{id}", self.clones))
        }
    }
}

/// The remote must exist; a hint that adds it, quoted.
pub fn check_remote(repo: &Path, remote: &str) -> Result<()> {
    let mut c = git(repo);
    c.args(["remote", "get-url", "--", remote]);
    run(c, "find the remote").map(|_| ()).map_err(|_| {
        hub(format!(
            "this clone has no git remote {:?}",
            sanitize(remote, false)
        ))
        .hint(format!(
            "add one with `{}`, or pass --remote NAME",
            shell_line(&["git", "remote", "add", remote, "URL"])
        ))
    })
}

/// The branch must be a name git takes, and not one checked out in any
/// work tree of this clone (sync would move it under the user's feet).
pub fn check_branch(repo: &Path, branch: &str) -> Result<()> {
    let mut c = git(repo);
    c.args(["check-ref-format", &format!("refs/heads/{branch}")]);
    if branch.starts_with('-') || run(c, "check the branch name").is_err() {
        return Err(usage(format!(
            "{:?} is not a branch name git accepts; pass --branch NAME",
            sanitize(branch, false)
        )));
    }
    let mut c = git(repo);
    c.args(["worktree", "list", "--porcelain"]);
    let listing = run(c, "list the work trees").unwrap_or_default();
    let wanted = format!("branch refs/heads/{branch}");
    if listing.lines().any(|l| l == wanted) {
        return Err(hub(format!(
            "the branch {branch:?} is checked out here: it holds code, not the hub, so sync leaves it alone and nothing was changed"
        ))
        .hint("sync the hub on a branch of its own: `coord sync --branch coord` or sync.branch in this clone's coord.toml"));
    }
    Ok(())
}

/// `--skip` takes commit ids only.
pub fn check_skips(skip: &[String]) -> Result<()> {
    for s in skip {
        if s.len() < 4 || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(usage(format!(
                "--skip {:?} is not a commit id; give the one sync named",
                sanitize(s, false)
            )));
        }
    }
    Ok(())
}

/// This clone's id among the clones publishing the hub (`coord.clone` in
/// its git config: the machine's name and a random part, so two clones on
/// one machine never share a ref), and coord's merge driver registered (a
/// manual `git merge` of the hub branch needs it). One read of the config.
pub fn prepare(repo: &Path, machine: &str) -> Result<String> {
    let mut c = git(repo);
    c.args(["config", "--get-regexp", r"^(coord\.clone|merge\.coord\.driver)$"]);
    let config = run(c, "read the clone's settings").unwrap_or_default();
    let value = |key: &str| {
        config
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix(' ')))
            .map(str::to_string)
    };
    if value("merge.coord.driver").as_deref() != Some(super::super::merge::DRIVER) {
        super::super::merge::register_driver(repo)?;
    }
    if let Some(id) = value("coord.clone")
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return Ok(id);
    }
    let name: String = machine
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(32)
        .collect();
    let mut bytes = [0u8; 4];
    let random = match crate::core::ids::os_random_bytes(&mut bytes) {
        Ok(()) => bytes.iter().map(|x| format!("{x:02x}")).collect::<String>(),
        Err(_) => format!("{:08x}", std::process::id()),
    };
    let id = format!("{}-{random}", name.trim_matches('-'));
    let mut c = git(repo);
    c.args(["config", "coord.clone", &id]);
    run(c, "record the clone's id")?;
    Ok(id)
}

/// What the remote publishes now: the summary branch and every clone's
/// ref, by name (one `git ls-remote`, no objects moved).
pub fn published(repo: &Path, refs: &Refs) -> Result<BTreeMap<String, String>> {
    let mut c = git(repo);
    c.args([
        "ls-remote",
        "--refs",
        "--",
        &refs.remote,
        &refs.summary,
        &format!("{}*", refs.clones),
    ]);
    let out = run(c, "list what the remote publishes").map_err(|e| {
        e.hint(format!(
            "nothing was lost: the hub is as it was; check the network and `git remote -v`, then run `{}` again",
            command_line(&["sync", "--remote", &refs.remote])
        ))
    })?;
    Ok(out
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .filter(|(_, name)| *name == refs.summary || name.starts_with(&refs.clones))
        .map(|(oid, name)| (name.to_string(), oid.to_string()))
        .collect())
}

/// coord's local copies of what the remote published, by the remote's names.
pub fn copies(repo: &Path, refs: &Refs) -> Result<BTreeMap<String, String>> {
    let mut c = git(repo);
    c.args([
        "for-each-ref",
        "--format=%(objectname) %(refname)",
        &refs.summary_copy,
        &refs.clones_copy,
    ]);
    Ok(run(c, "list the hub's copies")?
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(oid, name)| refs.remote_name(name).map(|n| (n, oid.to_string())))
        .collect())
}

/// Fetch the summary and every clone's ref into coord's copies. An empty
/// refmap: git updates no remote-tracking ref of its own.
pub fn fetch(repo: &Path, refs: &Refs, published: &BTreeMap<String, String>) -> Result<()> {
    let mut specs = vec![format!("+{}*:{}*", refs.clones, refs.clones_copy)];
    if published.contains_key(&refs.summary) {
        specs.push(format!("+{}:{}", refs.summary, refs.summary_copy));
    }
    let mut c = git(repo);
    c.args([
        "fetch",
        "-q",
        "--no-tags",
        "--no-auto-maintenance",
        "--refmap=",
        "--",
        &refs.remote,
    ])
    .args(&specs);
    run(c, "fetch").map(|_| ()).map_err(|e| {
        e.hint(format!(
            "nothing was lost: the hub is as it was; check the network and `git remote -v`, then run `{}` again",
            command_line(&["sync", "--remote", &refs.remote])
        ))
    })
}

/// The published states `commit` does not contain (by coord's copies).
pub fn unmerged(repo: &Path, refs: &Refs, commit: &str) -> Result<Vec<String>> {
    let mut c = git(repo);
    c.args([
        "for-each-ref",
        "--format=%(objectname)",
        &format!("--no-merged={commit}"),
        &refs.summary_copy,
        &refs.clones_copy,
    ]);
    let mut tips: Vec<String> = run(c, "list the hub's published states")?
        .lines()
        .map(str::to_string)
        .collect();
    tips.sort();
    tips.dedup();
    if tips.len() > 1 {
        // States contained in other new states need no merge of their own.
        let mut c = git(repo);
        c.args(["merge-base", "--independent"]).args(&tips);
        tips = run(c, "order the hub's published states")?
            .lines()
            .map(str::to_string)
            .collect();
        tips.sort();
    }
    Ok(tips)
}

/// The data a commit holds, by object id: two commits with the same are the
/// same state, whatever their history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data {
    pub registry: Option<String>,
    pub messages: Option<String>,
    pub events: Option<String>,
    pub archive: Option<String>,
}

/// The data of each commit, through one `git cat-file --batch-check`.
pub fn data_of(repo: &Path, commits: &[&str]) -> Result<Vec<Data>> {
    const PARTS: [&str; 4] = [REGISTRY, "MESSAGES", "EVENTS", ARCHIVE_DIR];
    let input: String = commits
        .iter()
        .flat_map(|c| PARTS.iter().map(move |p| format!("{c}:{p}\n")))
        .collect();
    let mut c = git(repo);
    c.args(["cat-file", "--batch-check=%(objectname) %(objecttype)"]);
    let out = run_with(c, input.as_bytes(), "read the hub commits")?;
    let answers: Vec<Option<String>> = out
        .lines()
        .map(|l| match l.split_once(' ') {
            Some((oid, "blob" | "tree")) => Some(oid.to_string()),
            _ => None,
        })
        .collect();
    if answers.len() != commits.len() * PARTS.len() {
        return Err(failure("git gave an unreadable answer about the hub commits"));
    }
    Ok(answers
        .chunks(PARTS.len())
        .map(|p| Data {
            registry: p[0].clone(),
            messages: p[1].clone(),
            events: p[2].clone(),
            archive: p[3].clone(),
        })
        .collect())
}

/// The full ids of the commits named by `--skip`.
pub fn resolve_skips(repo: &Path, skip: &[String], remote: &str) -> Result<BTreeSet<String>> {
    skip.iter()
        .map(|s| {
            rev(repo, s)?.ok_or_else(|| {
                usage(format!(
                    "--skip {s} names no commit fetched from {remote}; give the commit sync named"
                ))
            })
        })
        .collect()
}

pub fn foreign(remote: &str, branch: &str, commit: &str) -> CoordError {
    hub(format!(
        "{remote}'s hub state at {} ({branch}) is not a coord hub (it has no {REGISTRY} file); nothing was changed",
        &commit[..commit.len().min(12)]
    ))
    .hint("pick another branch with `sync.branch` in this clone's coord.toml, or pass --branch NAME")
}

/// A ref or commit id, resolved to a commit.
pub fn rev(repo: &Path, name: &str) -> Result<Option<String>> {
    let mut c = git(repo);
    c.args([
        "rev-parse",
        "-q",
        "--verify",
        "--end-of-options",
        &format!("{name}^{{commit}}"),
    ]);
    Ok(run(c, "read a ref").ok().filter(|s| !s.is_empty()))
}

pub fn ancestor(repo: &Path, a: &str, b: &str) -> bool {
    let mut c = git(repo);
    c.args(["merge-base", "--is-ancestor", a, b]);
    c.status().is_ok_and(|s| s.success())
}

/// The common ancestor of `tip` and the merge of `commit` with `taken`.
pub fn merge_base(repo: &Path, tip: &str, commit: &str, taken: &[&str]) -> Option<String> {
    let mut c = git(repo);
    c.args(["merge-base", tip, commit]).args(taken);
    run(c, "find the common ancestor").ok().filter(|s| !s.is_empty())
}

/// A log as a tree is built from it: its segments' blobs as the cache knows
/// them (the file did not change), or the segments' bytes.
pub enum LogParts {
    Known(BTreeMap<String, String>),
    Cut(BTreeMap<String, Vec<u8>>),
}

/// A tree of the hub: `disk` (the registry, archive files, the briefing)
/// as they are in `dir`, the logs in hourly segments, and coord's merge
/// attributes; and its data. Only what is new to the cache is hashed: files
/// through one `git hash-object --stdin-paths`, segments written to
/// temporary files beside the hub for it; one `git mktree --batch` makes
/// the folders.
pub fn tree(
    repo: &Path,
    dir: &Path,
    cache: &mut Cache,
    disk: &[String],
    logs: Vec<(&'static str, LogParts)>,
) -> Result<(String, Data)> {
    let mut blobs: BTreeMap<String, String> = BTreeMap::new();
    let mut fresh: Vec<(String, std::path::PathBuf)> = Vec::new();
    for name in disk {
        match cache.known(dir, name) {
            Some(blob) => {
                blobs.insert(name.clone(), blob);
            }
            None => fresh.push((name.clone(), dir.join(name))),
        }
    }
    // Segments new to the cache, written out to be hashed, then removed.
    let mut temps = Temps(Vec::new());
    let mut cut: Vec<(&'static str, BTreeMap<String, Vec<u8>>)> = Vec::new();
    for (log, parts) in logs {
        let folder = segments::folder(log);
        match parts {
            LogParts::Known(segs) => {
                for (hour, blob) in segs {
                    blobs.insert(format!("{folder}/{hour}.jsonl"), blob);
                }
            }
            LogParts::Cut(segs) => {
                for (hour, bytes) in &segs {
                    let path = format!("{folder}/{hour}.jsonl");
                    match cache.segment(&path, bytes) {
                        Some(blob) => {
                            blobs.insert(path, blob);
                        }
                        None => {
                            let (mut file, tmp) = fsio::create_new_beside(dir, "segment", fsio::SHARED)?;
                            std::io::Write::write_all(&mut file, bytes)
                                .map_err(|e| CoordError::io("write", &tmp, e))?;
                            temps.0.push(tmp.clone());
                            fresh.push((path, tmp));
                        }
                    }
                }
                cut.push((log, segs));
            }
        }
    }
    if !fresh.is_empty() {
        let paths: String = fresh.iter().map(|(_, p)| format!("{}\n", p.display())).collect();
        let mut c = git(repo);
        // Fast compression: git packs them tighter later (gc) anyway.
        c.args([
            "-c",
            "core.looseCompression=1",
            "hash-object",
            "-w",
            "--stdin-paths",
        ]);
        let hashed = run_with(c, paths.as_bytes(), "store the hub files")?;
        for ((name, _), blob) in fresh.into_iter().zip(hashed.lines()) {
            if !name.contains('/') || name.starts_with(ARCHIVE_DIR) {
                cache.remember(dir, &name, blob);
            }
            blobs.insert(name, blob.to_string());
        }
    }
    drop(temps);
    for (log, segs) in cut {
        let folder = segments::folder(log);
        let mut known = BTreeMap::new();
        for (hour, bytes) in &segs {
            let path = format!("{folder}/{hour}.jsonl");
            if let Some(blob) = blobs.get(&path) {
                cache.remember_segment(&path, bytes, blob);
                known.insert(hour.clone(), blob.clone());
            }
        }
        cache.remember_log(dir, log, known);
    }
    let attributes = match cache.attributes(GITATTRIBUTES) {
        Some(blob) => blob,
        None => {
            let mut c = git(repo);
            c.args(["hash-object", "-w", "--stdin"]);
            let blob = run_with(c, GITATTRIBUTES.as_bytes(), "store the hub's attributes")?;
            cache.set_attributes(GITATTRIBUTES, &blob);
            blob
        }
    };
    // The folders: archive/, MESSAGES/, EVENTS/, in one mktree --batch.
    let mut folders: BTreeMap<&str, String> = BTreeMap::new();
    let mut top = format!("100644 blob {attributes}\t.gitattributes\n");
    for (name, blob) in &blobs {
        match name.split_once('/') {
            Some((dir, file)) => {
                let listing = folders.entry(folder_name(dir)).or_default();
                listing.push_str(&format!("100644 blob {blob}\t{file}\n"));
            }
            None => top.push_str(&format!("100644 blob {blob}\t{name}\n")),
        }
    }
    let mut ids: BTreeMap<&str, String> = BTreeMap::new();
    if !folders.is_empty() {
        let input: String = folders.values().map(|l| format!("{l}\n")).collect();
        let mut c = git(repo);
        c.args(["mktree", "--batch"]);
        let out = run_with(c, input.as_bytes(), "store the hub's folders")?;
        for (name, oid) in folders.keys().zip(out.lines()) {
            top.push_str(&format!("040000 tree {oid}\t{name}\n"));
            ids.insert(name, oid.to_string());
        }
    }
    let mut c = git(repo);
    c.arg("mktree");
    let tree = run_with(c, top.as_bytes(), "store the hub")?;
    let data = Data {
        registry: blobs.get(REGISTRY).cloned(),
        messages: ids.get(segments::folder(MESSAGES)).cloned(),
        events: ids.get(segments::folder(EVENTS)).cloned(),
        archive: ids.get(ARCHIVE_DIR).cloned(),
    };
    debug_assert!(!blobs.contains_key(STATE) || disk.iter().any(|n| n == STATE));
    Ok((tree, data))
}

fn folder_name(dir: &str) -> &'static str {
    match dir {
        "MESSAGES" => "MESSAGES",
        "EVENTS" => "EVENTS",
        _ => ARCHIVE_DIR,
    }
}

/// Temporary files removed when dropped, whatever happened.
struct Temps(Vec<std::path::PathBuf>);

impl Drop for Temps {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

pub fn commit_tree(repo: &Path, tree: &str, parents: &[&str], message: &str) -> Result<String> {
    let mut c = git(repo);
    c.args(["commit-tree", tree, "-m", message]);
    for p in parents {
        c.args(["-p", p]);
    }
    run(c, "commit the hub")
}

pub fn update_ref(repo: &Path, name: &str, commit: &str) -> Result<()> {
    let mut c = git(repo);
    c.args(["update-ref", name, commit]);
    run(c, "move the hub branch").map(|_| ())
}

/// Push `commit` to this clone's own ref (which must take it: only this
/// clone writes it) and to the summary branch when that is a fast forward
/// (best effort: another clone may have moved it meanwhile). Nothing is
/// pushed where the remote already has `commit`. Whether the summary was
/// left behind.
pub fn push(repo: &Path, refs: &Refs, published: &BTreeMap<String, String>, commit: &str) -> Result<bool> {
    let has = |name: &str| published.get(name).map(String::as_str) == Some(commit);
    let mut targets: Vec<&str> = Vec::new();
    if !has(&refs.own) {
        targets.push(&refs.own);
    }
    let summary_forward = match published.get(&refs.summary) {
        None => true,
        Some(tip) => tip != commit && ancestor(repo, tip, commit),
    };
    if summary_forward {
        targets.push(&refs.summary);
    }
    if targets.is_empty() {
        return Ok(!has(&refs.summary));
    }
    let specs: Vec<String> = targets.iter().map(|t| format!("{commit}:{t}")).collect();
    let mut c = git(repo);
    c.args(["push", "--porcelain", "--", &refs.remote]).args(&specs);
    let out = c
        .output()
        .map_err(|e| failure(format!("cannot run git to push: {e}; is git installed?")))?;
    let report = String::from_utf8_lossy(&out.stdout);
    let status = |target: &str| {
        report
            .lines()
            .find(|l| {
                l.split('\t')
                    .nth(1)
                    .is_some_and(|r| r.ends_with(&format!(":{target}")))
            })
            .map(|l| !l.starts_with('!'))
    };
    match status(&refs.own) {
        _ if has(&refs.own) => {}
        Some(true) => {}
        Some(false) => {
            return Err(failure(format!(
                "git push was rejected for {} (another clone with this clone's id pushed meanwhile)",
                refs.own
            )))
        }
        None => {
            return Err(failure(format!(
                "git could not push: {}",
                super::super::git::one_line(&out.stderr)
            )))
        }
    }
    Ok(!(has(&refs.summary) || summary_forward && status(&refs.summary) == Some(true)))
}
