//! Undoes what clients wrap around a plan: psql's `QUERY PLAN` header, rules and
//! `(N rows)` footer, table borders (ASCII and Unicode, `\pset border 0–2`), `+`
//! continuation marks, pgAdmin-style quotes around every line, DBeaver's trailing `|`,
//! echoed commands, and lines a terminal wrapped in the middle of a node.

use std::borrow::Cow;

/// Frame characters that make up a rule or a border.
fn is_frame_char(c: char) -> bool {
    matches!(
        c,
        '-' | '+'
            | '='
            | '|'
            | '─'
            | '━'
            | '═'
            | '│'
            | '┃'
            | '║'
            | '┌'
            | '┐'
            | '└'
            | '┘'
            | '├'
            | '┤'
            | '┬'
            | '┴'
            | '┼'
            | '╔'
            | '╗'
            | '╚'
            | '╝'
            | '╠'
            | '╣'
            | '╦'
            | '╩'
            | '╬'
            | '╒'
            | '╕'
            | '╘'
            | '╛'
            | '╞'
            | '╡'
            | '╤'
            | '╧'
            | '╪'
            | '╓'
            | '╖'
            | '╙'
            | '╜'
            | '╟'
            | '╢'
            | '╥'
            | '╨'
            | '╫'
    )
}

fn is_rule(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && t.chars().all(|c| is_frame_char(c) || c == ' ')
}

fn is_border(c: char) -> bool {
    matches!(c, '|' | '│' | '┃' | '║')
}

fn is_footer(t: &str) -> bool {
    let t = t.trim();
    t.starts_with('(')
        && (t.ends_with(" rows)") || t.ends_with(" row)"))
        && t[1..]
            .split(' ')
            .next()
            .is_some_and(|n| n.parse::<u64>().is_ok())
}

/// Whether `s` contains `(` followed by one of `words` (`(cost=`): one byte search for
/// `(` instead of a substring searcher built per word and line (this runs for every
/// line of every logged plan).
pub(super) fn paren_word(s: &str, words: &[&str]) -> bool {
    let b = s.as_bytes();
    memchr::memchr_iter(b'(', b).any(|i| words.iter().any(|w| b[i + 1..].starts_with(w.as_bytes())))
}

/// `(` minus `)` outside single-quoted strings.
fn paren_balance(s: &str) -> i32 {
    let mut depth = 0;
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            _ => {}
        }
    }
    depth
}

pub fn unframe(text: &str) -> String {
    // (line, whether it ended in white space before trimming: a wrap point).
    let mut lines: Vec<(Cow<str>, bool)> = Vec::new();
    let bordered = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !is_rule(l))
        .take(3)
        .all(|l| l.trim_start().starts_with(is_border));
    // pgAdmin and spreadsheets copy every row as a quoted string (single or double
    // quotes, sometimes only the closing one); a JSON plan has quoted lines too, but not
    // all of them.
    let rows: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let quote = ['"', '\''].into_iter().find(|q| {
        !rows.is_empty()
            && rows.iter().all(|l| l.ends_with(*q) && l.len() >= 2)
            && !rows
                .iter()
                .any(|l| l.ends_with("\",") || l.ends_with("\": \""))
    });
    let quoted_rows = quote.is_some();
    // Slices of `text` until a line must change (quoted rows): this runs for every
    // auto_explain plan of a log.
    for raw in text.lines() {
        let mut l = raw.trim_end_matches(['\r']);
        if is_rule(l) {
            continue;
        }
        if bordered {
            // `│ Seq Scan … │`: drop the border and the one padding space after it.
            let t = l.trim_start();
            if let Some(c) = t.chars().next().filter(|c| is_border(*c)) {
                let rest = &t[c.len_utf8()..];
                l = rest.strip_prefix(' ').unwrap_or(rest);
            }
        }
        let trailing_space = l.ends_with([' ', '\t']);
        // The mysql client prints a tree plan as one multi-line cell: `| -> Limit …`.
        if let Some(rest) = l.trim_start().strip_prefix("| ")
            && (rest.trim_start().starts_with("-> ")
                || rest.trim_end().trim_end_matches('|').trim() == "EXPLAIN")
        {
            l = rest;
        }
        let mut t = l.trim_end();
        if let Some(c) = t.chars().last().filter(|c| is_border(*c)) {
            t = t[..t.len() - c.len_utf8()].trim_end();
        }
        // psql's continuation mark at the end of a multi-line cell (`↵` with
        // `\pset linestyle unicode`).
        if let Some(rest) = t.strip_suffix('↵') {
            t = rest.trim_end();
        } else if t.ends_with('+') && !t.ends_with("++") {
            t = t[..t.len() - 1].trim_end();
        }
        let t: Cow<str> = match quote.filter(|_| quoted_rows) {
            Some(q) => {
                let body = t.trim_start();
                let indent = t.len() - body.len();
                let body = body.strip_prefix(q).unwrap_or(body);
                let body = body.strip_suffix(q).unwrap_or(body);
                Cow::Owned(format!("{}{body}", " ".repeat(indent)))
            }
            None => Cow::Borrowed(t),
        };
        let s = t.trim();
        if s == "QUERY PLAN" || is_footer(s) {
            continue;
        }
        lines.push((t, trailing_space));
    }
    // Lines a terminal or editor wrapped: join while parentheses are open, or when a
    // line starts with the cost part of the node above.
    let mut out: Vec<String> = Vec::new();
    let mut prev_space = false;
    for (l, space) in lines {
        let starts_costs =
            l.trim_start().starts_with("(cost=") || l.trim_start().starts_with("(actual ");
        // A node line cut inside its name: the arrow line has no costs, the next line
        // brings them.
        let cut_name = out.last().is_some_and(|p: &String| {
            let p = p.trim_start();
            p.starts_with("->") && !paren_word(p, &["cost=", "actual "])
        }) && paren_word(&l, &["cost="])
            && !l.trim_start().starts_with("->");
        // A line pushed to column 0 under an indented one is the rest of that line,
        // unless it is one of the plan's own closing lines.
        let indent = |x: &str| x.len() - x.trim_start().len();
        let spilled = out.last().is_some_and(|p: &String| indent(p) > 0)
            && indent(&l) == 0
            && !is_plan_level(&l)
            && !paren_word(&l, &["cost="]);
        if let Some(prev) = out.last_mut()
            && (paren_balance(prev) > 0 || starts_costs || cut_name || spilled)
            && !l.trim_start().starts_with("->")
            && !l.trim().is_empty()
        {
            // Wrapped at the terminal's width, often inside a word: join as is, with the
            // space the wrap ate if there was one.
            if prev_space || starts_costs {
                prev.push(' ');
            }
            prev.push_str(if starts_costs { l.trim_start() } else { &l });
            prev_space = space;
            continue;
        }
        out.push(l.into_owned());
        prev_space = space;
    }
    out.join("\n")
}

