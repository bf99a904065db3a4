//! The shape of a statement: which tables it reads, which columns it filters on and how,
//! how it joins, sorts and pages. Rules and the index advisor read shapes, never ASTs.
//!
//! Built from one sample of each fingerprint (with its literal values, which tell a
//! constant `status = 'completed'` from a parameter). Column references are resolved
//! through aliases to base tables; an unqualified column in a multi-table block stays
//! unresolved (`table: None`) rather than guessed.

use serde::Serialize;
use sqlparser::ast::{
    BinaryOperator, CastKind, Expr, FromTable, FunctionArg, FunctionArgExpr, FunctionArguments,
    GroupByExpr, InTarget, Join, JoinConstraint, JoinOperator, LimitClause, ObjectName, OrderBy,
    OrderByKind, OrderBySort, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr,
    Statement, TableFactor, TableObject, TableWithJoins, UpdateTableFromKind, Value,
};

use crate::event::Dialect;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Select,
    Insert,
    Update,
    Delete,
    /// Anything else, by its first keyword (`begin`, `set`, `create`, …).
    Other(String),
}

impl Kind {
    pub fn is_write(&self) -> bool {
        matches!(self, Kind::Insert | Kind::Update | Kind::Delete)
    }
}

/// The value side of a comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Operand {
    /// `$1`, `?`, `:name`.
    Param(String),
    /// A literal as written (`'completed'`, `42`, `TRUE`).
    Literal(String),
    Column(ColumnRef),
    /// Anything else (`now() - interval '1 day'`, a subquery).
    Expr,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ColumnRef {
    pub table: Option<String>,
    pub column: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PredKind {
    Eq,
    /// `IN (…)` or `= ANY(…)`.
    In,
    /// `<`, `<=`, `>`, `>=`, `BETWEEN`.
    Range,
    NotEq,
    IsNull,
    Like,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Predicate {
    pub table: Option<String>,
    pub column: String,
    pub kind: PredKind,
    pub value: Operand,
    /// A function or cast around the column (`lower`, `date`, `cast`).
    pub wrapped: Option<String>,
    /// The wrapped column expression as written (`lower(email)`).
    pub wrapped_expr: Option<String>,
    /// Under an `OR`: cannot drive an index on its own.
    pub in_or: bool,
    /// `ILIKE` rather than `LIKE`.
    pub case_insensitive: bool,
    /// In a join condition rather than a WHERE clause.
    pub in_join: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OrderItem {
    /// The column when the item is a plain column.
    pub column: Option<ColumnRef>,
    pub expr: String,
    pub desc: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableRef {
    pub name: String,
    pub alias: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Shape {
    pub kind: Option<Kind>,
    /// Base tables read or written, in order of appearance, without duplicates.
    pub tables: Vec<TableRef>,
    /// Tables in the outermost FROM (joins included).
    pub top_tables: Vec<String>,
    /// The table an INSERT / UPDATE / DELETE writes.
    pub target: Option<String>,
    pub predicates: Vec<Predicate>,
    pub joins: Vec<(ColumnRef, ColumnRef)>,
    pub order_by: Vec<OrderItem>,
    pub group_by: Vec<String>,
    pub limit: Option<Operand>,
    pub offset: Option<Operand>,
    /// `*` (table `None`) and `t.*` in the outermost projection.
    pub wildcards: Vec<Option<String>>,
    /// Columns named in the outermost projection.
    pub projection: Vec<String>,
    pub has_subquery: bool,
    pub distinct: bool,
}

impl Shape {
    /// Shape of the first statement in `sql`; `Err` carries sqlparser's message.
    pub fn parse(sql: &str, dialect: Dialect) -> Result<Shape, String> {
        let stmts = super::parse(sql, dialect)?;
        let stmt = stmts.first().ok_or("no statement")?;
        Ok(Shape::of(stmt))
    }

    pub fn of(stmt: &Statement) -> Shape {
        let mut b = Builder::default();
        match stmt {
            Statement::Query(q) => {
                b.shape.kind = Some(Kind::Select);
                b.query(q, true);
            }
            Statement::Insert(ins) => {
                b.shape.kind = Some(Kind::Insert);
                if let TableObject::TableName(name) = &ins.table {
                    let t = table_name(name);
                    b.add_table(&t, None);
                    b.shape.target = Some(t);
                }
                if let Some(src) = &ins.source {
                    b.query(src, false);
                }
            }
            Statement::Update(up) => {
                b.shape.kind = Some(Kind::Update);
                let mut scope = Scope::default();
                b.table_with_joins(&up.table, &mut scope, true);
                b.shape.target = scope.tables.first().and_then(|(_, t)| t.clone());
                if let Some(UpdateTableFromKind::AfterSet(f) | UpdateTableFromKind::BeforeSet(f)) =
                    &up.from
                {
                    for twj in f {
                        b.table_with_joins(twj, &mut scope, false);
                    }
                }
                if let Some(w) = &up.selection {
                    b.condition(w, &scope, false, false);
                }
            }
            Statement::Delete(del) => {
                b.shape.kind = Some(Kind::Delete);
                let mut scope = Scope::default();
                let from = match &del.from {
                    FromTable::WithFromKeyword(v) | FromTable::WithoutKeyword(v) => v,
                };
                for twj in from {
                    b.table_with_joins(twj, &mut scope, true);
                }
                b.shape.target = del
                    .tables
                    .first()
                    .map(table_name)
                    .or_else(|| scope.tables.first().and_then(|(_, t)| t.clone()));
                if let Some(using) = &del.using {
                    for twj in using {
                        b.table_with_joins(twj, &mut scope, false);
                    }
                }
                if let Some(w) = &del.selection {
                    b.condition(w, &scope, false, false);
                }
            }
            other => {
                let text = other.to_string();
                let word = text
                    .split(|c: char| !c.is_ascii_alphabetic())
                    .find(|w| !w.is_empty())
                    .unwrap_or("")
                    .to_ascii_lowercase();
                b.shape.kind = Some(Kind::Other(word));
            }
        }
        b.shape
    }

    /// The base table a column reference belongs to, resolving an unqualified column
    /// when only one table is read.
    pub fn table_of<'a>(&'a self, table: &'a Option<String>) -> Option<&'a str> {
        match table {
            Some(t) => Some(t.as_str()),
            None if self.tables.len() == 1 => Some(self.tables[0].name.as_str()),
            None => None,
        }
    }
}

/// Names visible in one query block: alias (or table name) → base table, `None` for a
/// derived table or CTE.
#[derive(Default, Clone)]
struct Scope {
    tables: Vec<(String, Option<String>)>,
}

impl Scope {
    fn resolve(&self, qualifier: Option<&str>) -> Option<String> {
        match qualifier {
            Some(q) => self
                .tables
                .iter()
                .find(|(n, _)| n == q)
                .and_then(|(_, t)| t.clone())
                .or_else(|| {
                    // A qualifier naming no alias in this block: a correlated reference
                    // to an outer block; keep the name as the best guess.
                    (!self.tables.iter().any(|(n, _)| n == q)).then(|| q.to_string())
                }),
            None => {
                if self.tables.len() == 1 {
                    self.tables[0].1.clone()
                } else {
                    None
                }
            }
        }
    }
}

#[derive(Default)]
struct Builder {
    shape: Shape,
    ctes: Vec<String>,
}

fn table_name(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.to_ascii_lowercase())
        .unwrap_or_else(|| name.to_string().to_ascii_lowercase())
}

impl Builder {
    fn add_table(&mut self, name: &str, alias: Option<String>) {
        if !self
            .shape
            .tables
            .iter()
            .any(|t| t.name == name && t.alias == alias)
        {
            self.shape.tables.push(TableRef {
                name: name.to_string(),
                alias,
            });
        }
    }

    fn query(&mut self, q: &Query, top: bool) {
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                self.ctes.push(cte.alias.name.value.to_ascii_lowercase());
            }
            for cte in &with.cte_tables {
                self.query(&cte.query, false);
            }
        }
        let scope = self.set_expr(&q.body, top);
        if top {
            if let Some(OrderBy {
                kind: OrderByKind::Expressions(items),
                ..
            }) = &q.order_by
            {
                for item in items {
                    let column = column_of(&item.expr, &scope).map(|(c, _)| c);
                    self.shape.order_by.push(OrderItem {
                        column,
                        expr: item.expr.to_string(),
                        desc: matches!(item.options.sort, Some(OrderBySort::Desc)),
                    });
                }
            }
            match &q.limit_clause {
                Some(LimitClause::LimitOffset { limit, offset, .. }) => {
                    self.shape.limit = limit.as_ref().map(operand_of_value);
                    self.shape.offset = offset.as_ref().map(|o| operand_of_value(&o.value));
                }
                Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
                    self.shape.limit = Some(operand_of_value(limit));
                    self.shape.offset = Some(operand_of_value(offset));
                }
                None => {}
            }
            if let Some(f) = &q.fetch
                && let Some(v) = &f.quantity
            {
                self.shape.limit = Some(operand_of_value(v));
            }
        }
    }

    /// Returns the scope of the (first) SELECT so the caller can resolve ORDER BY.
    fn set_expr(&mut self, body: &SetExpr, top: bool) -> Scope {
        match body {
            SetExpr::Select(s) => self.select(s, top),
            SetExpr::Query(q) => {
                self.query(q, top);
                Scope::default()
            }
            SetExpr::SetOperation { left, right, .. } => {
                self.shape.has_subquery = true;
                let s = self.set_expr(left, top);
                self.set_expr(right, top);
                s
            }
            _ => Scope::default(),
        }
    }

    fn select(&mut self, s: &Select, top: bool) -> Scope {
        let mut scope = Scope::default();
        for twj in &s.from {
            self.table_with_joins(twj, &mut scope, top);
        }
        if top {
            self.shape.distinct |= s.distinct.is_some();
            for item in &s.projection {
                match item {
                    SelectItem::Wildcard(_) => self.shape.wildcards.push(None),
                    SelectItem::QualifiedWildcard(
                        SelectItemQualifiedWildcardKind::ObjectName(n),
                        _,
                    ) => {
                        let q = table_name(n);
                        let t = scope.resolve(Some(&q)).unwrap_or(q);
                        self.shape.wildcards.push(Some(t));
                    }
                    SelectItem::UnnamedExpr(e)
                    | SelectItem::ExprWithAlias { expr: e, .. }
                    | SelectItem::ExprWithAliases { expr: e, .. } => {
                        self.shape.projection.push(e.to_string());
                        self.nested_in(e);
                    }
                    _ => {}
                }
            }
            if let GroupByExpr::Expressions(exprs, _) = &s.group_by {
                self.shape.group_by = exprs.iter().map(|e| e.to_string()).collect();
            }
        } else {
            for item in &s.projection {
                if let SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } = item
                {
                    self.nested_in(e);
                }
            }
        }
        if let Some(w) = &s.selection {
            self.condition(w, &scope, false, false);
        }
        if let Some(h) = &s.having {
            self.nested_in(h);
        }
        scope
    }

    fn table_with_joins(&mut self, twj: &TableWithJoins, scope: &mut Scope, top: bool) {
        self.factor(&twj.relation, scope, top);
        for j in &twj.joins {
            self.join(j, scope, top);
        }
    }

    fn factor(&mut self, f: &TableFactor, scope: &mut Scope, top: bool) {
        match f {
            TableFactor::Table { name, alias, .. } => {
                let t = table_name(name);
                let alias = alias.as_ref().map(|a| a.name.value.to_ascii_lowercase());
                let visible = alias.clone().unwrap_or_else(|| t.clone());
                if self.ctes.contains(&t) {
                    scope.tables.push((visible, None));
                    return;
                }
                self.add_table(&t, alias);
                if top {
                    self.shape.top_tables.push(t.clone());
                }
                scope.tables.push((visible, Some(t)));
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                self.shape.has_subquery = true;
                self.query(subquery, false);
                if let Some(a) = alias {
                    scope.tables.push((a.name.value.to_ascii_lowercase(), None));
                }
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.table_with_joins(table_with_joins, scope, top),
            _ => {}
        }
    }

    fn join(&mut self, j: &Join, scope: &mut Scope, top: bool) {
        self.factor(&j.relation, scope, top);
        let constraint = match &j.join_operator {
            JoinOperator::Join(c)
            | JoinOperator::Inner(c)
            | JoinOperator::Left(c)
            | JoinOperator::LeftOuter(c)
            | JoinOperator::Right(c)
            | JoinOperator::RightOuter(c)
            | JoinOperator::FullOuter(c)
            | JoinOperator::Semi(c)
            | JoinOperator::LeftSemi(c)
            | JoinOperator::RightSemi(c)
            | JoinOperator::Anti(c)
            | JoinOperator::LeftAnti(c)
            | JoinOperator::RightAnti(c)
            | JoinOperator::StraightJoin(c) => Some(c),
            _ => None,
        };
        match constraint {
            Some(JoinConstraint::On(e)) => {
                let s = scope.clone();
                self.condition(e, &s, false, true);
            }
            Some(JoinConstraint::Using(cols)) => {
                // USING (c): the last two tables joined on c.
                let n = scope.tables.len();
                if n >= 2 {
                    for c in cols {
                        let col = table_name(c);
                        let l = scope.tables[n - 2].1.clone();
                        let r = scope.tables[n - 1].1.clone();
                        self.shape.joins.push((
                            ColumnRef {
                                table: l,
                                column: col.clone(),
                            },
                            ColumnRef {
                                table: r,
                                column: col,
                            },
                        ));
                    }
                }
            }
            _ => {}
        }
    }

    /// Subqueries inside an expression (EXISTS, scalar subqueries, IN (SELECT …)).
    fn nested_in(&mut self, e: &Expr) {
        match e {
            Expr::Subquery(q) | Expr::Exists { subquery: q, .. } => {
                self.shape.has_subquery = true;
                self.query(q, false);
            }
            Expr::In {
                expr,
                target: InTarget::Subquery(q),
                ..
            } => {
                self.nested_in(expr);
                self.shape.has_subquery = true;
                self.query(q, false);
            }
            Expr::BinaryOp { left, right, .. } => {
                self.nested_in(left);
                self.nested_in(right);
            }
            Expr::Nested(x) | Expr::UnaryOp { expr: x, .. } | Expr::Cast { expr: x, .. } => {
                self.nested_in(x)
            }
            Expr::Function(f) => {
                if let FunctionArguments::List(l) = &f.args {
                    for a in &l.args {
                        if let FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) = a {
                            self.nested_in(x);
                        }
                    }
                } else if let FunctionArguments::Subquery(q) = &f.args {
                    self.shape.has_subquery = true;
                    self.query(q, false);
                }
            }
            _ => {}
        }
    }

    fn condition(&mut self, e: &Expr, scope: &Scope, in_or: bool, in_join: bool) {
        let push = |b: &mut Builder,
                    col: ColumnRef,
                    wrapped: Option<(String, String)>,
                    kind: PredKind,
                    value: Operand,
                    ci: bool| {
            let (wrapped, wrapped_expr) = match wrapped {
                Some((w, e)) => (Some(w), Some(e)),
                None => (None, None),
            };
            b.shape.predicates.push(Predicate {
                table: col.table,
                column: col.column,
                kind,
                value,
                wrapped,
                wrapped_expr,
                in_or,
                case_insensitive: ci,
                in_join,
            })
        };
        match e {
            Expr::Nested(x) => self.condition(x, scope, in_or, in_join),
            Expr::BinaryOp { left, op, right } => match op {
                BinaryOperator::And => {
                    self.condition(left, scope, in_or, in_join);
                    self.condition(right, scope, in_or, in_join);
                }
                BinaryOperator::Or => {
                    self.condition(left, scope, true, in_join);
                    self.condition(right, scope, true, in_join);
                }
                BinaryOperator::Eq
                | BinaryOperator::NotEq
                | BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq => {
                    let kind = match op {
                        BinaryOperator::Eq => PredKind::Eq,
                        BinaryOperator::NotEq => PredKind::NotEq,
                        _ => PredKind::Range,
                    };
                    let l = wrapped_column(left, scope);
                    let r = wrapped_column(right, scope);
                    match (l, r) {
                        (Some((lc, None)), Some((rc, None))) if kind == PredKind::Eq => {
                            self.shape.joins.push((lc, rc));
                        }
                        (Some((c, w)), None) => {
                            let v = operand(right, scope);
                            self.nested_in(right);
                            push(self, c, w, kind, v, false);
                        }
                        (None, Some((c, w))) => {
                            let v = operand(left, scope);
                            self.nested_in(left);
                            push(self, c, w, kind, v, false);
                        }
                        _ => {
                            self.nested_in(left);
                            self.nested_in(right);
                        }
                    }
                }
                _ => {
                    self.nested_in(left);
                    self.nested_in(right);
                }
            },
            Expr::In {
                expr,
                target,
                negated,
                ..
            } => match target {
                InTarget::Subquery(q) => {
                    self.shape.has_subquery = true;
                    self.query(q, false);
                }
                InTarget::List(list) if !negated => {
                    if let Some((c, w)) = wrapped_column(expr, scope) {
                        let v = if list
                            .iter()
                            .all(|x| matches!(operand(x, scope), Operand::Param(_)))
                        {
                            Operand::Param(list.first().map(|x| x.to_string()).unwrap_or_default())
                        } else {
                            Operand::Literal(
                                list.iter()
                                    .map(|x| x.to_string())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                            )
                        };
                        push(self, c, w, PredKind::In, v, false);
                    }
                }
                _ => {}
            },
            Expr::AnyOp {
                left,
                compare_op: BinaryOperator::Eq,
                right,
                ..
            } => {
                if let Some((c, w)) = wrapped_column(left, scope) {
                    let v = operand(right, scope);
                    push(self, c, w, PredKind::In, v, false);
                }
            }
            Expr::Between {
                expr,
                negated: false,
                low,
                ..
            } => {
                if let Some((c, w)) = wrapped_column(expr, scope) {
                    let v = operand(low, scope);
                    push(self, c, w, PredKind::Range, v, false);
                }
            }
            Expr::IsNull(x) | Expr::IsNotNull(x) => {
                if let Some((c, w)) = wrapped_column(x, scope) {
                    push(self, c, w, PredKind::IsNull, Operand::Expr, false);
                }
            }
            Expr::Like {
                negated: false,
                expr,
                pattern,
                ..
            }
            | Expr::ILike {
                negated: false,
                expr,
                pattern,
                ..
            } => {
                let ci = matches!(e, Expr::ILike { .. });
                if let Some((c, w)) = wrapped_column(expr, scope) {
                    let v = operand(pattern, scope);
                    push(self, c, w, PredKind::Like, v, ci);
                }
            }
            other => self.nested_in(other),
        }
    }
}

