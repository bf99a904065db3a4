//! Offline schema knowledge from DDL (`--schema FILE`): columns and types, existing
//! indexes, primary and foreign keys.
//!
//! Reads `pg_dump --schema-only` output or hand-written DDL (PostgreSQL or MySQL). Each
//! statement is parsed on its own, so functions, grants, comments and psql meta-commands
//! that sqlparser does not know are skipped and counted, never fatal.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlparser::ast::{
    AlterTableOperation, ColumnOption, DataType, IndexColumn, ObjectName, OrderBySort, Statement,
    TableConstraint,
};

use crate::event::Dialect;

#[derive(Clone, Debug, Serialize)]
pub struct Column {
    pub name: String,
    pub data_type: String,
    /// Stored out of line / potentially large (text, json, bytea, blobs, arrays).
    pub wide: bool,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Table {
    pub columns: Vec<Column>,
    pub primary_key: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Index {
    pub name: Option<String>,
    pub table: String,
    /// Key columns in order; `DESC` appended where declared, expressions as written.
    pub columns: Vec<String>,
    pub unique: bool,
    pub partial: bool,
    /// Where the index came from: `schema` or `plan`.
    pub source: &'static str,
}

impl Index {
    /// The key columns without direction, lower-case.
    pub fn column_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| {
                c.trim_end_matches(" DESC")
                    .trim_end_matches(" ASC")
                    .to_string()
            })
            .collect()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ForeignKey {
    pub table: String,
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
    pub indexes: Vec<Index>,
    pub foreign_keys: Vec<ForeignKey>,
    /// Views (and materialized views): never indexed directly by advice.
    pub views: Vec<String>,
    /// Distinct values per (table, column), from `pg_stats` with `--db`.
    pub n_distinct: BTreeMap<(String, String), f64>,
    /// Index name → (scans, size in bytes), from `pg_stat_user_indexes` with `--db`.
    pub index_usage: BTreeMap<String, (i64, i64)>,
    /// Days the usage statistics have been accumulating (since the last reset).
    pub stats_days: Option<f64>,
    /// Statements that did not parse (skipped).
    pub skipped: usize,
    /// The first few of them: (1-based line, sqlparser's message).
    pub skipped_examples: Vec<(usize, String)>,
}

fn name_of(n: &ObjectName) -> String {
    n.0.last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.to_ascii_lowercase())
        .unwrap_or_else(|| n.to_string().to_ascii_lowercase())
}

fn index_column(c: &IndexColumn) -> String {
    let base = match &c.column.expr {
        sqlparser::ast::Expr::Identifier(i) => i.value.to_ascii_lowercase(),
        e => format!("({e})"),
    };
    if matches!(c.column.options.sort, Some(OrderBySort::Desc)) {
        format!("{base} DESC")
    } else {
        base
    }
}

/// Names of text columns that usually hold long content.
const LONG_TEXT_NAMES: &[&str] = &[
    "bio",
    "body",
    "content",
    "description",
    "notes",
    "note",
    "comment",
    "comments",
    "html",
    "markdown",
    "payload",
    "data",
    "details",
    "message",
    "text",
    "raw",
    "document",
    "summary",
    "abstract",
    "metadata",
    "settings",
    "properties",
    "attributes",
    "extra",
    "log",
    "blob",
];

/// Whether a column is likely stored out of line and expensive to fetch needlessly:
/// binary, JSON, XML, arrays and documents always; unbounded text when its name says
/// it holds long content (`bio`, `description`), since `name text` is short in practice.
fn is_wide(t: &DataType, column: &str) -> bool {
    let s = t.to_string().to_ascii_lowercase();
    if s.contains("json")
        || s.contains("bytea")
        || s.contains("blob")
        || s.contains("xml")
        || s.contains("[]")
        || s.contains("tsvector")
        || s.contains("geometry")
        || s.contains("geography")
        || s == "longtext"
        || s == "mediumtext"
    {
        return true;
    }
    let long_name = LONG_TEXT_NAMES
        .iter()
        .any(|n| column == *n || column.ends_with(&format!("_{n}")));
    let unbounded_text = s == "text"
        || s == "tinytext"
        || s.starts_with("character varying") && !s.contains('(')
        || s == "varchar";
    let big_varchar = (s.starts_with("character varying(") || s.starts_with("varchar("))
        && s.trim_start_matches(|c: char| !c.is_ascii_digit())
            .trim_end_matches(')')
            .parse::<u32>()
            .is_ok_and(|n| n > 1000);
    big_varchar || (unbounded_text && long_name)
}

/// Splits a script into statements at top-level `;`, honouring quotes, dollar quotes
/// and comments; psql meta-command lines (`\connect`, `\restrict`) are dropped.
pub fn split_statements(src: &str) -> Vec<&str> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut line_start = true;
    while i < b.len() {
        let c = b[i];
        if line_start && c == b'\\' {
            let end = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |p| i + p);
            if src[start..i].trim().is_empty() {
                start = end;
            }
            i = end;
            continue;
        }
        line_start = c == b'\n';
        match c {
            b'\'' | b'"' | b'`' => {
                i += 1;
                while i < b.len() && b[i] != c {
                    if b[i] == b'\\' && c != b'"' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |p| i + p);
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = src[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
                continue;
            }
            b'$' => {
                // $tag$ … $tag$
                let rest = &src[i + 1..];
                if let Some(end) = rest.find('$') {
                    let tag = &rest[..end];
                    if tag.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        let delim = format!("${tag}$");
                        let body = i + delim.len();
                        i = src[body..]
                            .find(&delim)
                            .map_or(b.len(), |p| body + p + delim.len());
                        continue;
                    }
                }
            }
            b';' => {
                let s = src[start..i].trim();
                if !s.is_empty() {
                    out.push(s);
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let s = src[start.min(b.len())..].trim();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

/// Drops `--` comment lines and blank space in front of a statement.
fn strip_leading_comments(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        if s.starts_with("--") {
            s = s.find('\n').map_or("", |p| &s[p + 1..]);
        } else {
            return s;
        }
    }
}

impl Schema {
    pub fn from_ddl(src: &str, dialect: Dialect) -> Schema {
        let mut schema = Schema::default();
        for stmt in split_statements(src) {
            let stmt = strip_leading_comments(stmt);
            let first = stmt
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            if first != "CREATE" && first != "ALTER" {
                continue;
            }
            match super::parse(stmt, dialect) {
                Ok(stmts) => {
                    for s in &stmts {
                        schema.add(s);
                    }
                }
                Err(e) => {
                    schema.skipped += 1;
                    if schema.skipped_examples.len() < 3 {
                        // `stmt` is a slice of `src`: its offset gives the line.
                        let offset = stmt.as_ptr() as usize - src.as_ptr() as usize;
                        let line = src[..offset].matches('\n').count() + 1;
                        schema.skipped_examples.push((line, e));
                    }
                }
            }
        }
        schema
    }

    fn add(&mut self, stmt: &Statement) {
        match stmt {
            Statement::CreateTable(ct) => {
                let tname = name_of(&ct.name);
                let mut table = Table::default();
                for col in &ct.columns {
                    let name = col.name.value.to_ascii_lowercase();
                    for opt in &col.options {
                        match &opt.option {
                            ColumnOption::PrimaryKey(_) => table.primary_key = vec![name.clone()],
                            ColumnOption::Unique(_) => self.indexes.push(Index {
                                name: None,
                                table: tname.clone(),
                                columns: vec![name.clone()],
                                unique: true,
                                partial: false,
                                source: "schema",
                            }),
                            ColumnOption::ForeignKey(fk) => {
                                self.foreign_key(&tname, vec![name.clone()], fk)
                            }
                            _ => {}
                        }
                    }
                    table.columns.push(Column {
                        name,
                        data_type: col.data_type.to_string(),
                        wide: is_wide(&col.data_type, &col.name.value.to_ascii_lowercase()),
                    });
                }
                self.tables.insert(tname.clone(), table);
                for c in &ct.constraints {
                    self.constraint(&tname, c);
                }
            }
            Statement::CreateIndex(ci) => {
                self.indexes.push(Index {
                    name: ci.name.as_ref().map(name_of),
                    table: name_of(&ci.table_name),
                    columns: ci.columns.iter().map(index_column).collect(),
                    unique: ci.unique,
                    partial: ci.predicate.is_some(),
                    source: "schema",
                });
            }
            Statement::CreateView(v) => self.views.push(name_of(&v.name)),
            Statement::AlterTable(at) => {
                let tname = name_of(&at.name);
                for op in &at.operations {
                    if let AlterTableOperation::AddConstraint { constraint, .. } = op {
                        self.constraint(&tname, constraint);
                    }
                }
            }
            _ => {}
        }
    }

    fn constraint(&mut self, table: &str, c: &TableConstraint) {
        match c {
            TableConstraint::PrimaryKey(pk) => {
                let cols: Vec<String> = pk.columns.iter().map(index_column).collect();
                self.tables
                    .entry(table.to_string())
                    .or_default()
                    .primary_key = cols.clone();
                self.indexes.push(Index {
                    name: pk.name.as_ref().map(|n| n.value.clone()),
                    table: table.to_string(),
                    columns: cols,
                    unique: true,
                    partial: false,
                    source: "schema",
                });
            }
            TableConstraint::Unique(u) => self.key_index(table, &u.name, &u.columns, true),
            TableConstraint::Index(ix) => self.key_index(table, &ix.name, &ix.columns, false),
            TableConstraint::ForeignKey(fk) => {
                let columns = fk
                    .columns
                    .iter()
                    .map(|c| c.value.to_ascii_lowercase())
                    .collect();
                self.foreign_key(table, columns, fk)
            }
            _ => {}
        }
    }

    /// A foreign key, declared on a column or as a table constraint.
    fn foreign_key(
        &mut self,
        table: &str,
        columns: Vec<String>,
        fk: &sqlparser::ast::ForeignKeyConstraint,
    ) {
        self.foreign_keys.push(ForeignKey {
            table: table.to_string(),
            columns,
            ref_table: name_of(&fk.foreign_table),
            ref_columns: fk
                .referred_columns
                .iter()
                .map(|c| c.value.to_ascii_lowercase())
                .collect(),
        });
    }

    fn key_index(
        &mut self,
        table: &str,
        name: &Option<sqlparser::ast::Ident>,
        columns: &[IndexColumn],
        unique: bool,
    ) {
        self.indexes.push(Index {
            name: name.as_ref().map(|n| n.value.clone()),
            table: table.to_string(),
            columns: columns.iter().map(index_column).collect(),
            unique,
            partial: false,
            source: "schema",
        });
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty() && self.indexes.is_empty()
    }

    /// Primary key columns; with no schema, `id` by convention.
    pub fn primary_key(&self, table: &str) -> Vec<String> {
        match self.tables.get(table) {
            Some(t) if !t.primary_key.is_empty() => t.primary_key.clone(),
            _ => vec!["id".to_string()],
        }
    }

    pub fn indexes_on<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a Index> + 'a {
        self.indexes.iter().filter(move |i| i.table == table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &str = r#"
--
-- PostgreSQL database dump
--
\restrict abc123
SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END; $$;
CREATE TABLE public.users (
    id bigint NOT NULL,
    name text NOT NULL,
    bio text,
    email character varying(200),
    settings jsonb DEFAULT '{}'::jsonb
);
CREATE TABLE public.orders (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    status text,
    created_at timestamp with time zone
);
ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.orders
    ADD CONSTRAINT orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id);
CREATE INDEX orders_user_created ON public.orders USING btree (user_id, created_at DESC);
COMMENT ON TABLE public.users IS 'people; with semicolons';
"#;

    #[test]
    fn reads_pg_dump() {
        let s = Schema::from_ddl(DUMP, Dialect::Postgres);
        let users = &s.tables["users"];
        assert_eq!(users.primary_key, vec!["id"]);
        let wide: Vec<_> = users
            .columns
            .iter()
            .filter(|c| c.wide)
            .map(|c| &c.name)
            .collect();
        assert_eq!(wide, vec!["bio", "settings"]);
        assert_eq!(s.foreign_keys[0].ref_table, "users");
        let ix: Vec<_> = s.indexes_on("orders").collect();
        assert_eq!(ix[0].columns, vec!["user_id", "created_at DESC"]);
    }

    #[test]
    fn reads_mysql_inline_keys() {
        let s = Schema::from_ddl(
            "CREATE TABLE `order_items` (id INT PRIMARY KEY AUTO_INCREMENT, order_id INT, \
             KEY idx_order (order_id), FOREIGN KEY (order_id) REFERENCES orders(id)) ENGINE=InnoDB;",
            Dialect::Mysql,
        );
        assert_eq!(s.tables["order_items"].primary_key, vec!["id"]);
        assert_eq!(
            s.indexes_on("order_items").next().unwrap().columns,
            vec!["order_id"]
        );
        assert_eq!(s.foreign_keys[0].table, "order_items");
    }
}
