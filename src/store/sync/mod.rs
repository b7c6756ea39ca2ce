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
use super::git::{git, run};
use super::incoming::{data_name, read_hub, Files, Incoming};
use super::repair::registry_problems;
use super::{fsio, segments, Hub, EVENTS, MESSAGES, REGISTRY, STATE};
use crate::core::clock::Time;
use crate::core::error::{failure, hub, CoordError, Result};
use crate::core::model::Registry;
use crate::core::text::command_line;

mod cache;
mod files;
pub(super) mod plumbing;

use files::{flow, merge_files, registry_of};

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
        for name in self.data_names()? {
            if let Some(bytes) = fsio::read_optional(&self.path(&name))? {
                files.insert(name, bytes);
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
            Some(bytes) => self.unfit_registry(bytes, now),
        }
    }

    /// The first thing that makes a registry unfit to push or to take.
    fn unfit_registry(&self, bytes: &[u8], now: Time) -> Option<super::Finding> {
        registry_problems(bytes, now, self.config.max_skew)
            .into_iter()
            .next()
    }

    /// The hub state a remote commit stands for: its data, checked. A
    /// skipped commit stands for what its parents stand for (their union).
    fn state_of(
        &self,
        repo: &Path,
        commit: &str,
        plan: &SyncPlan,
        skip: &BTreeSet<String>,
        known: &super::incoming::Known,
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
                let s = self.state_of(repo, parent, plan, skip, known)?;
                out.files = merge_files(None, &out.files, &s.files, plan.now)?.0;
                out.ignored.extend(s.ignored);
                out.dropped_lines += s.dropped_lines;
            }
            return Ok(out);
        }
        let got = read_hub(repo, commit, known)?;
        if !got.files.contains_key(REGISTRY) {
            return Err(plumbing::foreign(remote, branch, commit));
        }
        if let Some(f) = self.unfit(&got.files, plan.now) {
            let at = f.line.map(|l| format!(" (line {l})")).unwrap_or_default();
            return Err(hub(format!(
                "the hub state {} published on {remote} ({branch}) brings a {} that coord refuses{at}: {}; nothing was changed here",
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

    /// Sync with the remote. Every clone publishes its state on a ref of
    /// its own (`refs/coord/clones/BRANCH/ID`), so no two clones race for one
    /// ref; each sync takes every published state it lacks and merges them
    /// in one commit. The branch itself (`refs/heads/BRANCH`) is a summary
    /// for readers, moved when that is a fast forward. A published state
    /// whose data is the same as this clone's is noted and not merged, so
    /// clones that agree stop making commits. `brief` renders the briefing
    /// of a merged registry.
    pub fn sync(&self, plan: &SyncPlan, brief: &dyn Fn(&Hub, &Registry) -> Result<String>) -> Result<Synced> {
        let (remote, branch) = (plan.remote, plan.branch);
        let repo = super::git::require_repo(&self.dir)?;
        plumbing::check_remote(&repo, remote)?;
        plumbing::check_branch(&repo, branch)?;
        plumbing::check_skips(plan.skip)?;
        let id = plumbing::prepare(&repo, plan.machine)?;
        let refs = plumbing::Refs::new(remote, branch, &id);
        let _lock = self.lock(true)?;
        // Signs of life not yet folded travel too.
        self.fold_pulse()?;
        let registry = fsio::read_optional(&self.path(REGISTRY))?.unwrap_or_default();
        if let Some(f) = self.unfit_registry(&registry, plan.now) {
            let at = f.line.map(|l| format!(" line {l}")).unwrap_or_default();
            return Err(hub(format!(
                "this clone's hub is broken ({}{at}: {}), so it is not synced: nothing was pushed or taken",
                self.path(&f.file).display(),
                crate::core::text::sanitize(&f.problem, false)
            ))
            .hint("run `coord doctor` to see what is wrong, then `coord doctor --fix`"));
        }
        let parent = plumbing::rev(&repo, &refs.local)?;
        if let Some(p) = &parent {
            if plumbing::data_of(&repo, &[p.as_str()])?
                .remove(0)
                .registry
                .is_none()
            {
                return Err(hub(format!(
                    "the branch {branch:?} here is not a hub branch (its last commit has no {REGISTRY}: code?); sync moves only a hub branch, so nothing was changed"
                ))
                .hint("pick the hub's branch with `coord sync --branch NAME` or sync.branch in this clone's coord.toml"));
            }
        }
        let mut cache = cache::Cache::read(self);
        let key = format!("{remote}/{branch}");
        let mut commit = self.commit_local(&repo, &mut cache, parent.as_deref())?;
        let local_changed = parent.as_deref() != Some(commit.as_str());
        // The data as it was, read only if something is merged.
        let mut files: Option<Files> = None;
        let mut before: Option<Files> = None;
        let mut retries = 0;
        let mut ignored: Vec<String> = Vec::new();
        let mut arbitrated = 0;
        // What the hub's files hold now, once this sync has written them.
        let mut on_disk: Option<Files> = None;
        loop {
            let published = plumbing::published(&repo, &refs)?;
            let fetched = published != plumbing::copies(&repo, &refs)?;
            if fetched {
                plumbing::fetch(&repo, &refs, &published)?;
            }
            let mut seen = cache.seen(&key);
            // What this commit does not have, and was not seen to be the same.
            let new: Vec<String> = if fetched || cache.last(&key) != Some(commit.as_str()) {
                plumbing::unmerged(&repo, &refs, &commit)?
                    .into_iter()
                    .filter(|t| !seen.contains(t))
                    .collect()
            } else {
                Vec::new()
            };
            let skip = plumbing::resolve_skips(&repo, plan.skip, remote)?;
            let mut tips: Vec<&str> = vec![commit.as_str()];
            tips.extend(new.iter().map(String::as_str));
            let data = plumbing::data_of(&repo, &tips)?;
            let (ours, theirs) = data.split_first().expect("our commit is listed first");
            let differs: Vec<&String> = new
                .iter()
                .zip(theirs)
                .filter(|(t, d)| *d != ours || skip.contains(t.as_str()))
                .map(|(t, _)| t)
                .collect();
            seen.extend(new.iter().cloned());
            match differs.as_slice() {
                [] => {}
                [tip] if plumbing::ancestor(&repo, &commit, tip) && !skip.contains(tip.as_str()) => {
                    // Fast forward: that state already has everything ours has.
                    let old = match files.take() {
                        Some(f) => f,
                        None => self.data_files()?,
                    };
                    let got = self.state_of(&repo, tip, plan, &skip, &self.known(&old, &cache))?;
                    ignored.extend(summarise(&got));
                    before.get_or_insert(old);
                    files = Some(got.files);
                    commit = (*tip).clone();
                }
                _ => {
                    let mut merged = match files.take() {
                        Some(f) => f,
                        None => self.data_files()?,
                    };
                    before.get_or_insert_with(|| merged.clone());
                    let known = self.known(&merged, &cache);
                    let mut taken: Vec<&str> = Vec::new();
                    // Many states share an ancestor: each is read once.
                    let mut bases: std::collections::HashMap<String, Option<Files>> = Default::default();
                    for tip in &differs {
                        let got = self.state_of(&repo, tip, plan, &skip, &known)?;
                        ignored.extend(summarise(&got));
                        // The common ancestor of this state and all merged so
                        // far, when it is a state coord takes.
                        let base = match plumbing::merge_base(&repo, tip, &commit, &taken) {
                            Some(b) => bases
                                .entry(b.clone())
                                .or_insert_with(|| {
                                    self.state_of(&repo, &b, plan, &skip, &known)
                                        .ok()
                                        .map(|s| s.files)
                                })
                                .as_ref(),
                            None => None,
                        };
                        let (m, lost) = merge_files(base, &merged, &got.files, plan.now)?;
                        arbitrated += lost;
                        merged = m;
                        taken.push(tip.as_str());
                    }
                    // The tree is made from the files on disk.
                    let disk = on_disk.get_or_insert_with(|| before.clone().unwrap_or_default());
                    self.write_changed(&merged, disk, brief)?;
                    let (tree, _) = self.tree(&repo, &mut cache)?;
                    // Every new state is a parent: merged, or the same as ours.
                    let mut parents: Vec<&str> = vec![commit.as_str()];
                    parents.extend(new.iter().map(String::as_str));
                    commit = plumbing::commit_tree(&repo, &tree, &parents, "coord: merged hubs")?;
                    files = Some(merged);
                }
            }
            if let (Some(f), Some(b)) = (&files, &before) {
                let disk = on_disk.get_or_insert_with(|| b.clone());
                self.write_changed(f, disk, brief)?;
            }
            plumbing::update_ref(&repo, &refs.local, &commit)?;
            let summary_behind = match plumbing::push(&repo, &refs, &published, &commit) {
                Ok(behind) => behind,
                Err(e) if retries < RETRIES && e.message.contains("rejected") => {
                    retries += 1;
                    cache.set_seen(&key, seen, &commit);
                    continue;
                }
                Err(e) => {
                    return Err(e.hint(format!(
                        "the merged hub is saved here and on {}; run `{}` again to push it",
                        refs.local,
                        command_line(&["sync", "--remote", remote])
                    )))
                }
            };
            let live: BTreeSet<String> = published.values().cloned().collect();
            seen.retain(|t| live.contains(t));
            cache.set_seen(&key, seen, &commit);
            cache.settle(self, &commit);
            cache.write(self)?;
            ignored.sort();
            ignored.dedup();
            if !ignored.is_empty() {
                self.warn(format!(
                    "left out of {remote}'s hub states, which only a hub's data may come from: {}",
                    ignored.join(", ")
                ));
            }
            let incoming = match (&before, &files) {
                (Some(b), Some(f)) => flow(b, f),
                _ => Flow::default(),
            };
            // What this clone brought of its own: its changes since it last
            // published (read cheaply: the hours it shares are not read).
            let outgoing = if local_changed {
                let now = match (&before, &files) {
                    (Some(b), _) => b.clone(),
                    (None, Some(f)) => f.clone(),
                    (None, None) => self.data_files()?,
                };
                let known = self.known(&now, &cache);
                let last = match published.get(&refs.own) {
                    Some(c) => read_hub(&repo, c, &known)?.files,
                    None => Files::new(),
                };
                flow(&last, &now)
            } else {
                Flow::default()
            };
            return Ok(Synced {
                remote: remote.to_string(),
                branch: branch.to_string(),
                incoming,
                outgoing,
                arbitrated,
                commit,
                retries,
                summary_behind,
                ignored,
            });
        }
    }

    /// Write the files of `files` that differ from `disk` (what the hub's
    /// files hold), and the briefing when any did; `disk` follows.
    fn write_changed(
        &self,
        files: &Files,
        disk: &mut Files,
        brief: &dyn Fn(&Hub, &Registry) -> Result<String>,
    ) -> Result<()> {
        let changed: Files = files
            .iter()
            .filter(|(name, bytes)| disk.get(*name) != Some(*bytes))
            .map(|(n, b)| (n.clone(), b.clone()))
            .collect();
        if !changed.is_empty() {
            self.write_files(&changed)?;
            self.write_briefing(files, brief)?;
            disk.extend(changed);
        }
        Ok(())
    }

    /// The briefing of the state in `files`, written here (never a peer's).
    fn write_briefing(&self, files: &Files, brief: &dyn Fn(&Hub, &Registry) -> Result<String>) -> Result<()> {
        if let Some(reg) = registry_of(files)? {
            let page = brief(self, &reg)?;
            fsio::write_atomic(&self.dir, STATE, page.as_bytes(), self.config.durability)?;
        }
        Ok(())
    }

    /// A tree of the hub as it is on disk (see `plumbing::tree`).
    fn tree(&self, repo: &Path, cache: &mut cache::Cache) -> Result<(String, plumbing::Data)> {
        let mut disk: Vec<String> = self
            .data_names()?
            .into_iter()
            .filter(|n| n != MESSAGES && n != EVENTS)
            .collect();
        if self.path(STATE).is_file() {
            disk.push(STATE.to_string());
        }
        let logs = vec![
            (MESSAGES, self.log_parts(cache, MESSAGES)?),
            (EVENTS, self.log_parts(cache, EVENTS)?),
        ];
        plumbing::tree(repo, &self.dir, cache, &disk, logs)
    }

    /// A log's segments: as the cache knows them when the file did not
    /// change, else cut from the file. A file out of segment order (a
    /// clock behind a line already there; a line that is not a record) is
    /// put in order first, with every read cursor moved to the same
    /// messages, so the branch and this hub read the same.
    fn log_parts(&self, cache: &cache::Cache, name: &'static str) -> Result<plumbing::LogParts> {
        if let Some(known) = cache.log_segments(&self.dir, name) {
            return Ok(plumbing::LogParts::Known(known));
        }
        let bytes = fsio::read_optional(&self.path(name))?.unwrap_or_default();
        let cut = segments::split(&bytes);
        if !cut.in_order {
            let joined = segments::join(cut.segments.values());
            if name == MESSAGES {
                self.move_cursors(&bytes, &joined)?;
            }
            fsio::write_atomic(&self.dir, name, &joined, self.config.durability)?;
        }
        Ok(plumbing::LogParts::Cut(cut.segments))
    }

    /// Every session's read state, from the message log `old` to the same
    /// messages in `new` (the lock is held).
    fn move_cursors(&self, old: &[u8], new: &[u8]) -> Result<()> {
        let (mut reg, _) = self.load_registry()?;
        let before = reg.sessions.clone();
        let none = std::collections::BTreeMap::new();
        crate::core::rules::reads::merge_reads(
            &files::merged_lines(&String::from_utf8_lossy(new)),
            &crate::core::rules::reads::Side {
                log: files::side_log(&String::from_utf8_lossy(old)),
                sessions: &before,
            },
            &crate::core::rules::reads::Side {
                log: Vec::new(),
                sessions: &none,
            },
            &mut reg.sessions,
        );
        let text = crate::core::model::sorted_json_pretty(&reg) + "\n";
        self.write_atomic(REGISTRY, text.as_bytes())
    }

    /// This clone's own log segments by blob id, so a remote state that
    /// shares them is not read again.
    fn known(&self, files: &Files, cache: &cache::Cache) -> super::incoming::Known {
        let mut known = super::incoming::Known::new();
        for log in [MESSAGES, EVENTS] {
            let Some(bytes) = files.get(log) else { continue };
            // The file as it was cut: its segments' blobs are known as they are.
            let as_cut = cache.log_segments(&self.dir, log);
            for (hour, seg) in segments::split(bytes).segments {
                let blob = match &as_cut {
                    Some(segs) => segs.get(&hour).cloned(),
                    None => cache.segment(&format!("{}/{hour}.jsonl", segments::folder(log)), &seg),
                };
                if let Some(blob) = blob {
                    known.insert(blob, seg);
                }
            }
        }
        known
    }

    /// A commit of the local hub on top of `parent`, or `parent` itself when
    /// its data is the same (the briefing alone changes with the clock).
    /// Files unchanged since the last sync are not hashed again.
    fn commit_local(&self, repo: &Path, cache: &mut cache::Cache, parent: Option<&str>) -> Result<String> {
        let names: Vec<String> = self.data_names()?;
        if let Some(p) = parent {
            if cache.unchanged(self, &names, p) {
                return Ok(p.to_string());
            }
        }
        let (tree, data) = self.tree(repo, cache)?;
        if let Some(p) = parent {
            if plumbing::data_of(repo, &[p])?.remove(0) == data {
                return Ok(p.to_string());
            }
        }
        let parents: Vec<&str> = parent.into_iter().collect();
        plumbing::commit_tree(repo, &tree, &parents, "coord: local hub")
    }

    /// The hub's data file names (relative to the hub).
    fn data_names(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = [REGISTRY, MESSAGES, EVENTS]
            .into_iter()
            .filter(|n| self.path(n).is_file())
            .map(str::to_string)
            .collect();
        for path in self
            .archive_files(MESSAGES)?
            .into_iter()
            .chain(self.archive_files(EVENTS)?)
        {
            if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                names.push(format!("{ARCHIVE_DIR}/{name}"));
            }
        }
        Ok(names)
    }
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
