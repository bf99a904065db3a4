//! `--format json`: the schema in [`super::schema`], pretty-printed.

use std::io::{self, Write};

use super::schema::Report;

pub fn write(report: &Report, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, report)?;
    writeln!(w)
}
