//! `coord send`: message a session, @role or broadcast.

use std::io::Read;

use crate::app::send::{send, SendRequest};
use crate::app::Ctx;
use crate::cli::ui::Ui;
use crate::core::error::{failure, usage, Result};

/// Message a session, @role or broadcast
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A session id, @ROLE (every live session with that role) or broadcast
    pub to: String,
    /// One line, up to 200 characters
    #[arg(allow_hyphen_values = true)]
    pub subject: String,
    /// The body (default: none); `-` reads it from stdin
    #[arg(allow_hyphen_values = true)]
    pub body: Option<String>,
    /// info (the default), warning, error, critical (tracked until acknowledged) or emergency (shown on every command until resolved)
    #[arg(long, default_value = "info")]
    pub level: String,
    /// The id of the message this answers (default: none)
    #[arg(long, value_name = "ID")]
    pub reply_to: Option<String>,
}

pub fn run(ui: &Ui, ctx: &Ctx, args: &Args) -> Result<()> {
    let body = match args.body.as_deref() {
        Some("-") => {
            // One byte over the limit is enough for the core to refuse it.
            let mut buf = Vec::new();
            std::io::stdin()
                .take(ctx.hub.config.max_body as u64 + 1)
                .read_to_end(&mut buf)
                .map_err(|e| failure(format!("cannot read the body from stdin: {e}")))?;
            String::from_utf8(buf).map_err(|_| usage("the body on stdin is not UTF-8 text; send text"))?
        }
        Some(b) => b.to_string(),
        None => String::new(),
    };
    let report = send(
        ctx,
        &SendRequest {
            to: args.to.clone(),
            subject: args.subject.clone(),
            body,
            level: Some(args.level.clone()),
            reply_to: args.reply_to.clone(),
        },
    )?;
    if ui.report(&report)? {
        return Ok(());
    }
    let m = &report.message;
    let who = match &m.recipients {
        None => "everyone".to_string(),
        Some(list) => list.join(", "),
    };
    ui.status(&format!("sent {} to {who}", m.level.as_str()));
    ui.out(&format!("{}\n", m.id))
}
