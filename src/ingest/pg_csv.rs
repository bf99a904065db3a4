//! PostgreSQL csvlog: one record per CSV row; quoted fields may span lines.

use super::pg::{PgRecord, Severity};
use crate::timeparse;

/// Accumulates physical lines into one CSV row.
#[derive(Default)]
pub struct CsvRow {
    buf: String,
    in_quote: bool,
    pub first_line: u64,
}

impl CsvRow {
    /// Adds a line; returns true when the row is complete.
    pub fn push(&mut self, line: &str, line_no: u64) -> bool {
        if self.buf.is_empty() {
            self.first_line = line_no;
        } else {
            self.buf.push('\n');
        }
        self.buf.push_str(line);
        for c in line.bytes() {
            if c == b'"' {
                self.in_quote = !self.in_quote;
            }
        }
        !self.in_quote
    }

    pub fn take(&mut self) -> String {
        self.in_quote = false;
        std::mem::take(&mut self.buf)
    }

    pub fn is_open(&self) -> bool {
        !self.buf.is_empty()
    }
}

/// Splits one CSV row into fields (doubled quotes unescaped).
pub fn split_fields(row: &str, out: &mut Vec<String>) {
    out.clear();
    let mut field = String::new();
    let mut in_quote = false;
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quote {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    in_quote = false;
                }
            } else {
                field.push(c);
            }
        } else if c == '"' {
            in_quote = true;
        } else if c == ',' {
            out.push(std::mem::take(&mut field));
        } else {
            field.push(c);
        }
    }
    out.push(field);
}

/// Fills `rec` from csvlog columns (PostgreSQL 9.0–17 layouts). Returns false when the
/// row is not a csvlog row.
pub fn to_record(f: &[String], line: u64, rec: &mut PgRecord) -> bool {
    if f.len() < 14 {
        return false;
    }
    let Some(sev) = Severity::from_word(f[11].as_bytes()) else {
        return false;
    };
    let Some((at, _)) = timeparse::parse_iso(f[0].as_bytes()) else {
        return false;
    };
    rec.clear();
    rec.line = line;
    rec.at = Some(at);
    rec.severity = Some(sev);
    rec.user.push_str(&f[1]);
    rec.db.push_str(&f[2]);
    rec.session.push_str(&f[3]);
    rec.client.push_str(f[4].split(':').next().unwrap_or(""));
    rec.message.push_str(&f[13]);
    let get = |i: usize| f.get(i).filter(|s| !s.is_empty()).cloned();
    rec.detail = get(14);
    rec.statement = get(19);
    if let Some(app) = f.get(22) {
        rec.app.push_str(app);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_quoted_field() {
        let mut row = CsvRow::default();
        assert!(!row.push(r#"2021-01-04 00:22:01.903 UTC,"postgres","postgres",59,"172.24.0.1:42642",5ff25f96.3b,3,"SELECT",2021-01-04 00:21:42 UTC,3/0,0,LOG,00000,"duration: 0.658 ms  statement: SELECT 'multi',"#, 1));
        assert!(row.push(r#"'line';",,,,,,,,,"psql""#, 2));
        let mut f = Vec::new();
        split_fields(&row.take(), &mut f);
        let mut rec = PgRecord::default();
        assert!(to_record(&f, 1, &mut rec));
        assert_eq!(
            rec.message,
            "duration: 0.658 ms  statement: SELECT 'multi',\n'line';"
        );
        assert_eq!((rec.session.as_str(), rec.app.as_str()), ("59", "psql"));
    }
}