/// Lines about the whole plan, printed at the root's indentation.
fn is_plan_level(l: &str) -> bool {
    const KEYS: &[&str] = &[
        "Planning",
        "Execution Time",
        "Execution time",
        "Total runtime",
        "Trigger ",
        "JIT:",
        "Settings:",
        "Query Identifier:",
        "Query Text:",
        "Serialization:",
        "Planning Time",
        "Planning time",
    ];
    let t = l.trim_start();
    KEYS.iter().any(|k| t.starts_with(k))
}

pub fn is_plan_json(v: &serde_json::Value) -> bool {
    let obj = match v {
        serde_json::Value::Array(a) => a.first(),
        o => Some(o),
    };
    obj.is_some_and(|o| o.get("Plan").is_some() || o.get("query_block").is_some())
}

/// Regression-test output masks numbers as `N` / `N.N`; make them parse.
fn unmask_numbers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        let t = line.trim_end();
        let (body, comma) = match t.strip_suffix(',') {
            Some(b) => (b, ","),
            None => (t, ""),
        };
        if let Some(p) = body.rfind(": ")
            && matches!(&body[p + 2..], "N" | "N.N" | "-N" | "-N.N")
        {
            out.push_str(&body[..p + 2]);
            out.push('0');
            out.push_str(comma);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The first JSON plan (an object with `Plan` or `query_block`, or an array of them) in
/// `text`, after an echoed command or a prompt; CSV-style doubled quotes and masked
/// numbers are undone.
pub fn first_json(text: &str) -> Option<serde_json::Value> {
    let t = text.trim();
    if t.starts_with('"') && t.contains("\"\"") {
        let inner = t
            .trim_start_matches('"')
            .trim_end_matches('"')
            .replace("\"\"", "\"");
        return first_json(&inner);
    }
    // Both are ASCII, so their byte offsets are character boundaries.
    for i in memchr::memchr2_iter(b'[', b'{', text.as_bytes()) {
        let mut de =
            serde_json::Deserializer::from_str(&text[i..]).into_iter::<serde_json::Value>();
        if let Some(Ok(v)) = de.next()
            && is_plan_json(&v)
        {
            return Some(v);
        }
    }
    if text.contains(": N") {
        let unmasked = unmask_numbers(text);
        if unmasked != text {
            return first_json(&unmasked);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borders_and_footer() {
        let t = "┌────────────┐\n│ QUERY PLAN │\n╞════════════╡\n│ Limit  (cost=1.00..2.00 rows=1 width=4)   │\n│   ->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4) │\n└────────────┘\n(2 rows)\n";
        assert_eq!(
            unframe(t),
            "Limit  (cost=1.00..2.00 rows=1 width=4)\n  ->  Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)"
        );
    }

    #[test]
    fn wrapped_and_quoted() {
        let t = " Result  (cost=0.00..0.01 rows=1 width=4) (actual time=0.006..0.008\n rows=1 loops=1)\n";
        assert_eq!(
            unframe(t),
            " Result  (cost=0.00..0.01 rows=1 width=4) (actual time=0.006..0.008 rows=1 loops=1)"
        );
        assert_eq!(
            unframe(" Sort  (cos\nt=32.88..32.9\n6 rows=32 width=224)"),
            " Sort  (cost=32.88..32.96 rows=32 width=224)"
        );
        assert_eq!(
            unframe("'Sort  (cost=1..2 rows=1 width=4)'\n'  Sort Key: a'"),
            "Sort  (cost=1..2 rows=1 width=4)\n  Sort Key: a"
        );
        assert_eq!(
            unframe("\"Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\""),
            "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)"
        );
    }
}
