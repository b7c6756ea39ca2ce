//! The terminal side of the CLI, and the only code that prints: data on
//! stdout (text, or one JSON object with the schema version), status and
//! errors on stderr, colour decided in one place, tables with borders on a
//! terminal and stable plain text everywhere else.

use std::io::{IsTerminal, Write};

use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;

use crate::app::Notices;
use crate::core::error::{failure, CoordError, Result};
use crate::core::model::SCHEMA;
use crate::core::text::{command_line, is_unsafe_char, sanitize};

/// The reader went away (a closed pipe): stop, quietly, with success.
const STDOUT_CLOSED: &str = "stdout was closed by its reader";

/// How `--json` lays out its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum JsonStyle {
    /// Indented on a terminal, one line otherwise.
    Auto,
    Compact,
    Pretty,
}

/// Where the CLI's output goes: the process's own streams, or buffers (the
/// scripted day shows each command's output and errors in its transcript).
#[derive(Debug, Clone, Default)]
pub enum Console {
    #[default]
    Std,
    Buffer(std::rc::Rc<std::cell::RefCell<Captured>>),
}

/// What a command printed, when captured.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    pub stdout: String,
    pub stderr: String,
    /// The command's report as its `--json` object, also kept when the
    /// text was printed (the MCP server returns both).
    pub structured: Option<serde_json::Value>,
}

impl Captured {
    /// What the command printed, stdout then stderr, trimmed.
    pub fn text(&self) -> String {
        [self.stdout.trim_end(), self.stderr.trim_end()]
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Console {
    pub fn err_line(&self, line: &str) {
        match self {
            Console::Std => eprintln!("{line}"),
            Console::Buffer(b) => {
                let mut b = b.borrow_mut();
                b.stderr.push_str(line);
                b.stderr.push('\n');
            }
        }
    }

    fn out(&self, text: &str) -> std::io::Result<()> {
        match self {
            Console::Std => {
                let mut out = std::io::stdout().lock();
                out.write_all(text.as_bytes()).and_then(|_| out.flush())
            }
            Console::Buffer(b) => {
                b.borrow_mut().stdout.push_str(text);
                Ok(())
            }
        }
    }
}

/// A report with `"schema"` added.
#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    #[serde(flatten)]
    report: &'a T,
    schema: u32,
}

impl<'a, T: Serialize> Envelope<'a, T> {
    fn new(report: &'a T) -> Self {
        Envelope {
            report,
            schema: SCHEMA,
        }
    }
}

/// How this command prints, settled once from flags and the environment.
#[derive(Debug, Clone, Default)]
pub struct Ui {
    pub console: Console,
    pub json: bool,
    /// Indented JSON (else one line per object).
    pub pretty: bool,
    /// The `--json` style asked for.
    pub style: Option<JsonStyle>,
    pub quiet: bool,
    /// ANSI colour: stdout is a terminal and `NO_COLOR` is unset.
    pub color: bool,
    /// Tables with borders (stdout is a terminal).
    pub tty: bool,
    /// The terminal's width for tables (default: asked of the terminal).
    pub width: Option<u16>,
}

impl Ui {
    pub fn detect(json: Option<JsonStyle>, quiet: bool, console: Console) -> Ui {
        let tty = matches!(console, Console::Std) && std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Ui {
            console,
            json: json.is_some(),
            pretty: json == Some(JsonStyle::Pretty) || (json == Some(JsonStyle::Auto) && tty),
            quiet,
            width: None,
            color: tty && !no_color && json.is_none(),
            style: json,
            tty,
        }
    }

    /// A status line on stderr, unless `--quiet` or `--json`.
    /// Lines on stderr carry names and text from the hub, so they are
    /// sanitised here, at the boundary.
    pub fn status(&self, line: &str) {
        if !self.quiet && !self.json {
            self.console.err_line(&sanitize(line, false));
        }
    }

    /// A line on stderr that shows even with `--quiet`.
    pub fn alert(&self, line: &str) {
        self.console.err_line(&sanitize(line, false));
    }

