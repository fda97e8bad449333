//! The RED table as text, printed beside the trace trees: one block per
//! service, a section per metric, a row per operation, each figure
//! followed by the first 8 hex digits of its exemplar's trace id (search
//! for them on the page):
//!
//! ```text
//! RED shop      calls  rate               errors  p50                p95               p99
//!   traced.function.duration
//!     checkout     10  1.00/s [abababab]  20.0%   8.33ms [abababab]  100ms [abababab]  100ms [abababab]
//!
//! ```

use std::fmt::Write as _;

use super::{Figure, Red};

/// Operations printed per metric, the busiest first; the page shows all.
pub(crate) const ROWS_MAX: usize = 10;
/// Operation names are cut to this many characters.
const OPERATION_WIDTH: usize = 48;

const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// The table of every service in `red`.
pub(crate) fn render(red: &Red, color: bool) -> String {
    let mut out = String::new();
    for service in &red.services {
        let mut rows: Vec<[String; 7]> = Vec::new();
        // Rows that are a metric's name or a note, not figures.
        let mut notes: Vec<(usize, String)> = Vec::new();
        for metric in &service.metrics {
            notes.push((rows.len(), format!("  {}", metric.metric)));
            for op in metric.operations.iter().take(ROWS_MAX) {
                rows.push([
                    format!("    {}", short(&op.operation)),
                    op.count.to_string(),
                    cell(&op.rate, |r| format!("{}/s", number(r)), color),
                    cell(&op.error_ratio, |r| format!("{:.1}%", r * 100.0), color),
                    cell(&op.p50, duration, color),
                    cell(&op.p95, duration, color),
                    cell(&op.p99, duration, color),
                ]);
            }
            let more = metric.operations.len().saturating_sub(ROWS_MAX);
            if more > 0 {
                notes.push((
                    rows.len(),
                    format!("    … {more} more on the page (--ui), busiest first here"),
                ));
            }
        }
        let head = [
            format!("RED {}", service.service),
            "calls".to_owned(),
            "rate".to_owned(),
            "errors".to_owned(),
            "p50".to_owned(),
            "p95".to_owned(),
            "p99".to_owned(),
        ];
        let mut widths = [0usize; 7];
        for row in std::iter::once(&head).chain(&rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(visible(cell));
            }
        }
        let line = |out: &mut String, row: &[String; 7]| {
            let mut text = String::new();
            for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
                let pad = " ".repeat(width.saturating_sub(visible(cell)));
                match i {
                    0 => {
                        let _ = write!(text, "{cell}{pad}");
                    }
                    // The count is right-aligned, the figures left-aligned.
                    1 => {
                        let _ = write!(text, "  {pad}{cell}");
                    }
                    _ => {
                        let _ = write!(text, "  {cell}{pad}");
                    }
                }
            }
            let _ = writeln!(out, "{}", text.trim_end());
        };
        line(&mut out, &head);
        let mut notes = notes.into_iter().peekable();
        for (i, row) in rows.iter().enumerate() {
            while let Some((_, note)) = notes.next_if(|(at, _)| *at == i) {
                let _ = writeln!(out, "{note}");
            }
            line(&mut out, row);
        }
        for (_, note) in notes {
            let _ = writeln!(out, "{note}");
        }
        out.push('\n');
    }
    out
}

/// A figure and its exemplar, `–` when unknown.
fn cell(figure: &Figure, show: impl Fn(f64) -> String, color: bool) -> String {
    match figure.value {
        Some(value) => show(value) + &exemplar(figure.exemplar.as_ref(), color),
        None => "–".to_owned(),
    }
}

fn exemplar(exemplar: Option<&super::ExemplarView>, color: bool) -> String {
    match exemplar {
        Some(e) => {
            let short = e.trace_id.get(..8).unwrap_or(&e.trace_id);
            if color {
                format!(" {DIM}[{short}]{RESET}")
            } else {
                format!(" [{short}]")
            }
        }
        None => String::new(),
    }
}

/// The width of `text` on a terminal: characters, escapes left out.
fn visible(text: &str) -> usize {
    let mut width = 0;
    let mut escape = false;
    for c in text.chars() {
        match (escape, c) {
            (false, '\x1b') => escape = true,
            (true, 'm') => escape = false,
            (true, _) => {}
            (false, _) => width += 1,
        }
    }
    width
}

fn short(operation: &str) -> String {
    if operation.chars().count() <= OPERATION_WIDTH {
        return operation.to_owned();
    }
    let cut: String = operation.chars().take(OPERATION_WIDTH - 1).collect();
    cut + "…"
}

/// Three significant digits or so: `0.017`, `4.00`, `12.5`, `230`.
fn number(n: f64) -> String {
    match n.abs() {
        n if n >= 100.0 => format!("{n:.0}"),
        n if n >= 10.0 => format!("{n:.1}"),
        n if n >= 0.1 || n == 0.0 => format!("{n:.2}"),
        _ => format!("{n:.3}"),
    }
}

/// Seconds as the console tree writes durations: `850µs`, `8.33ms`, `1.20s`.
fn duration(seconds: f64) -> String {
    if seconds < 1e-3 {
        format!("{}µs", number(seconds * 1e6))
    } else if seconds < 1.0 {
        format!("{}ms", number(seconds * 1e3))
    } else {
        format!("{}s", number(seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations() {
        assert_eq!(number(0.0166), "0.017");
        assert_eq!(number(4.0), "4.00");
        assert_eq!(number(12.54), "12.5");
        assert_eq!(number(230.4), "230");
        assert_eq!(duration(0.000_85), "850µs");
        assert_eq!(duration(0.008_333), "8.33ms");
        assert_eq!(duration(1.2), "1.20s");
        assert_eq!(visible("\x1b[2m[abc]\x1b[0m"), 5);
        assert_eq!(short(&"x".repeat(60)).chars().count(), OPERATION_WIDTH);
    }
}
