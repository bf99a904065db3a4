//! Live PostgreSQL: the only code that talks to a database (and the only tokio code).
//!
//! Every session is read-only (`default_transaction_read_only`), bounded
//! (`statement_timeout`, `lock_timeout`), named `qperf`, and never prints the password:
//! errors are scrubbed of it before they leave this module. The one write qperf may do
//! is `CREATE EXTENSION hypopg` for `verify`, in its own transaction, and EXPLAIN ANALYZE
//! of a data-changing statement with `--analyze-writes`, always rolled back.

pub mod catalog;
pub mod explain;
pub mod pgss;
pub mod verify;

use std::time::Duration;

use anyhow::{Result, anyhow};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{Client, Config, NoTls};

/// Where to connect, with what is safe to print.
#[derive(Clone)]
pub struct Target {
    config: Config,
    /// `postgres@127.0.0.1:5432/seed_shop`: no password, ever.
    pub display: String,
    secrets: Vec<String>,
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// Removes every occurrence of the password (and its URL-encoded form) from a message.
pub fn scrub(msg: &str, secrets: &[String]) -> String {
    let mut out = msg.to_string();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(s.as_str(), "<password>");
    }
    out
}

fn percent_encoded(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Target {
    /// `--db` (URL or `key=value`), else `PGURL` / `DATABASE_URL`, else the standard
    /// `PG*` variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`).
    pub fn resolve(db: Option<&str>) -> Result<Target> {
        let spec = db
            .map(str::to_string)
            .or_else(|| env("PGURL"))
            .or_else(|| env("DATABASE_URL"));
        let mut secrets = Vec::new();
        let mut config = match &spec {
            Some(s) => {
                // Collect the password before parsing so a parse error cannot echo it.
                if let Some(p) = password_in(s) {
                    secrets.push(p.clone());
                    secrets.push(percent_encoded(&p));
                }
                s.parse::<Config>().map_err(|e| {
                    anyhow!(
                        "--db: not a connection URL or key=value string ({})",
                        scrub(&e.to_string(), &secrets)
                    )
                })?
            }
            None => {
                let mut c = Config::new();
                c.host(env("PGHOST").unwrap_or_else(|| "localhost".into()));
                if let Some(p) = env("PGPORT") {
                    c.port(
                        p.parse()
                            .map_err(|_| anyhow!("PGPORT `{p}` is not a port number"))?,
                    );
                }
                c.user(
                    env("PGUSER")
                        .or_else(|| env("USER"))
                        .unwrap_or_else(|| "postgres".into()),
                );
                if let Some(d) = env("PGDATABASE") {
                    c.dbname(d);
                }
                c
            }
        };
        if config.get_password().is_none()
            && let Some(p) = env("PGPASSWORD")
        {
            config.password(p.clone());
        }
        if let Some(p) = config.get_password() {
            let p = String::from_utf8_lossy(p).into_owned();
            secrets.push(percent_encoded(&p));
            secrets.push(p);
        }
        if config.get_hosts().is_empty() {
            config.host("localhost");
        }
        config.application_name("qperf");
        config.connect_timeout(Duration::from_secs(10));
        // Read-only and bounded, whatever the role's defaults are.
        let opts = format!(
            "{} -c default_transaction_read_only=on -c statement_timeout=60000 -c lock_timeout=1000",
            config.get_options().unwrap_or("")
        );
        config.options(opts.trim());
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let display = format!(
            "{}@{host}:{port}/{}",
            config.get_user().unwrap_or("?"),
            config.get_dbname().or(config.get_user()).unwrap_or("?")
        );
        Ok(Target {
            config,
            display,
            secrets,
        })
    }

    /// An error message safe to print: the error and its causes (tokio-postgres keeps
    /// the server's message in the source), without the password.
    pub fn err<E: std::fmt::Display + std::fmt::Debug + 'static>(
        &self,
        what: &str,
        e: E,
    ) -> anyhow::Error {
        let mut text = e.to_string();
        let any: &dyn std::any::Any = &e;
        if let Some(pg) = any.downcast_ref::<tokio_postgres::Error>() {
            if let Some(db) = pg.as_db_error() {
                text = format!("{}: {}", db.severity(), db.message());
                if let Some(d) = db.detail() {
                    text.push_str(&format!(" ({d})"));
                }
                if let Some(h) = db.hint() {
                    text.push_str(&format!("; hint: {h}"));
                }
            } else {
                let mut src = std::error::Error::source(pg);
                while let Some(s) = src {
                    text.push_str(&format!(": {s}"));
                    src = s.source();
                }
            }
        }
        anyhow!("{what} ({}): {}", self.display, scrub(&text, &self.secrets))
    }

    /// Connects; TLS as `sslmode` asks (`prefer`, the default, tries it; `require`
    /// insists). Like libpq's `require`, the certificate is not checked against a CA:
    /// the link is encrypted, the server not authenticated.
    pub async fn connect(&self) -> Result<Client> {
        let fail = |e: tokio_postgres::Error| self.err("cannot connect to PostgreSQL", e);
        if self.config.get_ssl_mode() == SslMode::Disable {
            let (client, conn) = self.config.connect(NoTls).await.map_err(fail)?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            return Ok(client);
        }
        let tls = native_tls::TlsConnector::builder()
            .danger_accept_invalid_certs(true)
            .danger_accept_invalid_hostnames(true)
            .build()
            .map_err(|e| anyhow!("cannot set up TLS: {e}"))?;
        let (client, conn) = self
            .config
            .connect(postgres_native_tls::MakeTlsConnector::new(tls))
            .await
            .map_err(fail)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(client)
    }
}

/// The password part of a URL (`postgres://user:pw@host`) or a `password=` pair.
fn password_in(s: &str) -> Option<String> {
    if let Some(rest) = s.split_once("://").map(|x| x.1) {
        let auth = rest.split('@').next().filter(|_| rest.contains('@'))?;
        return auth.split_once(':').map(|(_, p)| p.to_string());
    }
    for pair in s.split_whitespace() {
        if let Some(p) = pair.strip_prefix("password=") {
            return Some(p.trim_matches('\'').to_string());
        }
    }
    None
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow!("cannot start the async runtime: {e}"))
}

/// Bind values as SQL literals for `EXECUTE`, `NULL` kept as the keyword.
pub fn sql_values(values: &[String]) -> Vec<String> {
    values
        .iter()
        .map(|v| if v == "NULL" { v.clone() } else { literal(v) })
        .collect()
}

/// `'text'` as an SQL literal.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_shown() {
        let t = Target::resolve(Some("postgresql://app:s3cr%40t@db.internal:6432/shop")).unwrap();
        assert_eq!(t.display, "app@db.internal:6432/shop");
        let e = t.err(
            "cannot connect",
            "password authentication failed for s3cr%40t and s3cr@t",
        );
        assert!(!e.to_string().contains("s3cr"), "{e}");
        let t = Target::resolve(Some("host=db user=app password=hunter2 dbname=shop")).unwrap();
        assert!(!t.display.contains("hunter2"));
        let e = Target::resolve(Some("postgresql://app:hunter2@db:notaport/x"))
            .err()
            .unwrap();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
}
