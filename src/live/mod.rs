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
    verify: Verify,
    /// `sslrootcert`: certificates to trust besides the system's.
    root_cert: Option<std::path::PathBuf>,
}

/// How much of the server's certificate is checked: libpq's `sslmode` beyond what
/// tokio-postgres reads (`disable`, `prefer`, `require`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verify {
    /// `prefer` / `require`: encrypted, the server not authenticated.
    Nothing,
    /// `verify-ca`: signed by a trusted CA, whatever host name it names.
    Ca,
    /// `verify-full`: signed by a trusted CA and naming the host connected to.
    Full,
}

/// Takes libpq's `sslmode=verify-ca|verify-full` and `sslrootcert=…` out of a URL's
/// query or a `key=value` string, as tokio-postgres rejects both: the modes become
/// `require` there. Returns the rest, the mode and the root certificate path; a string
/// with neither comes back unchanged.
fn take_tls_params(spec: &str) -> (String, Option<String>, Option<String>) {
    let (mut mode, mut root) = (None, None);
    if let Some((head, query)) = spec.split_once('?').filter(|_| spec.contains("://")) {
        let mut kept = Vec::new();
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "sslmode" if v.starts_with("verify-") => {
                    mode = Some(v.to_string());
                    kept.push("sslmode=require".to_string());
                }
                "sslmode" => {
                    mode = Some(v.to_string());
                    kept.push(pair.to_string());
                }
                "sslrootcert" => root = Some(crate::sql::tags::percent_decode(v)),
                _ => kept.push(pair.to_string()),
            }
        }
        let rest = if kept.is_empty() {
            head.to_string()
        } else {
            format!("{head}?{}", kept.join("&"))
        };
        return (rest, mode, root);
    }
    // key=value pairs; a value may be quoted ('a b', with \' and \\ escapes).
    let b = spec.as_bytes();
    let mut rest = String::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &spec[start..i];
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'=') {
            i += 1;
        }
        let mut value = String::new();
        if b.get(i) == Some(&b'\'') {
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                let c = spec[i..].chars().next().unwrap_or_default();
                value.push(c);
                i += c.len_utf8().max(1);
            }
            i += 1;
        } else {
            let v0 = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            value.push_str(&spec[v0..i]);
        }
        let pair = &spec[start..i.min(spec.len())];
        match key {
            "sslmode" if value.starts_with("verify-") => {
                mode = Some(value);
                rest.push_str(" sslmode=require");
            }
            "sslmode" => {
                mode = Some(value);
                rest.push(' ');
                rest.push_str(pair);
            }
            "sslrootcert" => root = Some(value),
            "" => {}
            _ => {
                rest.push(' ');
                rest.push_str(pair);
            }
        }
    }
    if root.is_none() && !mode.as_deref().is_some_and(|m| m.starts_with("verify-")) {
        return (spec.to_string(), mode, None);
    }
    (rest.trim_start().to_string(), mode, root)
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
        let (spec, mode, root) = match spec {
            Some(s) => {
                let (rest, mode, root) = take_tls_params(&s);
                (Some(rest), mode, root)
            }
            None => (None, None, None),
        };
        // The connection string wins over the environment, as in libpq.
        let mode = mode.or_else(|| env("PGSSLMODE"));
        let root_cert = root.or_else(|| env("PGSSLROOTCERT")).map(Into::into);
        let verify = match mode.as_deref() {
            Some("verify-full") => Verify::Full,
            Some("verify-ca") => Verify::Ca,
            Some("disable" | "allow" | "prefer" | "require") | None => {
                // libpq: `require` with a root certificate given checks as verify-ca.
                if root_cert.is_some() && mode.as_deref() == Some("require") {
                    Verify::Ca
                } else {
                    Verify::Nothing
                }
            }
            Some(other) => {
                return Err(anyhow!(
                    "sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
                ));
            }
        };
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
        match (verify, mode.as_deref()) {
            (Verify::Ca | Verify::Full, _) | (_, Some("require")) => {
                config.ssl_mode(SslMode::Require);
            }
            (_, Some("disable")) => {
                config.ssl_mode(SslMode::Disable);
            }
            _ => {}
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
            verify,
            root_cert,
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
    /// insists). As in libpq, `prefer` and `require` do not check the certificate (the
    /// link is encrypted, the server not authenticated); `verify-ca` checks that a CA
    /// trusted here (the system's, and `sslrootcert`'s) signed it, `verify-full` also
    /// that it names the host.
    pub async fn connect(&self) -> Result<Client> {
        let fail = |e: tokio_postgres::Error| self.err("cannot connect to PostgreSQL", e);
        if self.config.get_ssl_mode() == SslMode::Disable {
            let (client, conn) = self.config.connect(NoTls).await.map_err(fail)?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            return Ok(client);
        }
        let mut tls = native_tls::TlsConnector::builder();
        match self.verify {
            Verify::Nothing => {
                tls.danger_accept_invalid_certs(true)
                    .danger_accept_invalid_hostnames(true);
            }
            Verify::Ca => {
                tls.danger_accept_invalid_hostnames(true);
            }
            Verify::Full => {}
        }
        if let Some(path) = &self.root_cert {
            let pem = std::fs::read(path)
                .map_err(|e| anyhow!("cannot read sslrootcert {}: {e}", path.display()))?;
            let cert = native_tls::Certificate::from_pem(&pem).map_err(|e| {
                anyhow!(
                    "sslrootcert {} is not a PEM certificate: {e}",
                    path.display()
                )
            })?;
            tls.add_root_certificate(cert);
        }
        let tls = tls.build().map_err(|e| anyhow!("cannot set up TLS: {e}"))?;
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
    fn verify_modes_and_root_certificates_are_taken_out_for_tokio_postgres() {
        let (rest, mode, root) = take_tls_params(
            "postgresql://u:p@db/shop?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=5",
        );
        assert_eq!(
            rest,
            "postgresql://u:p@db/shop?sslmode=require&connect_timeout=5"
        );
        assert_eq!(mode.as_deref(), Some("verify-full"));
        assert_eq!(root.as_deref(), Some("/etc/ca.pem"));
        let (rest, mode, root) = take_tls_params(
            "host=db password='a b\\'c' sslmode = verify-ca sslrootcert='/x y.pem'",
        );
        assert_eq!(rest, "host=db password='a b\\'c' sslmode=require");
        assert_eq!(mode.as_deref(), Some("verify-ca"));
        assert_eq!(root.as_deref(), Some("/x y.pem"));
        // Without either, the string is left as it is.
        for s in [
            "host=db  sslmode=require",
            "postgresql://db/x?sslmode=prefer",
            "postgresql://db/x",
        ] {
            assert_eq!(take_tls_params(s).0, s);
        }
        let t = Target::resolve(Some("host=db sslmode=verify-full")).unwrap();
        assert_eq!(t.verify, Verify::Full);
        assert_eq!(t.config.get_ssl_mode(), SslMode::Require);
        let t = Target::resolve(Some("host=db sslmode=require sslrootcert=/ca.pem")).unwrap();
        assert_eq!(t.verify, Verify::Ca);
        assert_eq!(
            Target::resolve(Some("host=db")).unwrap().verify,
            Verify::Nothing
        );
        assert!(Target::resolve(Some("host=db sslmode=verify")).is_err());
    }

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
