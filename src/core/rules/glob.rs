//! File claims are globs relative to the repository root, and two claims
//! conflict when some path matches both. This module normalises a claimed
//! path (refusing anything that escapes the repository) and decides overlap
//! by searching the product of the two patterns' automata: exact, with no
//! sampling of paths.
//!
//! Syntax: `*` any run of characters within one path segment, `?` one such
//! character, `**` any run including `/`, and `**/` zero or more whole
//! directories. A plain path that names a directory (`src/` or `src`) is not
//! widened: claim `src/**` to claim a tree.

use crate::core::error::{usage, CoordError};

/// Normalise a claimed path: strip `./`, fold `//`, turn a trailing `/` into
/// `/**`, and refuse absolute paths and `..`.
pub fn normalize(path: &str) -> Result<String, CoordError> {
    let p = path.trim();
    let escape = || {
        usage(format!(
            "file claim {:?} escapes the repository; give a path relative to the repository root, such as src/auth/**",
            crate::core::text::clip(path, 80)
        ))
    };
    if p.starts_with('/') || p.starts_with('\\') || p.starts_with('~') || p.get(1..2) == Some(":") {
        return Err(escape());
    }
    let dir = p.ends_with('/');
    let mut parts = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err(escape()),
            s if s.contains('\\') => {
                return Err(usage(format!(
                    "file claim {:?} contains a backslash; use / between folders",
                    crate::core::text::clip(path, 80)
                )))
            }
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        if dir || p == "." {
            return Ok("**".to_string());
        }
        return Err(usage(
            "file claim is empty; give a path or glob relative to the repository root".to_string(),
        ));
    }
    let mut out = parts.join("/");
    if dir {
        out.push_str("/**");
    }
    Ok(out)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Label {
    Char(char),
    /// Any character but `/`.
    Segment,
    /// Any character at all.
    Any,
}

/// A tiny NFA: `edges[state]` are labelled moves, `eps[state]` free moves;
/// the last state accepts.
struct Nfa {
    edges: Vec<Vec<(Label, usize)>>,
    eps: Vec<Vec<usize>>,
}

impl Nfa {
    fn compile(glob: &str) -> Nfa {
        let chars: Vec<char> = glob.chars().collect();
        let mut edges: Vec<Vec<(Label, usize)>> = vec![Vec::new()];
        let mut eps: Vec<Vec<usize>> = vec![Vec::new()];
        let push = |edges: &mut Vec<Vec<(Label, usize)>>, eps: &mut Vec<Vec<usize>>| {
            edges.push(Vec::new());
            eps.push(Vec::new());
            edges.len() - 1
        };
        let mut cur = 0;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '*' && chars.get(i + 1) == Some(&'*') {
                let next = push(&mut edges, &mut eps);
                let at_segment_start = i == 0 || chars[i - 1] == '/';
                if at_segment_start && chars.get(i + 2) == Some(&'/') {
                    // `**/`: zero directories, or anything ending in `/`.
                    eps[cur].push(next);
                    let inner = push(&mut edges, &mut eps);
                    eps[cur].push(inner);
                    edges[inner].push((Label::Any, inner));
                    edges[inner].push((Label::Char('/'), next));
                    i += 3;
                } else {
                    edges[cur].push((Label::Any, cur));
                    eps[cur].push(next);
                    i += 2;
                }
                cur = next;
                continue;
            }
            let next = push(&mut edges, &mut eps);
            match c {
                '*' => {
                    edges[cur].push((Label::Segment, cur));
                    eps[cur].push(next);
                }
                '?' => edges[cur].push((Label::Segment, next)),
                c => edges[cur].push((Label::Char(c), next)),
            }
            cur = next;
            i += 1;
        }
        // Make the accepting state the last one.
        if cur != edges.len() - 1 {
            let end = push(&mut edges, &mut eps);
            eps[cur].push(end);
        }
        Nfa { edges, eps }
    }

    fn accept(&self) -> usize {
        self.edges.len() - 1
    }
}

/// The label both moves can read at once, if any.
fn meet(a: Label, b: Label) -> bool {
    match (a, b) {
        (Label::Char(x), Label::Char(y)) => x == y,
        (Label::Char(x), Label::Segment) | (Label::Segment, Label::Char(x)) => x != '/',
        _ => true,
    }
}

/// The characters every match of `glob` starts with.
pub fn literal_prefix(glob: &str) -> &str {
    &glob[..glob.find(['*', '?']).unwrap_or(glob.len())]
}

/// Whether some path matches both globs (both already normalised).
pub fn overlap(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    // Every match starts with its glob's literal prefix, so unless one prefix
    // extends the other no path matches both. This settles nearly every pair
    // of claims in a real hub without building an automaton.
    let (pa, pb) = (literal_prefix(a), literal_prefix(b));
    if !(pa.starts_with(pb) || pb.starts_with(pa)) {
        return false;
    }
    let (na, nb) = (Nfa::compile(a), Nfa::compile(b));
    let width = nb.edges.len();
    let mut seen = vec![false; na.edges.len() * width];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, j)) = stack.pop() {
        if std::mem::replace(&mut seen[i * width + j], true) {
            continue;
        }
        if i == na.accept() && j == nb.accept() {
            return true;
        }
        for &ni in &na.eps[i] {
            stack.push((ni, j));
        }
        for &nj in &nb.eps[j] {
            stack.push((i, nj));
        }
        for &(la, ni) in &na.edges[i] {
            for &(lb, nj) in &nb.edges[j] {
                if meet(la, lb) {
                    stack.push((ni, nj));
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalising() {
        assert_eq!(normalize("./src//auth/").unwrap(), "src/auth/**");
        assert_eq!(normalize("src/*.rs").unwrap(), "src/*.rs");
        assert_eq!(normalize("./").unwrap(), "**");
        for bad in [
            "/etc/passwd",
            "../x",
            "src/../../x",
            "a/./../b",
            "~/x",
            "C:/x",
            "",
            "a\\b",
        ] {
            assert!(normalize(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overlapping_globs() {
        let yes = [
            ("src/main.rs", "src/main.rs"),
            ("src/**", "src/main.rs"),
            ("src/**", "src/a/b/c.rs"),
            ("src/*.rs", "src/main.rs"),
            ("src/*.rs", "src/m*"),
            ("**/*.rs", "main.rs"),
            ("**/*.rs", "src/a/x.rs"),
            ("src/**/test.rs", "src/test.rs"),
            ("src/?.rs", "src/a.rs"),
            ("**", "anything/at/all"),
            ("src/*/mod.rs", "src/**"),
            ("*.md", "README*"),
        ];
        for (a, b) in yes {
            assert!(overlap(a, b), "{a} ~ {b}");
            assert!(overlap(b, a), "{b} ~ {a}");
        }
        let no = [
            ("src/main.rs", "src/lib.rs"),
            ("src/*.rs", "src/a/b.rs"),
            ("src/**", "tests/x.rs"),
            ("*.rs", "src/main.rs"),
            ("src/?.rs", "src/ab.rs"),
            ("docs/*.md", "docs/*.txt"),
            ("src/*/mod.rs", "src/a/b/mod.rs"),
        ];
        for (a, b) in no {
            assert!(!overlap(a, b), "{a} !~ {b}");
            assert!(!overlap(b, a), "{b} !~ {a}");
        }
    }
}
