//! Text helpers every layer may use: making text from other sessions safe
//! for a terminal or a Markdown table, clipping, and quoting a word for the
//! command lines coord prints. A leaf module: it imports nothing of coord.

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

/// Escape user text for a Markdown table cell: one line, no markup, no HTML.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            // Enough to stop every inline construct: with `<` and `[` escaped
            // no tag or link can open, so `>`, `!` and `(` stay readable.
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `task:auth` -> `task auth` for a command line (the name quoted when it
/// holds spaces or shell syntax).
pub fn claim_args(key: &str) -> String {
    let (kind, name) = key.split_once(':').unwrap_or(("task", key));
    if name.chars().any(|c| c.is_whitespace() || "\"'$`\\*?".contains(c)) {
        format!("{kind} '{}'", name.replace('\'', "'\\''"))
    } else {
        format!("{kind} {name}")
    }
}

/// "1 message", "2 messages".
pub fn counted(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// `[####------] 40%`
pub fn progress_bar(progress: Option<u8>) -> String {
    match progress {
        None => String::new(),
        Some(p) => {
            let filled = (p.min(100) as usize + 5) / 10;
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
    fn hostile_text_cannot_escape_a_cell() {
        let hostile = [
            "a | b",
            "line\nbreak",
            "`code`",
            "<script>alert(1)</script>",
            "**bold** _em_ [link](http://x) ![img](y)",
            "\\| escaped pipe",
            "&lt; entity",
            "# heading",
            "\u{1b}[31mred",
        ];
        for h in hostile {
            let cell = md(h);
            assert!(!cell.contains('\n'), "{cell}");
            // Every pipe, backtick and angle bracket is escaped.
            let bytes: Vec<char> = cell.chars().collect();
            for (i, c) in bytes.iter().enumerate() {
                if matches!(c, '|' | '`' | '<' | '*' | '[' | '&') {
                    let backslashes = bytes[..i].iter().rev().take_while(|b| **b == '\\').count();
                    assert!(backslashes % 2 == 1, "unescaped {c} in {cell}");
                }
            }
            assert!(!cell.contains('\u{1b}'));
        }
    }

    #[test]
    fn bars() {
        assert_eq!(progress_bar(Some(40)), "[####------] 40%");
        assert_eq!(progress_bar(Some(100)), "[##########] 100%");
        assert_eq!(progress_bar(Some(0)), "[----------] 0%");
        assert_eq!(progress_bar(None), "");
    }

    #[test]
    fn clipping_and_claim_args() {
        assert_eq!(clip("abcdef", 5), "ab...");
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(claim_args("task:auth"), "task auth");
        assert_eq!(claim_args("file:src/**"), "file 'src/**'");
    }
}
