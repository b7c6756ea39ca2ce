//! `coord sync`: the hub travels through an ordinary git remote on a branch
//! of its own (`coord`), built with plumbing only (hash-object, mktree,
//! commit-tree, update-ref, fetch, push): HEAD, the index, the work tree and
//! the user's branches are never touched, and code history gets no
//! coordination commits. Under the hub lock: commit the local hub, fetch the
//! remote branch, merge record by record (with the common ancestor), write
//! the result into the live hub, commit it with both parents, push; a
//! rejected push (someone pushed meanwhile) is retried a few times.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use super::archive::ARCHIVE_DIR;
use super::git::{git, run, run_with};
use super::{fsio, Hub, EVENTS, MESSAGES, REGISTRY, STATE};
use crate::core::error::{failure, hub, Result};
use crate::core::model::{sorted_json_pretty, Cursor, Message, Registry};
use crate::core::rules::merge::{merge_log, merge_registry};

/// The hub's shared files: what the branch carries. Machine-local files
/// (the lock, the bindings) never travel.
const SHARED: [&str; 6] = [
    REGISTRY,
    MESSAGES,
    EVENTS,
    STATE,
    crate::core::config::FILE,
    ".gitattributes",
];

/// How many times a rejected push is retried after merging again.
const RETRIES: usize = 3;

/// What came in and went out.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Flow {
    pub sessions: usize,
    pub claims: usize,
    pub messages: usize,
    pub events: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Synced {
    pub remote: String,
    pub branch: String,
    pub incoming: Flow,
    pub outgoing: Flow,
    /// Claims found with two holders and given to one.
    pub arbitrated: usize,
    /// The commit now on both sides.
    pub commit: String,
    /// Pushes rejected (someone pushed meanwhile) and retried.
    pub retries: usize,
}

/// The hub's files as a map from path (relative to the hub) to bytes.
type Files = BTreeMap<String, Vec<u8>>;

impl Hub {
    fn shared_files(&self) -> Result<Files> {
        let mut files = Files::new();
        for name in SHARED {
            if let Some(bytes) = fsio::read_optional(&self.path(name))? {
                files.insert(name.to_string(), bytes);
            }
        }
        for path in self
            .archive_files(MESSAGES)?
            .into_iter()
            .chain(self.archive_files(EVENTS)?)
        {
            if let (Some(name), Some(bytes)) = (
                path.file_name().and_then(|n| n.to_str()),
                fsio::read_optional(&path)?,
            ) {
                files.insert(format!("{ARCHIVE_DIR}/{name}"), bytes);
            }
        }
        Ok(files)
    }

    /// Replace the live hub's shared files with `files` (the lock is held).
    fn write_files(&self, files: &Files) -> Result<()> {
        for (name, bytes) in files {
            let path = self.path(name);
            let dir = path.parent().unwrap_or(&self.dir).to_path_buf();
            if name.starts_with(ARCHIVE_DIR) {
                std::fs::create_dir_all(&dir)
                    .map_err(|e| crate::core::error::CoordError::io("create", &dir, e))?;
            }
            let file = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            fsio::write_atomic(&dir, file, bytes, self.config.durability)?;
        }
        Ok(())
    }

