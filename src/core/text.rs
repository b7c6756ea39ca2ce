//! Text helpers every layer may use: making text from other sessions safe
//! for a terminal or a Markdown page, clipping, and quoting the arguments of
//! the command lines coord prints. A leaf module: it imports nothing of coord.

/// Characters that must never reach a reader raw: controls (C0, DEL, C1:
/// escape sequences), format characters (Unicode category Cf: bidi
/// overrides and isolates, zero-width spaces and joiners, the BOM, soft
/// hyphen...), and the line and paragraph separators.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}' || is_format(c)
}

/// Unicode general category Cf (Format), as of Unicode 15.
fn is_format(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// Text from the hub (other sessions, peers, hand edits), made safe for a
/// reader: every unsafe character (see [`is_unsafe_char`]) becomes a
/// visible `\u{..}` escape, so no escape sequence, bidi trick or hidden
/// character reaches a terminal, a page or an agent's context. Newlines and
/// tabs survive only when `multiline`. The one function every printer uses.
pub fn sanitize(text: &str, multiline: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe_char(c) && !(multiline && (c == '\n' || c == '\t')) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// One argument quoted for a POSIX shell: bare when it is made only of
/// characters no shell treats specially, else in single quotes (a quote
/// inside becomes `'\''`). `sh -c` of the result passes exactly `arg`.
pub fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

/// `coord ARGS...` with every argument quoted: a command line that, run by
/// a shell, runs only coord with exactly these arguments.
pub fn command_line(args: &[&str]) -> String {
    format!("coord {}", shell_line(args))
}

/// Every word quoted for a POSIX shell, joined by spaces (for the git
/// commands coord names; coord's own go through `command_line`).
pub fn shell_line(words: &[&str]) -> String {
    words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" ")
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

/// Escape user text for a Markdown table cell: one line, no markup, no HTML,
/// no link. Backslash escapes stop every inline construct (with `<` and `[`
/// escaped no tag or link can open, so `>`, `!` and `(` stay readable).
/// GitHub also turns bare `www.`, `http://` and `a@b.c` into links, after
/// escapes are read; an empty HTML comment (which renders as nothing) splits
/// those words so no link forms.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '|' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            ':' if chars[i + 1..].starts_with(&['/', '/']) => out.push_str("<!-- -->:"),
            '@' if i > 0 && chars[i - 1].is_alphanumeric() => out.push_str("<!-- -->@"),
            '.' if i >= 3
                && chars[i - 3..i]
                    .iter()
                    .collect::<String>()
                    .eq_ignore_ascii_case("www") =>
            {
                out.push_str("<!-- -->.")
            }
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `task:auth` -> `task auth`: the arguments of `coord claim` for a key,
/// quoted.
pub fn claim_args(key: &str) -> String {
    let (kind, name) = key.split_once(':').unwrap_or(("task", key));
    format!("{} {}", shell_quote(kind), shell_quote(name))
}

/// The candidate closest to `word` by edit distance, when it is close (at
/// most 2 edits, and fewer than half the word): "did you mean bob?".
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = 2.min(word.chars().count().saturating_sub(1) / 2 + 1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
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
        assert_eq!(sanitize("c1\u{9b}31m", false), "c1\\u{9b}31m");
        assert_eq!(sanitize("evil\u{202e}txt.exe", false), "evil\\u{202e}txt.exe");
        assert_eq!(sanitize("zero\u{200b}width", true), "zero\\u{200b}width");
        assert_eq!(sanitize("line\u{2028}sep", true), "line\\u{2028}sep");
        assert_eq!(sanitize("tag\u{e0041}", false), "tag\\u{e0041}");
        assert_eq!(sanitize("naïve café", false), "naïve café");
    }

    #[test]
    fn quoting_for_a_shell() {
        assert_eq!(shell_quote("alice"), "alice");
        assert_eq!(shell_quote("src/**"), "'src/**'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$(touch x)"), "'$(touch x)'");
        assert_eq!(
            command_line(&["send", "bob", "may I?"]),
            "coord send bob 'may I?'"
        );
    }

    #[test]
    fn no_links_on_a_page() {
        for link in [
            "https://evil.example/x",
            "WWW.evil.example",
            "mail me@evil.example",
        ] {
            let cell = md(link);
            assert!(
                !cell.contains("https://") && !cell.to_lowercase().contains("www.") && !cell.contains("me@"),
                "{cell}"
            );
        }
        assert_eq!(md("version 1.2 at 10:30"), "version 1.2 at 10:30");
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
            // Our own empty comments (which split autolinks) aside.
            let cell = md(h).replace("<!-- -->", "");
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
    fn close_names() {
        let names = ["alice", "bob", "carol"];
        assert_eq!(closest("bbo", names), Some("bob"));
        assert_eq!(closest("alcie", names), Some("alice"));
        assert_eq!(closest("zed", names), None);
        assert_eq!(closest("x", names), None);
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
        assert_eq!(claim_args("task:a;b"), "task 'a;b'");
    }
}