    pub fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// Text on stdout. A closed pipe (`coord status --watch | head -1`)
    /// stops the command, and is a quiet success (see `error`).
    pub fn out(&self, text: &str) -> Result<()> {
        match self.console.out(text) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(failure(STDOUT_CLOSED)),
            Err(e) => Err(failure(format!("cannot write to stdout: {e}"))),
            Ok(()) => Ok(()),
        }
    }

    /// A command's report: printed as JSON with `--json` (true: the command
    /// is done), else kept beside the captured text when the output is
    /// captured, and the command goes on to print its text (false).
    pub fn report<T: Serialize>(&self, report: &T) -> Result<bool> {
        if self.json {
            self.json(report)?;
            return Ok(true);
        }
        if let Console::Buffer(b) = &self.console {
            b.borrow_mut().structured = serde_json::to_value(Envelope::new(report)).ok();
        }
        Ok(false)
    }

    /// `report` as one JSON object with `"schema"` added.
    pub fn json<T: Serialize>(&self, report: &T) -> Result<()> {
        let envelope = Envelope::new(report);
        let text = if self.pretty {
            serde_json::to_string_pretty(&envelope)
        } else {
            serde_json::to_string(&envelope)
        }
        .map_err(|e| failure(format!("cannot write JSON: {e}")))?;
        self.out(&(json_safe(&text) + "\n"))
    }

    /// One record as one compact JSON line, without the envelope (streams
    /// such as `coord log --json`).
    pub fn json_line<T: Serialize>(&self, record: &T) -> Result<()> {
        let text = serde_json::to_string(record).map_err(|e| failure(format!("cannot write JSON: {e}")))?;
        self.out(&(json_safe(&text) + "\n"))
    }

    /// What a session must see after any command: emergencies it has not
    /// acknowledged (even with --quiet: the one thing it must not miss), and
    /// warnings.
    pub fn notices(&self, n: &Notices) {
        for w in &n.warnings {
            self.alert(&format!("warning: {w}"));
        }
        for e in &n.ending {
            let left = crate::core::clock::short_duration(chrono::Duration::seconds(e.seconds_left));
            self.alert(&format!(
                "warning: your claim {} ends in {left}; renew it with `{}`",
                e.key,
                command_line(&["renew", "--all"])
            ));
        }
        for e in &n.emergencies {
            self.alert(&e.describe());
        }
    }

    /// An error as one line on stderr (and as JSON on stdout with `--json`);
    /// returns its exit code.
    pub fn error(&self, err: &CoordError) -> i32 {
        if err.message == STDOUT_CLOSED {
            return 0;
        }
        // One line, whatever a tool it ran wrote (git's messages span
        // lines): its lines joined, never a literal escape for a newline.
        let text = format!("error: {err}");
        let text: Vec<&str> = text
            .split(['\n', '\r'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        self.alert(&text.join("; "));
        if self.json {
            #[derive(Serialize)]
            struct ErrorReport<'a> {
                error: ErrorBody<'a>,
            }
            #[derive(Serialize)]
            struct ErrorBody<'a> {
                code: i32,
                kind: &'static str,
                message: &'a str,
                #[serde(skip_serializing_if = "Option::is_none")]
                hint: Option<String>,
                #[serde(skip_serializing_if = "<[String]>::is_empty")]
                hints: &'a [String],
                #[serde(skip_serializing_if = "Option::is_none")]
                details: Option<&'a serde_json::Value>,
            }
            let _ = self.json(&ErrorReport {
                error: ErrorBody {
                    code: err.kind.code(),
                    kind: err.kind.name(),
                    message: &err.message,
                    hint: err.hint_text(),
                    hints: &err.hints,
                    details: err.details.as_ref(),
                },
            });
        }
        err.kind.code()
    }

    /// A table: borders on a terminal (comfy-table), plain aligned columns
    /// otherwise: stable bytes, two spaces between columns, no trailing
    /// spaces, no dependence on the terminal's width.
    pub fn table(&self, header: &[&str], rows: Vec<Vec<String>>) -> String {
        self.table_colored(header, rows, |_, _| None)
    }

