//! `coord sync`: the hub travels through an ordinary git remote on a branch
//! of its own (`coord`), built with plumbing only (hash-object, mktree,
//! commit-tree, update-ref, fetch, push): HEAD, the index, the work tree and
//! the user's branches are never touched, and code history gets no
//! coordination commits. Under the hub lock: check the local hub (a broken
//! one is never pushed), commit it, fetch the remote branch, take from it
//! only the hub's data and check it as doctor would (see `incoming`), merge
//! record by record (with the common ancestor), write the result into the
//! live hub, regenerate the briefing here, commit with both parents, push; a
//! rejected push (someone pushed meanwhile) is retried a few times.
//!
//! The only ref moved here is `refs/heads/BRANCH` (and the remote's copy of
//! it under `refs/coord/remotes/`), and only when it is a hub branch; the
//! branch name comes from this clone's settings or `--branch`, never from a
//! peer. Settings never travel: the branch carries the data, the briefing
//! and coord's merge attributes.

use std::collections::BTreeSet;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

use serde::Serialize;

use super::archive::ARCHIVE_DIR;
use super::git::{git, run, run_with};
use super::incoming::{data_name, read_hub, Files, Incoming};
use super::repair::registry_problems;
use super::{fsio, Hub, EVENTS, GITATTRIBUTES, MESSAGES, REGISTRY, STATE};
use crate::core::clock::Time;
use crate::core::error::{failure, hub, usage, CoordError, Result};
use crate::core::model::{sorted_json, sorted_json_pretty, Registry};
use crate::core::rules::claims::losers_told;
use crate::core::rules::merge::{merge_log, merge_registry, other_losses};
use crate::core::rules::reads::{merge_reads, Line, Side};
use crate::core::text::{command_line, shell_line};

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
    /// The shared branch was moved by another clone meanwhile and was left
    /// for the next sync (this clone's own ref has everything).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub summary_behind: bool,
    /// Entries of the remote's hub commit that are not hub data and were
    /// left out (sanitised names), and log lines that were not records.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
}

/// What one sync is asked to do.
pub struct SyncPlan<'a> {
    pub remote: &'a str,
    pub branch: &'a str,
    /// Commits of the remote branch whose state is not taken (`--skip`).
    pub skip: &'a [String],
    /// This machine's name (part of this clone's ref on the remote).
    pub machine: &'a str,
    pub now: Time,
}

/// A commit abbreviated for a sentence.
fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

