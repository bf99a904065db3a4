//! `--format github`: GitHub Actions workflow commands. Each finding becomes an
//! annotation (`::error`, `::warning`, `::notice`) on the log file and line where its
//! statement first appeared, so it shows on the run's summary page.

use std::io::{self, Write};

use super::schema::Report;
use crate::rules::Severity;

/// Workflow-command escaping: data and property values differ.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn prop(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn write(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    for f in &report.findings {
        let cmd = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        if let Some((file, line)) = f.location.as_deref().and_then(|l| l.rsplit_once(':')) {
            props.push(format!("file={}", prop(file)));
            props.push(format!("line={}", prop(line)));
        }
        let fp = f.fingerprint.map(|x| x.to_string()).unwrap_or_default();
        props.push(format!("title={}", prop(&format!("qperf {} {fp}", f.rule))));
        let mut msg = format!("{}\n{}", f.message, f.help);
        for s in &f.suggestions {
            msg.push_str(&format!("\n{}: {}", s.title, s.sql));
        }
        writeln!(w, "::{cmd} {}::{}", props.join(","), data(&msg))?;
    }
    let s = &report.summary;
    writeln!(
        w,
        "::notice title=qperf::{}",
        data(&format!(
            "{} findings over {} statements ({} distinct) in {}",
            report.findings.len(),
            s.events,
            s.fingerprints,
            s.files
                .iter()
                .map(|f| f.path.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    )
}