    /// `table`, with `color(column, text)` choosing a colour for a cell when
    /// colour is on (comfy-table measures styled cells; raw escape codes in
    /// the text would count as width).
    pub fn table_colored(
        &self,
        header: &[&str],
        rows: Vec<Vec<String>>,
        color: impl Fn(&str, &str) -> Option<comfy_table::Color>,
    ) -> String {
        if self.tty {
            let mut t = Table::new();
            // Outer borders only, and one line a row: a cell too long for
            // the terminal is cut with "..." instead of wrapped mid-word.
            t.load_preset(presets::UTF8_BORDERS_ONLY)
                .set_content_arrangement(ContentArrangement::Dynamic)
                .set_header(header.to_vec());
            if let Some(width) = self.width {
                t.set_width(width);
            }
            for row in rows {
                let mut row = comfy_table::Row::from(row.into_iter().zip(header).map(|(text, column)| {
                    let paint = if self.color { color(column, &text) } else { None };
                    let cell = comfy_table::Cell::new(text);
                    match paint {
                        Some(c) => cell.fg(c),
                        None => cell,
                    }
                }));
                row.max_height(1);
                t.add_row(row);
            }
            return t.to_string() + "\n";
        }
        plain_table(header, &rows)
    }
}

/// JSON with every unsafe character (see `is_unsafe_char`) written as a
/// `\uXXXX` escape: the same data for a parser, nothing hidden or live for a
/// terminal. serde_json already escapes controls below U+0020 inside
/// strings, so a raw newline is layout; every other such character can only
/// occur inside a string, where the escape is valid.
fn json_safe(text: &str) -> String {
    // Every unsafe character is DEL or above, or a control below a space
    // (and serde_json leaves only layout newlines there): plain ASCII output,
    // the usual case, needs no pass.
    if text.bytes().all(|b| (b' '..0x7f).contains(&b) || b == b'\n') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe_char(c) && c != '\n' {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn plain_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut s = String::new();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header).chain(rows.iter()) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

/// An optional field from the hub, sanitised for a terminal cell.
pub fn cell(v: &Option<String>) -> String {
    v.as_deref().map(|s| sanitize(s, false)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_hides_nothing_and_changes_no_data() {
        let raw = serde_json::to_string(&"a\u{202e}b\u{1b}c\u{e0041}").unwrap();
        let safe = json_safe(&raw);
        assert_eq!(safe, "\"a\\u202eb\\u001bc\\udb40\\udc41\"");
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "a\u{202e}b\u{1b}c\u{e0041}");
    }

    #[test]
    fn a_bordered_table_fits_eighty_columns_one_line_a_row() {
        let ui = Ui {
            tty: true,
            width: Some(80),
            ..Ui::default()
        };
        let row = |id: &str| {
            vec![
                format!("{id} (you)"),
                "active".into(),
                "just now".into(),
                "backend: authentication service".into(),
                "implementing".into(),
                "refresh-token-rotation".into(),
                "build".into(),
                "40%".into(),
            ]
        };
        let t = ui.table(
            &[
                "SESSION", "STATE", "SEEN", "ROLE", "ACTION", "TARGET", "PHASE", "DONE",
            ],
            vec![row("alice-the-backend-engineer"), row("bob")],
        );
        for line in t.lines() {
            assert!(line.chars().count() <= 80, "{line}");
        }
        // Header, two rows, borders and the header separator: no wrapped lines.
        assert_eq!(t.lines().count(), 6, "{t}");
        assert!(!t.contains("implementi\n"), "{t}");
    }

    #[test]
    fn plain_tables_are_stable() {
        let t = Ui::default().table(
            &["A", "BB"],
            vec![vec!["x".into(), "".into()], vec!["long".into(), "y".into()]],
        );
        assert_eq!(t, "A     BB\nx\nlong  y\n");
    }
}
