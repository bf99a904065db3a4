//! SQL understanding beyond fingerprints: parsing with `sqlparser` (once per distinct
//! statement, never per event), the query shape rules read, and DDL for `--schema`.

pub mod schema;
pub mod shape;
pub mod tags;

use sqlparser::ast::{Expr, Statement};
use sqlparser::dialect::{Dialect as SqlDialect, MySqlDialect, PostgreSqlDialect};
use sqlparser::parser::Parser;

use crate::event::Dialect;

pub fn dialect(d: Dialect) -> Box<dyn SqlDialect> {
    match d {
        Dialect::Postgres => Box::new(PostgreSqlDialect {}),
        Dialect::Mysql => Box::new(MySqlDialect {}),
    }
}

pub fn parse(sql: &str, d: Dialect) -> Result<Vec<Statement>, String> {
    Parser::parse_sql(dialect(d).as_ref(), sql).map_err(|e| e.to_string())
}

/// Parses one expression, e.g. a plan's `Filter:` text.
pub fn parse_expr(text: &str, d: Dialect) -> Result<Expr, String> {
    let dialect = dialect(d);
    Parser::new(dialect.as_ref())
        .try_with_sql(text)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| e.to_string())
}

/// Quotes an identifier only when it needs it, so emitted SQL reads like hand-written.
pub fn ident(name: &str, d: Dialect) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !is_reserved(name);
    if plain {
        name.to_string()
    } else if d == Dialect::Mysql {
        format!("`{}`", name.replace('`', "``"))
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn is_reserved(name: &str) -> bool {
    const RESERVED: &[&str] = &[
        "all",
        "and",
        "any",
        "as",
        "asc",
        "between",
        "by",
        "case",
        "check",
        "column",
        "create",
        "default",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "for",
        "from",
        "group",
        "having",
        "in",
        "index",
        "is",
        "join",
        "key",
        "like",
        "limit",
        "not",
        "null",
        "offset",
        "on",
        "or",
        "order",
        "primary",
        "references",
        "select",
        "table",
        "then",
        "to",
        "union",
        "unique",
        "user",
        "using",
        "when",
        "where",
        "with",
    ];
    RESERVED.contains(&name)
}