/// `column_of` plus the wrapped expression's text, for predicates.
fn wrapped_column(e: &Expr, scope: &Scope) -> Option<(ColumnRef, Option<(String, String)>)> {
    let (c, w) = column_of(e, scope)?;
    Some((c, w.map(|w| (w, e.to_string()))))
}

/// A column reference, possibly wrapped in one function or cast: `(column, wrapper)`.
fn column_of(e: &Expr, scope: &Scope) -> Option<(ColumnRef, Option<String>)> {
    match e {
        Expr::Identifier(id) => Some((
            ColumnRef {
                table: scope.resolve(None),
                column: id.value.to_ascii_lowercase(),
            },
            None,
        )),
        Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
            let q = parts[parts.len() - 2].value.to_ascii_lowercase();
            Some((
                ColumnRef {
                    table: scope.resolve(Some(&q)),
                    column: parts[parts.len() - 1].value.to_ascii_lowercase(),
                },
                None,
            ))
        }
        Expr::Nested(x) => column_of(x, scope),
        Expr::Cast { expr, kind, .. } => {
            let (c, w) = column_of(expr, scope)?;
            let name = match kind {
                CastKind::DoubleColon => "::",
                _ => "cast",
            };
            Some((c, Some(w.unwrap_or_else(|| name.to_string()))))
        }
        Expr::Function(f) => {
            let FunctionArguments::List(l) = &f.args else {
                return None;
            };
            // The column is the one argument that is a column; others must be constants
            // (`date_trunc('day', created_at)`).
            let mut found = None;
            for a in &l.args {
                let FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) = a else {
                    return None;
                };
                match column_of(x, scope) {
                    Some(c) if found.is_none() => found = Some(c),
                    Some(_) => return None,
                    None if matches!(x, Expr::Value(_)) => {}
                    None => return None,
                }
            }
            let (c, _) = found?;
            Some((c, Some(f.name.to_string().to_ascii_lowercase())))
        }
        _ => None,
    }
}

