//! The context every command runs in, settled once before it runs: the hub,
//! the clock, how to print, and what the environment says about identity.

use std::cell::RefCell;
use std::path::PathBuf;

use crate::clock::{self, Time};
use crate::error::CoordError;
use crate::identity::{self, Hints};
use crate::model::{Bindings, Level, Registry};
use crate::render::{sanitize, Out};
use crate::rules::state;
use crate::store::{self, Hub, Tx, BINDINGS};

pub struct Ctx {
    pub now: Time,
    pub out: Out,
    pub cwd: PathBuf,
    pub hints: Hints,
    pub hub_flag: Option<PathBuf>,
    pub hub_env: Option<String>,
    hub: Option<Hub>,
    /// Emergencies the acting session has not acknowledged, printed on
    /// stderr when the command ends (whatever it was).
    banner: RefCell<Vec<(String, String, String)>>,
}

impl Ctx {
    pub fn new(hub_flag: Option<PathBuf>, session: Option<String>, out: Out) -> anyhow::Result<Ctx> {
        let cwd = std::env::current_dir().map_err(|e| {
            CoordError::new(
                crate::error::Kind::Failure,
                format!("cannot read the current folder: {e}"),
            )
        })?;
        Ok(Ctx {
            now: clock::now_from_env()?,
            out,
            cwd,
            hints: Hints::from_env(session),
            hub_flag,
            hub_env: std::env::var("COORD_HUB").ok(),
            hub: None,
            banner: RefCell::new(Vec::new()),
        })
    }

    /// Find and open the hub (every command but `init`).
    /// `lenient` opens it even with broken settings (for `doctor`).
    pub fn open_hub(&mut self, lenient: bool) -> anyhow::Result<()> {
        let dir = store::locate(
            self.hub_flag.as_deref(),
            self.hub_env.as_deref(),
            &self.cwd,
            false,
        )?;
        self.hub = Some(if lenient {
            Hub::open_lenient(&dir)?
        } else {
            Hub::open(&dir)?
        });
        Ok(())
    }

    pub fn hub(&self) -> &Hub {
        match &self.hub {
            Some(h) => h,
            // `run` opens the hub before any command that calls this.
            None => unreachable!("hub used before it was opened"),
        }
    }

    /// The acting session inside a transaction.
    pub fn me_tx(&self, tx: &mut Tx) -> anyhow::Result<String> {
        let bindings = if self.needs_bindings() {
            tx.bindings()?.clone()
        } else {
            Bindings::default()
        };
        self.me_in(&tx.reg, &bindings)
    }

    /// The acting session for a read-only command.
    pub fn me_read(&self, reg: &Registry) -> anyhow::Result<String> {
        let bindings = if self.needs_bindings() {
            self.hub().read_json::<Bindings>(BINDINGS)?.unwrap_or_default()
        } else {
            Bindings::default()
        };
        self.me_in(reg, &bindings)
    }

    fn needs_bindings(&self) -> bool {
        self.hints.flag.is_none() && self.hints.env.is_none()
    }

    fn me_in(&self, reg: &Registry, bindings: &Bindings) -> anyhow::Result<String> {
        let me = identity::resolve(reg, bindings, &self.hints, self.now, &self.hub().config)?;
        self.prepare_banner(reg, &me);
        Ok(me)
    }

    fn prepare_banner(&self, reg: &Registry, me: &str) {
        let mut banner = self.banner.borrow_mut();
        banner.clear();
        for (id, e) in &reg.escalations {
            if e.level == Level::Emergency && e.addressed_to(me) && !e.acked.contains_key(me) {
                banner.push((id.clone(), e.from.clone(), e.subject.clone()));
            }
        }
    }

    /// Forget a banner line (the command just acknowledged it).
    pub fn clear_banner(&self, id: &str) {
        self.banner.borrow_mut().retain(|(i, _, _)| i != id);
    }

    /// Print unacknowledged emergencies on stderr. Shown even with --quiet:
    /// an emergency is the one thing a session must not miss.
    pub fn flush_banner(&self) {
        for (id, from, subject) in self.banner.borrow().iter() {
            eprintln!(
                "EMERGENCY {id} from {from}: {}; acknowledge with `coord ack {id}` (or `coord ack {id} --resolve` once it is dealt with)",
                sanitize(subject, false)
            );
        }
    }

    /// Whether a session id exists and is live (for recipients).
    pub fn live(&self, reg: &Registry, id: &str) -> bool {
        reg.sessions
            .get(id)
            .is_some_and(|s| state(s, self.now, &self.hub().config).is_live())
    }
}
