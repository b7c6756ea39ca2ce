//! Output: one `print_json` with the schema version, tables for terminals and
//! stable plain text for everything else, colour decided in one place, and
//! sanitising of text that came from other sessions.

use std::io::{IsTerminal, Write};

use comfy_table::{presets, ContentArrangement, Table};
use serde::Serialize;

use crate::model::SCHEMA;

/// How this command prints, settled once from flags and the environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Out {
    pub json: bool,
    pub quiet: bool,
    /// ANSI colour: stdout is a terminal and `NO_COLOR` is unset.
    pub color: bool,
    /// Tables with borders (stdout is a terminal).
    pub tty: bool,
}

impl Out {
    pub fn detect(json: bool, quiet: bool) -> Out {
        let tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Out {
            json,
            quiet,
            color: tty && !no_color && !json,
            tty,
        }
    }

    /// A status line on stderr, unless `--quiet` or `--json`.
    pub fn status(&self, line: &str) {
        if !self.quiet && !self.json {
            eprintln!("{line}");
        }
    }

    pub fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Print `report` as one JSON object with `"schema"` added.
pub fn print_json<T: Serialize>(report: &T) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct Envelope<'a, T: Serialize> {
        #[serde(flatten)]
        report: &'a T,
        schema: u32,
    }
    let mut text = serde_json::to_string_pretty(&Envelope {
        report,
        schema: SCHEMA,
    })?;
    text.push('\n');
    write_stdout(&text)
}

/// Write to stdout; a closed pipe (`coord status | head`) is not an error.
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Text from other sessions, made safe for a terminal: control characters
/// (escape sequences above all) become visible `\u{..}` escapes. Newlines
/// and tabs survive only when `multiline`.
pub fn sanitize(text: &str, multiline: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && !(multiline && (c == '\n' || c == '\t')) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// At most `max` characters, with an ellipsis when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(3)).collect();
        s.push_str("...");
        s
    }
}

/// A table: borders on a terminal (comfy-table), plain aligned columns
/// otherwise: stable bytes, two spaces between columns, no trailing spaces,
/// no dependence on the terminal's width.
pub fn table(out: &Out, header: &[&str], rows: Vec<Vec<String>>) -> String {
    table_colored(out, header, rows, |_, _| None)
}

/// `table`, with `color(column, text)` choosing a colour for a cell when
/// colour is on (comfy-table measures styled cells; raw escape codes in the
/// text would count as width).
pub fn table_colored(
    out: &Out,
    header: &[&str],
    rows: Vec<Vec<String>>,
    color: impl Fn(&str, &str) -> Option<comfy_table::Color>,
) -> String {
    if out.tty {
        let mut t = Table::new();
        t.load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(header.to_vec());
        for row in rows {
            t.add_row(row.into_iter().zip(header).map(|(text, column)| {
                let paint = if out.color { color(column, &text) } else { None };
                let cell = comfy_table::Cell::new(text);
                match paint {
                    Some(c) => cell.fg(c),
                    None => cell,
                }
            }));
        }
        return t.to_string() + "\n";
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
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

/// `[####------] 40%`
pub fn progress_bar(progress: Option<u8>) -> String {
    match progress {
        None => String::new(),
        Some(p) => {
            let filled = (p as usize + 5) / 10;
            format!("[{}{}] {p}%", "#".repeat(filled), "-".repeat(10 - filled))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizing_hostile_text() {
        assert_eq!(sanitize("a\x1b[31mred", false), "a\\u{1b}[31mred");
        assert_eq!(sanitize("two\nlines", false), "two\\u{a}lines");
        assert_eq!(sanitize("two\nlines\t", true), "two\nlines\t");
        assert_eq!(sanitize("bell\x07", true), "bell\\u{7}");
    }

    #[test]
    fn plain_tables_are_stable() {
        let out = Out::default();
        let t = table(
            &out,
            &["A", "BB"],
            vec![vec!["x".into(), "".into()], vec!["long".into(), "y".into()]],
        );
        assert_eq!(t, "A     BB\nx\nlong  y\n");
    }

    #[test]
    fn bars() {
        assert_eq!(progress_bar(Some(40)), "[####------] 40%");
        assert_eq!(progress_bar(Some(100)), "[##########] 100%");
        assert_eq!(progress_bar(Some(0)), "[----------] 0%");
        assert_eq!(progress_bar(None), "");
    }
}
