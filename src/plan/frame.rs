//! Undoes what clients wrap around a plan: psql's `QUERY PLAN` header, rules and
//! `(N rows)` footer, table borders (ASCII and Unicode, `\pset border 0–2`), `+`
//! continuation marks, pgAdmin-style quotes around every line, DBeaver's trailing `|`,
//! echoed commands, and lines a terminal wrapped in the middle of a node.

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
    let mut lines: Vec<String> = Vec::new();
    let bordered = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !is_rule(l))
        .take(3)
        .all(|l| l.trim_start().starts_with(is_border));
    // pgAdmin copies every row as a quoted string; a JSON plan has quoted lines too, but
    // not all of them.
    let quoted_rows = text.lines().filter(|l| !l.trim().is_empty()).all(|l| {
        let t = l.trim();
        t.len() >= 2 && t.starts_with('"') && t.ends_with('"')
    });
    for raw in text.lines() {
        let mut l = raw.trim_end_matches(['\r']).to_string();
        if is_rule(&l) {
            continue;
        }
        if bordered {
            // `│ Seq Scan … │`: drop the border and the one padding space after it.
            let t = l.trim_start();
            if let Some(c) = t.chars().next().filter(|c| is_border(*c)) {
                let rest = &t[c.len_utf8()..];
                l = rest.strip_prefix(' ').unwrap_or(rest).to_string();
            }
        }
        let mut t = l.trim_end().to_string();
        if let Some(c) = t.chars().last().filter(|c| is_border(*c)) {
            t.truncate(t.len() - c.len_utf8());
            t = t.trim_end().to_string();
        }
        // psql's continuation mark at the end of a multi-line cell.
        if t.ends_with('+') && !t.ends_with("++") {
            t.pop();
            t = t.trim_end().to_string();
        }
        let s = t.trim_start();
        if quoted_rows && s.len() >= 2 {
            let indent = t.len() - s.len();
            t = format!("{}{}", " ".repeat(indent), &s[1..s.len() - 1]);
        }
        let s = t.trim();
        if s == "QUERY PLAN" || is_footer(s) {
            continue;
        }
        lines.push(t);
    }
    // Lines a terminal or editor wrapped: join while parentheses are open.
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        if let Some(prev) = out.last_mut()
            && paren_balance(prev) > 0
            && !l.trim_start().starts_with("->")
            && !l.trim().is_empty()
        {
            prev.push(' ');
            prev.push_str(l.trim());
            continue;
        }
        out.push(l);
    }
    out.join("\n")
}

/// The first JSON array or object in `text` (after an echoed command or a prompt).
pub fn first_json(text: &str) -> Option<serde_json::Value> {
    for (i, c) in text.char_indices() {
        if c == '[' || c == '{' {
            let mut de =
                serde_json::Deserializer::from_str(&text[i..]).into_iter::<serde_json::Value>();
            if let Some(Ok(v)) = de.next()
                && (v.is_object()
                    || v.as_array()
                        .is_some_and(|a| a.first().is_some_and(|x| x.is_object())))
            {
                return Some(v);
            }
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
            unframe("\"Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)\""),
            "Seq Scan on t  (cost=0.00..1.00 rows=1 width=4)"
        );
    }
}