    /// Sync with `remote`'s `branch`. `brief` renders the briefing of a
    /// merged registry (the git host shows it on the branch).
    pub fn sync(
        &self,
        remote: &str,
        branch: &str,
        brief: &dyn Fn(&Hub, &Registry) -> Result<String>,
    ) -> Result<Synced> {
        let repo = super::git::require_repo(&self.dir)?;
        let mut check = git(&repo);
        check.args(["remote", "get-url", remote]);
        run(check, "find the remote").map_err(|_| {
            hub(format!("this clone has no git remote {remote:?}")).hint(format!(
                "add one with `git remote add {remote} URL`, or pass --remote NAME"
            ))
        })?;
        // git must know how to merge the registry (a manual `git merge` of
        // the hub branch, a clone that still tracks the old in-tree hub).
        if !super::merge::driver_registered(&repo) {
            super::merge::register_driver(&repo)?;
        }
        let local_ref = format!("refs/heads/{branch}");
        let remote_ref = format!("refs/coord/remotes/{remote}/{branch}");
        let _lock = self.lock(true)?;
        let before = self.shared_files()?;
        let mut commit = commit_files(
            &repo,
            &self.dir,
            &before,
            rev(&repo, &local_ref)?.as_deref(),
            "coord: local hub",
        )?;
        let mut files = before.clone();
        let mut retries = 0;
        let (mut incoming, mut outgoing, mut arbitrated) = (Flow::default(), Flow::default(), 0);
        loop {
            let mut fetch = git(&repo);
            fetch.args(["fetch", "-q", remote, &format!("+{local_ref}:{remote_ref}")]);
            let theirs = match run(fetch, "fetch") {
                Ok(_) => rev(&repo, &remote_ref)?,
                Err(e) if e.message.contains("couldn't find remote ref") => None,
                Err(e) => {
                    return Err(e.hint(format!(
                        "nothing was lost: the hub is as it was; check the network and `git remote -v`, then run `coord sync --remote {remote}` again"
                    )))
                }
            };
            if let Some(theirs) = theirs.as_ref().filter(|t| **t != commit) {
                if ancestor(&repo, &commit, theirs) {
                    // Fast forward: theirs already has everything ours has.
                    let remote_files = read_commit(&repo, theirs)?;
                    if !remote_files.contains_key(REGISTRY) {
                        return Err(foreign(remote, branch));
                    }
                    incoming = flow(&files, &remote_files);
                    files = remote_files;
                    commit = theirs.clone();
                } else if !ancestor(&repo, theirs, &commit) {
                    let remote_files = read_commit(&repo, theirs)?;
                    if !remote_files.contains_key(REGISTRY) {
                        return Err(foreign(remote, branch));
                    }
                    let base = merge_base(&repo, &commit, theirs)?
                        .map(|b| read_commit(&repo, &b))
                        .transpose()?;
                    let (mut merged, lost) = merge_files(base.as_ref(), &files, &remote_files)?;
                    // The briefing of the merged hub, for the git host.
                    self.write_files(&merged)?;
                    if let Some(reg) = registry_of(&merged)? {
                        let page = brief(self, &reg)?.into_bytes();
                        fsio::write_atomic(&self.dir, STATE, &page, self.config.durability)?;
                        merged.insert(STATE.to_string(), page);
                    }
                    incoming = flow(&files, &merged);
                    outgoing = flow(&remote_files, &merged);
                    arbitrated += lost;
                    files = merged;
                    let tree = write_tree(&repo, &self.dir, &files)?;
                    let mut c = git(&repo);
                    c.args([
                        "commit-tree",
                        &tree,
                        "-p",
                        &commit,
                        "-p",
                        theirs,
                        "-m",
                        "coord: merged hubs",
                    ]);
                    commit = run(c, "commit the merged hub")?;
                } else {
                    outgoing = flow(&read_commit(&repo, theirs)?, &files);
                }
            } else if theirs.is_none() {
                outgoing = flow(&Files::new(), &files);
            }
            if files != before {
                self.write_files(&files)?;
            }
            let mut update = git(&repo);
            update.args(["update-ref", &local_ref, &commit]);
            run(update, "move the hub branch")?;
            let mut push = git(&repo);
            push.args(["push", "-q", remote, &format!("{commit}:{local_ref}")]);
            match run(push, "push") {
                Ok(_) => break,
                Err(e) if retries < RETRIES && (e.message.contains("rejected") || e.message.contains("fetch first")) => {
                    retries += 1;
                }
                Err(e) => {
                    return Err(e.hint(format!(
                        "the merged hub is saved here and on {local_ref}; run `coord sync --remote {remote}` again to push it"
                    )))
                }
            }
        }
        Ok(Synced {
            remote: remote.to_string(),
            branch: branch.to_string(),
            incoming,
            outgoing,
            arbitrated,
            commit,
            retries,
        })
    }
}

fn foreign(remote: &str, branch: &str) -> crate::core::error::CoordError {
    hub(format!(
        "{remote}'s branch {branch} is not a coord hub (it has no {REGISTRY}); nothing was changed"
    ))
    .hint("pick another branch with `sync.branch` in coord.toml, or pass --branch NAME")
}

fn rev(repo: &Path, name: &str) -> Result<Option<String>> {
    let mut c = git(repo);
    c.args(["rev-parse", "-q", "--verify", &format!("{name}^{{commit}}")]);
    Ok(run(c, "read a ref").ok().filter(|s| !s.is_empty()))
}

fn ancestor(repo: &Path, a: &str, b: &str) -> bool {
    let mut c = git(repo);
    c.args(["merge-base", "--is-ancestor", a, b]);
    c.status().is_ok_and(|s| s.success())
}

fn merge_base(repo: &Path, a: &str, b: &str) -> Result<Option<String>> {
    let mut c = git(repo);
    c.args(["merge-base", a, b]);
    Ok(run(c, "find the common ancestor").ok().filter(|s| !s.is_empty()))
}

