//! Rewritten statements for suggestions. Each is built on the parsed, normalized
//! statement (placeholders, no literal values) and rendered by sqlparser, so it
//! re-parses by construction; tests check that it does and that it no longer triggers
//! the rule it answers.

use sqlparser::ast::{BinaryOperator, Expr, Ident, SelectItem, SetExpr, Statement, Value};

use crate::event::Dialect;
use crate::sql::{self, ident};

fn top_select(stmt: &mut Statement) -> Option<&mut sqlparser::ast::Select> {
    let Statement::Query(q) = stmt else {
        return None;
    };
    match q.body.as_mut() {
        SetExpr::Select(s) => Some(s),
        _ => None,
    }
}

/// `SELECT *` → `SELECT a, b, c` (the wildcard of a single-table query).
pub fn replace_star(sql_text: &str, d: Dialect, columns: &[String]) -> Option<String> {
    let mut stmts = sql::parse(sql_text, d).ok()?;
    let stmt = stmts.first_mut()?;
    let sel = top_select(stmt)?;
    let mut out = Vec::new();
    for item in sel.projection.drain(..) {
        match item {
            SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                for c in columns {
                    out.push(SelectItem::UnnamedExpr(Expr::Identifier(Ident::new(
                        ident(c, d),
                    ))));
                }
            }
            other => out.push(other),
        }
    }
    sel.projection = out;
    Some(stmt.to_string())
}

/// `WHERE col = $1` → `WHERE col = ANY($1)` (PostgreSQL) or `col IN (?)` (MySQL: one
/// placeholder per value at run time).
pub fn batch(sql_text: &str, d: Dialect, column: &str) -> Option<String> {
    let mut stmts = sql::parse(sql_text, d).ok()?;
    let stmt = stmts.first_mut()?;
    let sel = top_select(stmt)?;
    let mut done = false;
    if let Some(w) = sel.selection.as_mut() {
        batch_expr(w, d, column, &mut done);
    }
    done.then(|| stmt.to_string())
}

fn is_col(e: &Expr, column: &str) -> bool {
    match e {
        Expr::Identifier(i) => i.value.eq_ignore_ascii_case(column),
        Expr::CompoundIdentifier(p) => p
            .last()
            .is_some_and(|i| i.value.eq_ignore_ascii_case(column)),
        _ => false,
    }
}

fn is_param(e: &Expr) -> bool {
    matches!(e, Expr::Value(v) if matches!(v.value, Value::Placeholder(_)))
}

fn batch_expr(e: &mut Expr, d: Dialect, column: &str, done: &mut bool) {
    match e {
        Expr::Nested(x) => batch_expr(x, d, column, done),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            batch_expr(left, d, column, done);
            batch_expr(right, d, column, done);
        }
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } if !*done && is_col(left, column) && is_param(right) => {
            let col = (**left).clone();
            let param = (**right).clone();
            *e = match d {
                Dialect::Postgres => Expr::AnyOp {
                    left: Box::new(col),
                    compare_op: BinaryOperator::Eq,
                    right: Box::new(param),
                    is_some: false,
                },
                Dialect::Mysql => Expr::In {
                    expr: Box::new(col),
                    target: sqlparser::ast::InTarget::List(vec![param]),
                    negated: false,
                    global: false,
                },
            };
            *done = true;
        }
        _ => {}
    }
}

/// One statement for parent and children: the parent query as a derived table, joined
/// to the child table on the loop column. Keeps the parent's LIMIT and order.
pub struct JoinSpec<'a> {
    pub parent_sql: &'a str,
    pub child_table: &'a str,
    pub child_projection: Vec<String>,
    pub child_star: bool,
    /// Child column compared with the loop parameter, and the parent column it equals.
    pub child_column: &'a str,
    pub parent_column: &'a str,
    /// Parent ORDER BY as (column, desc) when it is plain columns.
    pub order: Vec<(String, bool)>,
}

pub fn join(spec: &JoinSpec, d: Dialect) -> Option<String> {
    // Parse to make sure the parent is a single SELECT, and render it canonically.
    let stmts = sql::parse(spec.parent_sql, d).ok()?;
    let parent = match stmts.first()? {
        Statement::Query(q) => q.to_string(),
        _ => return None,
    };
    let mut proj = vec!["p.*".to_string()];
    if spec.child_star {
        proj.push("c.*".to_string());
    } else {
        for c in &spec.child_projection {
            proj.push(format!("c.{}", ident(c, d)));
        }
    }
    let mut text = format!(
        "SELECT {} FROM ({parent}) AS p LEFT JOIN {} AS c ON c.{} = p.{}",
        proj.join(", "),
        ident(spec.child_table, d),
        ident(spec.child_column, d),
        ident(spec.parent_column, d)
    );
    if !spec.order.is_empty() {
        let items: Vec<String> = spec
            .order
            .iter()
            .map(|(c, desc)| format!("p.{}{}", ident(c, d), if *desc { " DESC" } else { "" }))
            .collect();
        text.push_str(" ORDER BY ");
        text.push_str(&items.join(", "));
    }
    // Round-trip through the parser: what we emit is what sqlparser prints.
    let stmts = sql::parse(&text, d).ok()?;
    Some(stmts.first()?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_pg_and_mysql() {
        assert_eq!(
            batch(
                "SELECT * FROM order_items WHERE order_id = $1",
                Dialect::Postgres,
                "order_id"
            )
            .unwrap(),
            "SELECT * FROM order_items WHERE order_id = ANY($1)"
        );
        assert_eq!(
            batch(
                "SELECT qty FROM order_items WHERE order_id = ?",
                Dialect::Mysql,
                "order_id"
            )
            .unwrap(),
            "SELECT qty FROM order_items WHERE order_id IN (?)"
        );
    }

    #[test]
    fn star_and_join() {
        assert_eq!(
            replace_star(
                "SELECT * FROM users WHERE id = $1",
                Dialect::Postgres,
                &["id".into(), "name".into()]
            )
            .unwrap(),
            "SELECT id, name FROM users WHERE id = $1"
        );
        let j = join(
            &JoinSpec {
                parent_sql: "SELECT * FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20",
                child_table: "order_items",
                child_projection: vec![],
                child_star: true,
                child_column: "order_id",
                parent_column: "id",
                order: vec![("created_at".into(), true)],
            },
            Dialect::Postgres,
        )
        .unwrap();
        assert_eq!(
            j,
            "SELECT p.*, c.* FROM (SELECT * FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 20) AS p LEFT JOIN order_items AS c ON c.order_id = p.id ORDER BY p.created_at DESC"
        );
    }
}