impl Hub {
    /// The hub's shared data as it is on disk.
    fn data_files(&self) -> Result<Files> {
        let mut files = Files::new();
        for name in [REGISTRY, MESSAGES, EVENTS] {
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

    /// Write `files` into the live hub (the lock is held): only the hub's
    /// data names, each replaced atomically (a random temporary name created
    /// exclusively, then renamed), the archive folder made here and never
    /// followed if it is a link.
    fn write_files(&self, files: &Files) -> Result<()> {
        for (name, bytes) in files {
            if !data_name(name) {
                return Err(failure(format!(
                    "refused to write {name:?} into the hub: not a hub file (a bug in coord)"
                )));
            }
            let (dir, file) = match name.split_once('/') {
                Some((_, file)) => {
                    let dir = self.archive_dir()?;
                    if !dir.exists() {
                        std::fs::DirBuilder::new()
                            .mode(0o755)
                            .create(&dir)
                            .map_err(|e| CoordError::io("create", &dir, e))?;
                    }
                    (dir, file)
                }
                None => (self.dir.clone(), name.as_str()),
            };
            fsio::write_atomic(&dir, file, bytes, self.config.durability)?;
        }
        Ok(())
    }

    /// The first thing that makes `files` unfit to push or to take.
    fn unfit(&self, files: &Files, now: Time) -> Option<super::Finding> {
        match files.get(REGISTRY) {
            None => Some(super::Finding {
                file: REGISTRY.to_string(),
                line: None,
                problem: "is missing".to_string(),
                fixable: false,
            }),
            Some(bytes) => registry_problems(bytes, now, self.config.max_skew)
                .into_iter()
                .next(),
        }
    }

    /// The hub state a remote commit stands for: its data, checked. A
    /// skipped commit stands for what its parents stand for (their union).
    fn state_of(
        &self,
        repo: &Path,
        commit: &str,
        plan: &SyncPlan,
        skip: &BTreeSet<String>,
    ) -> Result<Incoming> {
        let (remote, branch) = (plan.remote, plan.branch);
        if skip.contains(commit) {
            let mut c = git(repo);
            c.args(["rev-list", "--parents", "-n", "1", commit]);
            let line = run(c, "read a hub commit's parents")?;
            let mut out = Incoming {
                files: Files::new(),
                ignored: Vec::new(),
                dropped_lines: 0,
            };
            for parent in line.split_whitespace().skip(1) {
                let s = self.state_of(repo, parent, plan, skip)?;
                out.files = merge_files(None, &out.files, &s.files, plan.now)?.0;
                out.ignored.extend(s.ignored);
                out.dropped_lines += s.dropped_lines;
            }
            return Ok(out);
        }
        let got = read_hub(repo, commit)?;
        if !got.files.contains_key(REGISTRY) {
            return Err(foreign(remote, branch, commit));
        }
        if let Some(f) = self.unfit(&got.files, plan.now) {
            let at = f.line.map(|l| format!(" (line {l})")).unwrap_or_default();
            return Err(hub(format!(
                "{remote}/{branch} at {} brings a {} that coord refuses{at}: {}; nothing was changed here",
                short(commit),
                f.file,
                crate::core::text::sanitize(&f.problem, false)
            ))
            .hint(format!(
                "skip that commit (its state is not taken, the branch moves past it): `{}`",
                command_line(&["sync", "--remote", remote, "--skip", short(commit)])
            ))
            .hint("ask whoever pushed it to run `coord doctor`"));
        }
        Ok(got)
    }

    /// Sync with the remote's hub branch. `brief` renders the briefing of a
    /// merged registry (the git host shows it on the branch).
    pub fn sync(&self, plan: &SyncPlan, brief: &dyn Fn(&Hub, &Registry) -> Result<String>) -> Result<Synced> {
        let (remote, branch) = (plan.remote, plan.branch);
        let repo = super::git::require_repo(&self.dir)?;
        let mut check = git(&repo);
        check.args(["remote", "get-url", "--", remote]);
        run(check, "find the remote").map_err(|_| {
            hub(format!(
                "this clone has no git remote {:?}",
                crate::core::text::sanitize(remote, false)
            ))
            .hint(format!(
                "add one with `{}`, or pass --remote NAME",
                shell_line(&["git", "remote", "add", remote, "URL"])
            ))
        })?;
        check_branch(&repo, branch)?;
        for s in plan.skip {
            if s.len() < 4 || s.len() > 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(usage(format!(
                    "--skip {:?} is not a commit id; give the one sync named",
                    crate::core::text::sanitize(s, false)
                )));
            }
        }
        // git must know how to merge the registry (a manual `git merge` of
        // the hub branch, a clone that still tracks the old in-tree hub).
        if !super::merge::driver_registered(&repo) {
            super::merge::register_driver(&repo)?;
        }
        let local_ref = format!("refs/heads/{branch}");
        let summary_ref = format!("refs/coord/remotes/{remote}/{branch}");
        let clones_ref = format!("refs/coord/clones/{remote}/{branch}/");
        let own = format!("refs/coord/clones/{branch}/{}", clone_id(&repo, plan.machine)?);
        let _lock = self.lock(true)?;
        let before = self.data_files()?;
        if let Some(f) = self.unfit(&before, plan.now) {
            let at = f.line.map(|l| format!(" line {l}")).unwrap_or_default();
            return Err(hub(format!(
                "this clone's hub is broken ({}{at}: {}), so it is not synced: nothing was pushed or taken",
                self.path(&f.file).display(),
                crate::core::text::sanitize(&f.problem, false)
            ))
            .hint("run `coord doctor` to see what is wrong, then `coord doctor --fix`"));
        }
        let parent = rev(&repo, &local_ref)?;
        if let Some(p) = &parent {
            if !super::incoming::data_blobs(&repo, p)?.contains_key(REGISTRY) {
                return Err(hub(format!(
                    "the branch {branch:?} here is not a hub branch (its last commit has no {REGISTRY}: code?); sync moves only a hub branch, so nothing was changed"
                ))
                .hint("pick the hub's branch with `coord sync --branch NAME` or sync.branch in this clone's coord.toml"));
            }
        }
        let mut commit = self.commit_local(&repo, &before, parent.as_deref())?;
        let mut files = before.clone();
        let mut retries = 0;
        let mut ignored: Vec<String> = Vec::new();
        let mut arbitrated = 0;
        loop {
            fetch(
                &repo,
                remote,
                &[
                    format!("+{local_ref}:{summary_ref}"),
                    format!("+refs/coord/clones/{branch}/*:{clones_ref}*"),
                ],
            )?;
            let skip = resolve_skips(&repo, plan.skip, remote)?;
            // Every published state this commit does not have yet: the
            // summary branch and each clone's own ref.
            let mut c = git(&repo);
            c.args([
                "for-each-ref",
                "--format=%(objectname)",
                &format!("--no-merged={commit}"),
                &summary_ref,
                &clones_ref,
            ]);
            let mut new: Vec<String> = run(c, "list the hub's published states")?
                .lines()
                .map(str::to_string)
                .collect();
            new.sort();
            new.dedup();
            if new.len() > 1 {
                let mut c = git(&repo);
                c.args(["merge-base", "--independent"]).args(&new);
                new = run(c, "order the hub's published states")?
                    .lines()
                    .map(str::to_string)
                    .collect();
                new.sort();
            }
            let mut taken: Vec<String> = Vec::new();
            let mut states: Vec<Incoming> = Vec::new();
            for tip in &new {
                let got = self.state_of(&repo, tip, plan, &skip)?;
                ignored.extend(summarise(&got));
                states.push(got);
            }
            match new.as_slice() {
                [] => {}
                [tip] if ancestor(&repo, &commit, tip) && !skip.contains(tip.as_str()) => {
                    // Fast forward: that state already has everything ours has.
                    files = states.remove(0).files;
                    commit = tip.clone();
                }
                _ => {
                    for (tip, got) in new.iter().zip(states) {
                        // The common ancestor of this state and all merged so
                        // far, when it is a state coord takes.
                        let mut c = git(&repo);
                        c.args(["merge-base", tip, &commit]).args(&taken);
                        let base = run(c, "find the common ancestor")
                            .ok()
                            .filter(|b| !b.is_empty())
                            .and_then(|b| self.state_of(&repo, &b, plan, &skip).ok())
                            .map(|s| s.files);
                        let (merged, lost) = merge_files(base.as_ref(), &files, &got.files, plan.now)?;
                        arbitrated += lost;
                        files = merged;
                        taken.push(tip.clone());
                    }
                    self.write_files(&files)?;
                    self.write_briefing(&files, brief)?;
                    let tree = self.tree(&repo, &files)?.0;
                    let mut c = git(&repo);
                    c.args(["commit-tree", &tree, "-p", &commit]);
                    for tip in &taken {
                        c.args(["-p", tip]);
                    }
                    c.args(["-m", "coord: merged hubs"]);
                    commit = run(c, "commit the merged hub")?;
                }
            }
            if files != before {
                self.write_files(&files)?;
                self.write_briefing(&files, brief)?;
            }
            let mut update = git(&repo);
            update.args(["update-ref", &local_ref, &commit]);
            run(update, "move the hub branch")?;
            // This clone's own ref never races another clone; the summary
            // branch is moved when it is a fast forward, and otherwise left
            // for the next sync (a reader of the branch sees it a round late).
            let summary_behind = match push(&repo, remote, &commit, &own, &format!("refs/heads/{branch}")) {
                Ok(behind) => behind,
                Err(e) if retries < RETRIES && e.message.contains("rejected") => {
                    retries += 1;
                    continue;
                }
                Err(e) => {
                    return Err(e.hint(format!(
                        "the merged hub is saved here and on {local_ref}; run `{}` again to push it",
                        command_line(&["sync", "--remote", remote])
                    )))
                }
            };
            return self.synced(
                plan,
                &repo,
                &summary_ref,
                (before, files),
                commit,
                arbitrated,
                retries,
                summary_behind,
                ignored,
            );
        }
    }

    /// The report of a sync that pushed.
    #[allow(clippy::too_many_arguments)]
    fn synced(
        &self,
        plan: &SyncPlan,
        repo: &Path,
        summary_ref: &str,
        (before, files): (Files, Files),
        commit: String,
        arbitrated: usize,
        retries: usize,
        summary_behind: bool,
        mut ignored: Vec<String>,
    ) -> Result<Synced> {
        let (remote, branch, repo) = (plan.remote, plan.branch, repo.to_path_buf());
        ignored.sort();
        ignored.dedup();
        if !ignored.is_empty() {
            self.warn(format!(
                "left out of {remote}'s hub states, which only a hub's data may come from: {}",
                ignored.join(", ")
            ));
        }
        let summary_tip = rev(&repo, summary_ref)?;
        let summary = summary_tip
            .as_ref()
            .filter(|t| **t != commit)
            .map(|t| read_hub(&repo, t))
            .transpose()?
            .map(|s| s.files);
        Ok(Synced {
            remote: remote.to_string(),
            branch: branch.to_string(),
            incoming: flow(&before, &files),
            outgoing: match summary {
                Some(theirs) => flow(&theirs, &files),
                None if summary_tip.is_none() => flow(&Files::new(), &files),
                None => Flow::default(),
            },
            arbitrated,
            commit,
            retries,
            summary_behind,
            ignored,
        })
    }

    /// The briefing of the state in `files`, written here (never a peer's).
    fn write_briefing(&self, files: &Files, brief: &dyn Fn(&Hub, &Registry) -> Result<String>) -> Result<()> {
        if let Some(reg) = registry_of(files)? {
            let page = brief(self, &reg)?;
            fsio::write_atomic(&self.dir, STATE, page.as_bytes(), self.config.durability)?;
        }
        Ok(())
    }

    /// A tree of the hub's data as it is on disk (`files` names it), with
    /// the briefing and coord's merge attributes; and the data's blobs. One
    /// `git hash-object --stdin-paths` hashes the files; git stores only
    /// blobs it does not have yet.
    fn tree(&self, repo: &Path, files: &Files) -> Result<(String, Files)> {
        let mut names: Vec<&str> = files.keys().map(String::as_str).collect();
        if self.path(STATE).is_file() {
            names.push(STATE);
        }
        let paths: String = names
            .iter()
            .map(|n| format!("{}\n", self.path(n).display()))
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
        let mut c = git(repo);
        c.args(["hash-object", "-w", "--stdin"]);
        let attributes = run_with(c, GITATTRIBUTES.as_bytes(), "store the hub's attributes")?;
        let mut top = format!("100644 blob {attributes}\t.gitattributes\n");
        let mut archive = String::new();
        let mut data = Files::new();
        for (name, blob) in names.into_iter().zip(blobs.lines()) {
            if name != STATE {
                data.insert(name.to_string(), blob.as_bytes().to_vec());
            }
            match name.split_once('/') {
                Some((_, file)) => archive.push_str(&format!("100644 blob {blob}\t{file}\n")),
                None => top.push_str(&format!("100644 blob {blob}\t{name}\n")),
            }
        }
        if !archive.is_empty() {
            let mut c = git(repo);
            c.arg("mktree");
            let tree = run_with(c, archive.as_bytes(), "store the archive folder")?;
            top.push_str(&format!("040000 tree {tree}\t{ARCHIVE_DIR}\n"));
        }
        let mut c = git(repo);
        c.arg("mktree");
        Ok((run_with(c, top.as_bytes(), "store the hub")?, data))
    }

    /// A commit of the local hub on top of `parent`, or `parent` itself when
    /// its data is the same (the briefing alone changes with the clock).
    fn commit_local(&self, repo: &Path, files: &Files, parent: Option<&str>) -> Result<String> {
        let (tree, blobs) = self.tree(repo, files)?;
        if let Some(p) = parent {
            if super::incoming::data_blobs(repo, p)? == blobs {
                return Ok(p.to_string());
            }
        }
        let mut c = git(repo);
        c.args(["commit-tree", &tree, "-m", "coord: local hub"]);
        if let Some(p) = parent {
            c.args(["-p", p]);
        }
        run(c, "commit the hub")
    }
}

/// The branch must be a name git takes, and not one checked out in any
/// work tree of this clone (sync would move it under the user's feet).
fn check_branch(repo: &Path, branch: &str) -> Result<()> {
    let mut c = git(repo);
    c.args(["check-ref-format", &format!("refs/heads/{branch}")]);
    if branch.starts_with('-') || run(c, "check the branch name").is_err() {
        return Err(usage(format!(
            "{:?} is not a branch name git accepts; pass --branch NAME",
            crate::core::text::sanitize(branch, false)
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

/// Fetch `specs` from `remote` into coord's own refs. An empty refmap: git
/// updates no remote-tracking ref of its own. A hub branch the remote does
/// not have yet is no error (the first sync creates it).
fn fetch(repo: &Path, remote: &str, specs: &[String]) -> Result<()> {
    let attempt = |specs: &[String]| {
        let mut c = git(repo);
        c.args(["fetch", "-q", "--no-tags", "--refmap=", "--", remote])
            .args(specs);
        run(c, "fetch")
    };
    let fetched = match attempt(specs) {
        Err(e) if e.message.contains("couldn't find remote ref") => attempt(&specs[1..]),
        other => other,
    };
    fetched.map(|_| ()).map_err(|e| {
        e.hint(format!(
            "nothing was lost: the hub is as it was; check the network and `git remote -v`, then run `{}` again",
            command_line(&["sync", "--remote", remote])
        ))
    })
}

/// Push `commit` to this clone's own ref (which must take it) and to the
/// summary branch (best effort). Whether the summary was left behind.
fn push(repo: &Path, remote: &str, commit: &str, own: &str, summary: &str) -> Result<bool> {
    let mut c = git(repo);
    c.args([
        "push",
        "--porcelain",
        "--",
        remote,
        &format!("{commit}:{own}"),
        &format!("{commit}:{summary}"),
    ]);
    let out = c
        .output()
        .map_err(|e| failure(format!("cannot run git to push: {e}; is git installed?")))?;
    let report = String::from_utf8_lossy(&out.stdout);
    let refused = |target: &str| {
        report.lines().any(|l| {
            l.starts_with('!')
                && l.split('\t')
                    .nth(1)
                    .is_some_and(|r| r.ends_with(&format!(":{target}")))
        })
    };
    if refused(own) {
        return Err(failure(format!(
            "git push was rejected for {own} (another clone with this clone's id pushed meanwhile)"
        )));
    }
    let done = report.lines().any(|l| {
        l.split('\t')
            .nth(1)
            .is_some_and(|r| r.ends_with(&format!(":{own}")))
    });
    if !done {
        return Err(failure(format!(
            "git could not push: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(refused(summary))
}

/// This clone's name among the clones publishing the hub, kept in its git
/// config (`coord.clone`): the machine's name and a random part, so two
/// clones on one machine never share a ref.
fn clone_id(repo: &Path, machine: &str) -> Result<String> {
    let mut c = git(repo);
    c.args(["config", "--get", "coord.clone"]);
    if let Ok(id) = run(c, "read the clone's id") {
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Ok(id);
        }
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

/// The full ids of the commits named by `--skip`.
fn resolve_skips(repo: &Path, skip: &[String], remote: &str) -> Result<BTreeSet<String>> {
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

/// The entries left out of a remote state, for one warning.
fn summarise(got: &Incoming) -> Vec<String> {
    let mut out: Vec<String> = got.ignored.iter().take(8).cloned().collect();
    if got.ignored.len() > 8 {
        out.push(format!("and {} more", got.ignored.len() - 8));
    }
    if got.dropped_lines > 0 {
        out.push(format!("{} log lines that are not records", got.dropped_lines));
    }
    out
}

fn foreign(remote: &str, branch: &str, commit: &str) -> CoordError {
    hub(format!(
        "{remote}'s branch {branch} is not a coord hub (its commit {} has no {REGISTRY} file); nothing was changed",
        short(commit)
    ))
    .hint("pick another branch with `sync.branch` in this clone's coord.toml, or pass --branch NAME")
}

/// A ref or commit id, resolved to a commit.
pub(super) fn rev(repo: &Path, name: &str) -> Result<Option<String>> {
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

fn ancestor(repo: &Path, a: &str, b: &str) -> bool {
    let mut c = git(repo);
    c.args(["merge-base", "--is-ancestor", a, b]);
    c.status().is_ok_and(|s| s.success())
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
fn merge_files(base: Option<&Files>, ours: &Files, theirs: &Files, now: Time) -> Result<(Files, usize)> {
    let mut out = Files::new();
    let names: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
    for name in names.into_iter().filter(|n| *n != REGISTRY) {
        out.insert(
            name.clone(),
            merge_log(&text(ours, name), &text(theirs, name)).into_bytes(),
        );
    }
    let base_reg = base.map(registry_of).transpose()?.flatten();
    let (a, b) = (
        registry_of(ours)?.unwrap_or_default(),
        registry_of(theirs)?.unwrap_or_default(),
    );
    let mut reg = merge_registry(base_reg.as_ref(), &a, &b);
    let losses = |r: &Registry| -> usize { r.claims.values().map(|c| c.lost_on_sync.len()).sum() };
    let arbitrated = losses(&reg).saturating_sub(losses(&a).max(losses(&b)));
    // The sync that gives a claim to one holder tells the others, in the
    // merged logs (the same lines whichever machine arbitrates).
    let (mut told, mut journal) = losers_told(&mut reg, now);
    let (more, more_journal) = other_losses(base_reg.as_ref(), &a, &b, &reg);
    told.extend(more);
    journal.extend(more_journal);
    for (name, lines) in [
        (MESSAGES, told.iter().map(sorted_json).collect::<Vec<_>>()),
        (EVENTS, journal.iter().map(sorted_json).collect()),
    ] {
        if !lines.is_empty() {
            let new = lines.join("\n") + "\n";
            out.insert(name.to_string(), merge_log(&text(&out, name), &new).into_bytes());
        }
    }
    // Read state: what each session read on either side stays read; the
    // rest of what is behind the merged cursor is pending.
    let (side_a, side_b) = (side_log(&text(ours, MESSAGES)), side_log(&text(theirs, MESSAGES)));
    merge_reads(
        &merged_lines(&text(&out, MESSAGES)),
        &Side {
            log: side_a,
            sessions: &a.sessions,
        },
        &Side {
            log: side_b,
            sessions: &b.sessions,
        },
        &mut reg.sessions,
    );
    if reg.schema == 0 {
        reg.schema = crate::core::model::SCHEMA;
    }
    let registry = sorted_json_pretty(&reg) + "\n";
    out.insert(REGISTRY.to_string(), registry.into_bytes());
    Ok((out, arbitrated))
}

/// A side's message log as ids in its order, each with its end offset.
fn side_log(log: &str) -> Vec<(String, u64)> {
    #[derive(serde::Deserialize)]
    struct Id<'a> {
        #[serde(borrow)]
        id: std::borrow::Cow<'a, str>,
    }
    let mut out = Vec::new();
    let mut end = 0u64;
    for line in log.split_inclusive('\n') {
        end += line.len() as u64;
        if let Ok(h) = serde_json::from_str::<Id>(line) {
            out.push((h.id.into_owned(), end));
        }
    }
    out
}

/// The merged message log's lines, with what routing needs.
fn merged_lines(log: &str) -> Vec<Line> {
    #[derive(serde::Deserialize)]
    struct Head {
        id: String,
        ts: String,
        from: String,
        to: String,
        #[serde(default)]
        recipients: Option<Vec<String>>,
    }
    let mut out = Vec::new();
    let mut end = 0u64;
    for line in log.split_inclusive('\n') {
        end += line.len() as u64;
        let Ok(h) = serde_json::from_str::<Head>(line) else {
            continue;
        };
        let Some(ts) = crate::core::clock::stamp::parse(&h.ts) else {
            continue;
        };
        out.push(Line {
            id: h.id,
            ts,
            from: h.from,
            to: h.to,
            recipients: h.recipients,
            end,
            len: line.len() as u64,
        });
    }
    out
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