/// Every file of a hub commit.
fn read_commit(repo: &Path, commit: &str) -> Result<Files> {
    let mut c = git(repo);
    c.args(["ls-tree", "-r", "--name-only", commit]);
    let names = run(c, "list the hub commit")?;
    let mut files = Files::new();
    for name in names.lines().filter(|n| !n.is_empty()) {
        let mut c = git(repo);
        c.args(["cat-file", "blob", &format!("{commit}:{name}")]);
        let out = c
            .output()
            .map_err(|e| failure(format!("cannot run git to read {name}: {e}")))?;
        if out.status.success() {
            files.insert(name.to_string(), out.stdout);
        }
    }
    Ok(files)
}

/// A tree of the hub's files as they are on disk in `dir` (one level of
/// subfolders: archive/). One `git hash-object --stdin-paths` hashes them
/// all; git stores only blobs it does not have yet.
fn write_tree(repo: &Path, dir: &Path, files: &Files) -> Result<String> {
    let names: Vec<&String> = files.keys().collect();
    let paths: String = names
        .iter()
        .map(|n| format!("{}\n", dir.join(n).display()))
        .collect();
    let mut c = git(repo);
    // Fast compression: the logs are tens of megabytes, stored whole at each
    // change; git packs them tighter later (gc) anyway.
    c.args([
        "-c",
        "core.looseCompression=1",
        "hash-object",
        "-w",
        "--stdin-paths",
    ]);
    let blobs = run_with(c, paths.as_bytes(), "store the hub files")?;
    let mut top = String::new();
    let mut sub: BTreeMap<&str, String> = BTreeMap::new();
    for (name, blob) in names.into_iter().zip(blobs.lines()) {
        match name.split_once('/') {
            Some((dir, file)) => sub
                .entry(dir)
                .or_default()
                .push_str(&format!("100644 blob {blob}\t{file}\n")),
            None => top.push_str(&format!("100644 blob {blob}\t{name}\n")),
        }
    }
    for (dir, listing) in sub {
        let tree = run_with(
            {
                let mut c = git(repo);
                c.arg("mktree");
                c
            },
            listing.as_bytes(),
            "store the archive folder",
        )?;
        top.push_str(&format!("040000 tree {tree}\t{dir}\n"));
    }
    let mut c = git(repo);
    c.arg("mktree");
    run_with(c, top.as_bytes(), "store the hub")
}

/// A commit of `files` on top of `parent`, or `parent` itself when nothing
/// changed since.
fn commit_files(
    repo: &Path,
    dir: &Path,
    files: &Files,
    parent: Option<&str>,
    message: &str,
) -> Result<String> {
    let tree = write_tree(repo, dir, files)?;
    if let Some(p) = parent {
        let mut c = git(repo);
        c.args(["rev-parse", &format!("{p}^{{tree}}")]);
        if run(c, "read the last hub commit")? == tree {
            return Ok(p.to_string());
        }
    }
    let mut c = git(repo);
    c.args(["commit-tree", &tree, "-m", message]);
    if let Some(p) = parent {
        c.args(["-p", p]);
    }
    run(c, "commit the hub")
}

fn text(files: &Files, name: &str) -> String {
    files
        .get(name)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

fn registry_of(files: &Files) -> Result<Option<Registry>> {
    files
        .get(REGISTRY)
        .map(|b| {
            serde_json::from_slice(b)
                .map_err(|e| hub(format!("a {REGISTRY} in the merge does not parse ({e})")))
        })
        .transpose()
}

/// Ids of the records of a log.
fn ids(log: &str) -> BTreeSet<String> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    log.lines()
        .filter_map(|l| serde_json::from_str::<Id>(l).ok())
        .map(|i| i.id)
        .collect()
}

