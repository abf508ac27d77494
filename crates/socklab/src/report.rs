//! How the toolbox commands (dns, ping, scan, ifaces, subnet, ports, trace, convert) print
//! their reports: a readable table on a terminal, or with `--json` one JSON document that
//! scripts can rely on. The reports themselves come from socklab-net and know nothing of
//! either form.

use std::io::Write;

use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::printer::style::Style;

/// Writes `value` as one pretty-printed JSON document and a newline to stdout.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    // Serialized first, written second: a closed pipe is then an io::Error that main
    // recognises (and exits quietly on), not one hidden inside serde_json's error.
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    let mut out = std::io::stdout().lock();
    out.write_all(&text)?;
    out.flush()?;
    Ok(())
}

/// Columns aligned by display width (so that Chinese text lines up), with a dim header.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Columns aligned to the right (numbers).
    right: Vec<usize>,
}

impl Table {
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Table {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            ..Table::default()
        }
    }

    /// Aligns the given columns (0-based) to the right.
    pub fn right_align(mut self, columns: &[usize]) -> Table {
        self.right = columns.to_vec();
        self
    }

    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Renders the table; the last column is never padded, so lines carry no trailing blanks.
    pub fn render(&self, style: Style) -> String {
        let columns = self
            .rows
            .iter()
            .map(Vec::len)
            .chain([self.header.len()])
            .max()
            .unwrap_or(0);
        let mut widths = vec![0; columns];
        for row in self.rows.iter().chain([&self.header]) {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.width());
            }
        }
        let mut out = Vec::new();
        if !self.header.is_empty() {
            let line = self.line(&self.header, &widths);
            style.paint(&mut out, crate::printer::style::STATUS, &line);
            out.push(b'\n');
        }
        for row in &self.rows {
            out.extend_from_slice(self.line(row, &widths).as_bytes());
            out.push(b'\n');
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    fn line(&self, cells: &[String], widths: &[usize]) -> String {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = widths[i].saturating_sub(cell.width());
            let last = i + 1 == cells.len();
            if self.right.contains(&i) {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if !last {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
        }
        line
    }
}

/// Prints `text` to stdout as it is (tables and summaries).
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_by_display_width() {
        let mut t = Table::new(["name", "port"]).right_align(&[1]);
        t.row(["http", "80"]);
        t.row(["网络调试", "7788"]);
        let text = t.render(Style::plain());
        assert_eq!(text, "name      port\nhttp        80\n网络调试  7788\n");
    }
}