fn operand_of_value(e: &Expr) -> Operand {
    operand(e, &Scope::default())
}

fn operand(e: &Expr, scope: &Scope) -> Operand {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Placeholder(p) => Operand::Param(p.clone()),
            other => Operand::Literal(other.to_string()),
        },
        Expr::Nested(x) => operand(x, scope),
        Expr::Cast { expr, .. } => match operand(expr, scope) {
            Operand::Column(_) => Operand::Expr,
            o => o,
        },
        Expr::UnaryOp { expr, .. } => match operand(expr, scope) {
            Operand::Literal(l) => Operand::Literal(format!("-{l}")),
            o => o,
        },
        Expr::Array(a) => {
            if a.elem
                .iter()
                .all(|x| matches!(operand(x, scope), Operand::Param(_)))
            {
                Operand::Param(a.to_string())
            } else {
                Operand::Literal(a.to_string())
            }
        }
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => match column_of(e, scope) {
            Some((c, _)) => Operand::Column(c),
            None => Operand::Expr,
        },
        _ => Operand::Expr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(sql: &str) -> Shape {
        Shape::parse(sql, Dialect::Postgres).unwrap()
    }

    #[test]
    fn filters_order_limit() {
        let s = pg(
            "SELECT * FROM orders WHERE user_id = $1 AND status = 'completed' ORDER BY created_at DESC LIMIT 20",
        );
        assert_eq!(s.kind, Some(Kind::Select));
        assert_eq!(s.top_tables, vec!["orders"]);
        assert_eq!(s.wildcards, vec![None]);
        let p: Vec<_> = s
            .predicates
            .iter()
            .map(|p| {
                (
                    p.table.as_deref(),
                    p.column.as_str(),
                    p.kind,
                    p.value.clone(),
                )
            })
            .collect();
        assert_eq!(
            p,
            vec![
                (
                    Some("orders"),
                    "user_id",
                    PredKind::Eq,
                    Operand::Param("$1".into())
                ),
                (
                    Some("orders"),
                    "status",
                    PredKind::Eq,
                    Operand::Literal("'completed'".into())
                ),
            ]
        );
        assert_eq!(s.order_by[0].column.as_ref().unwrap().column, "created_at");
        assert!(s.order_by[0].desc);
        assert_eq!(s.limit, Some(Operand::Literal("20".into())));
    }

    #[test]
    fn aliases_joins_any_functions_like() {
        let s = pg(
            "SELECT o.id, i.qty FROM orders o JOIN order_items i ON i.order_id = o.id \
             WHERE o.user_id = ANY($1) AND lower(o.note) LIKE '%x' AND i.sku::text = $2 OFFSET 5000",
        );
        assert_eq!(s.joins.len(), 1);
        assert_eq!(s.joins[0].0.table.as_deref(), Some("order_items"));
        let any = &s.predicates[0];
        assert_eq!(
            (any.table.as_deref(), any.kind),
            (Some("orders"), PredKind::In)
        );
        let like = &s.predicates[1];
        assert_eq!(like.kind, PredKind::Like);
        assert_eq!(like.wrapped.as_deref(), Some("lower"));
        assert_eq!(s.predicates[2].wrapped.as_deref(), Some("::"));
        assert_eq!(s.offset, Some(Operand::Literal("5000".into())));
    }

    #[test]
    fn writes_and_others() {
        let s = pg("INSERT INTO orders (user_id) VALUES ($1) RETURNING id");
        assert_eq!(
            (s.kind, s.target),
            (Some(Kind::Insert), Some("orders".into()))
        );
        let s = pg("UPDATE users SET last_seen_at = now() WHERE id = $1");
        assert_eq!(s.target.as_deref(), Some("users"));
        assert_eq!(s.predicates[0].column, "id");
        let s = pg("DELETE FROM sessions WHERE expires_at < now()");
        assert_eq!(s.target.as_deref(), Some("sessions"));
        assert_eq!(pg("BEGIN").kind, Some(Kind::Other("begin".into())));
    }

    #[test]
    fn subqueries_and_ctes() {
        let s = pg(
            "WITH recent AS (SELECT * FROM orders WHERE created_at > $1) \
             SELECT r.id FROM recent r WHERE EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = r.id)",
        );
        assert!(
            s.wildcards.is_empty(),
            "a star inside a CTE is not the result's"
        );
        assert!(s.tables.iter().any(|t| t.name == "orders"));
        assert!(s.tables.iter().all(|t| t.name != "recent"));
        assert!(s.predicates.iter().any(|p| p.column == "created_at"));
    }

    #[test]
    fn mysql_placeholders() {
        let s = Shape::parse(
            "SELECT * FROM `order_items` WHERE order_id IN (1, 2, 3)",
            Dialect::Mysql,
        )
        .unwrap();
        assert_eq!(s.predicates[0].kind, PredKind::In);
        assert_eq!(s.predicates[0].table.as_deref(), Some("order_items"));
    }
}