/// Merge two hubs' files; returns them and how many claims were arbitrated.
fn merge_files(base: Option<&Files>, ours: &Files, theirs: &Files) -> Result<(Files, usize)> {
    let mut out = Files::new();
    let names: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    for name in names {
        let merged = if name == MESSAGES || name == EVENTS || name.starts_with(ARCHIVE_DIR) {
            merge_log(&text(ours, name), &text(theirs, name)).into_bytes()
        } else {
            // Settings and attributes: the side that changed them wins;
            // both changed: ours (the local settings stay in force).
            let was = base.and_then(|b| b.get(name));
            match (ours.get(name), theirs.get(name)) {
                (Some(a), Some(b)) if was == Some(a) => b.clone(),
                (Some(a), _) => a.clone(),
                (None, Some(b)) => b.clone(),
                (None, None) => continue,
            }
        };
        out.insert(name.clone(), merged);
    }
    let base_reg = base.map(registry_of).transpose()?.flatten();
    let (a, b) = (
        registry_of(ours)?.unwrap_or_default(),
        registry_of(theirs)?.unwrap_or_default(),
    );
    let mut reg = merge_registry(base_reg.as_ref(), &a, &b);
    let losses = |r: &Registry| -> usize { r.claims.values().map(|c| c.lost_on_sync.len()).sum() };
    let arbitrated = losses(&reg).saturating_sub(losses(&a).max(losses(&b)));
    // Read state: every cursor moves to the same message in the merged log,
    // and messages that landed behind it are pending for their recipients.
    let log = text(&out, MESSAGES);
    let (our_ids, their_ids) = (ids(&text(ours, MESSAGES)), ids(&text(theirs, MESSAGES)));
    let index = LogIndex::new(&log, &our_ids, &their_ids);
    for (id, s) in reg.sessions.iter_mut() {
        let from_theirs = b.sessions.get(id) == Some(s) && a.sessions.get(id) != Some(s);
        index.remap(s, id, from_theirs);
    }
    if reg.schema == 0 {
        reg.schema = crate::core::model::SCHEMA;
    }
    let registry = sorted_json_pretty(&reg) + "\n";
    out.insert(REGISTRY.to_string(), registry.into_bytes());
    Ok((out, arbitrated))
}

/// The merged message log, read once: where each record ends, and the
/// messages one side did not have (parsed, with their places).
struct LogIndex {
    /// id -> (place, end offset, line length with newline, time).
    at: std::collections::HashMap<String, (usize, u64, u64, crate::core::clock::Time)>,
    /// Messages new to our side, and new to theirs, with their places.
    new_to_ours: Vec<(usize, Message)>,
    new_to_theirs: Vec<(usize, Message)>,
}

impl LogIndex {
    fn new(log: &str, ours: &BTreeSet<String>, theirs: &BTreeSet<String>) -> LogIndex {
        #[derive(serde::Deserialize)]
        struct Head {
            id: String,
            ts: String,
        }
        let mut index = LogIndex {
            at: Default::default(),
            new_to_ours: Vec::new(),
            new_to_theirs: Vec::new(),
        };
        let mut offset = 0u64;
        for (place, line) in log.lines().enumerate() {
            let len = line.len() as u64 + 1;
            offset += len;
            let Ok(h) = serde_json::from_str::<Head>(line) else {
                continue;
            };
            let Some(ts) = crate::core::clock::stamp::parse(&h.ts) else {
                continue;
            };
            let (in_ours, in_theirs) = (ours.contains(&h.id), theirs.contains(&h.id));
            if !in_ours || !in_theirs {
                if let Ok(m) = serde_json::from_str::<Message>(line) {
                    if !in_ours {
                        index.new_to_ours.push((place, m.clone()));
                    }
                    if !in_theirs {
                        index.new_to_theirs.push((place, m));
                    }
                }
            }
            index.at.insert(h.id, (place, offset, len, ts));
        }
        index
    }

    /// Move a session's cursor to the end of the same message, and mark as
    /// pending the messages for it that its side did not have and that the
    /// merge placed before that point.
    fn remap(&self, s: &mut crate::core::model::Session, me: &str, from_theirs: bool) {
        let Some(old_id) = s.cursor.as_ref().and_then(|c| c.id.clone()) else {
            return;
        };
        let Some(&(place, end, len, ts)) = self.at.get(&old_id) else {
            return;
        };
        s.cursor = Some(Cursor {
            offset: end,
            id: Some(old_id),
            len,
            ts: Some(ts),
        });
        let new = if from_theirs {
            &self.new_to_theirs
        } else {
            &self.new_to_ours
        };
        for (p, m) in new {
            if *p < place && m.addressed_to(me) && !s.pending.contains(&m.id) {
                s.pending.push(m.id.clone());
            }
        }
    }
}

/// What changed from `from` to `to`: sessions and claims whose records
/// differ, messages and events new to `from`.
fn flow(from: &Files, to: &Files) -> Flow {
    let (a, b) = (
        registry_of(from).ok().flatten().unwrap_or_default(),
        registry_of(to).ok().flatten().unwrap_or_default(),
    );
    let sessions = b
        .sessions
        .iter()
        .filter(|(k, v)| a.sessions.get(*k) != Some(*v))
        .count();
    let claims = b
        .claims
        .iter()
        .filter(|(k, v)| a.claims.get(*k) != Some(*v))
        .count();
    let new = |log: &str| {
        let before = ids(&text(from, log));
        ids(&text(to, log)).difference(&before).count()
    };
    Flow {
        sessions,
        claims,
        messages: new(MESSAGES),
        events: new(EVENTS),
    }
}
