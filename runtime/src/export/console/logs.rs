//! `OTEL_LOGS_EXPORTER=console`: one line per log record on stdout, with
//! the ids of the span it belongs to.
//!
//! ```text
//! 2026-12-01T22:16:42.123Z  INFO app::login user logged in  user="ana"  trace_id=5b8e… span_id=eee1…
//! ```

use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::logs::AnyValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLogRecord};

/// Prints each log record as a line on stdout.
#[derive(Debug, Default)]
pub(crate) struct ConsoleLogExporter;

impl LogExporter for ConsoleLogExporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let mut out = String::new();
        for (record, scope) in batch.iter() {
            line(&mut out, record, scope.name());
        }
        let mut stdout = std::io::stdout().lock();
        // A closed stdout loses the lines, never the application.
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
        Ok(())
    }
}

/// One record as a line.
pub(crate) fn line(out: &mut String, record: &SdkLogRecord, scope: &str) {
    use std::fmt::Write as _;
    let time = record.timestamp().or(record.observed_timestamp());
    if let Some(time) = time {
        out.push_str(&rfc3339(time));
        out.push(' ');
    }
    let level = record.severity_text().unwrap_or("-");
    let target = record.target().map_or(scope, |t| t.as_ref());
    let _ = write!(out, "{level:>5} {target}");
    if let Some(name) = record.event_name().filter(|n| *n == "exception") {
        let _ = write!(out, " {name}");
    }
    if let Some(body) = record.body() {
        out.push(' ');
        any(out, body);
    }
    for (key, value) in record.attributes_iter() {
        let _ = write!(out, "  {key}=");
        any(out, value);
    }
    if let Some(tc) = record.trace_context() {
        let _ = write!(out, "  trace_id={} span_id={}", tc.trace_id, tc.span_id);
    }
    out.push('\n');
}

fn any(out: &mut String, value: &AnyValue) {
    use std::fmt::Write as _;
    let _ = match value {
        AnyValue::String(s) => write!(out, "{:?}", s.as_str()),
        AnyValue::Int(i) => write!(out, "{i}"),
        AnyValue::Double(d) => write!(out, "{d}"),
        AnyValue::Boolean(b) => write!(out, "{b}"),
        AnyValue::ListAny(list) => {
            out.push('[');
            for (i, v) in list.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                any(out, v);
            }
            out.push(']');
            Ok(())
        }
        other => write!(out, "{other:?}"),
    };
}

/// `2026-12-01T22:16:42.123Z` (UTC, milliseconds), without a date crate.
fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{:03}Z",
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::rfc3339;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn dates_are_civil() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_796_163_402_123);
        assert_eq!(rfc3339(t), "2026-12-01T22:16:42.123Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }
}

#[cfg(test)]
mod line_tests {
    use opentelemetry::logs::{
        AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity,
    };
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
    use opentelemetry_sdk::logs::SdkLoggerProvider;

    #[test]
    fn a_record_is_one_line_with_its_ids() {
        let logger = SdkLoggerProvider::builder().build().logger("scope");
        let mut record = logger.create_log_record();
        record.set_severity_number(Severity::Error);
        record.set_severity_text("ERROR");
        record.set_event_name("exception");
        record.set_body(AnyValue::from("disk full"));
        record.add_attribute("exception.type", "io::Error");
        record.add_attribute("attempt", 2);
        record.set_trace_context(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            Some(TraceFlags::SAMPLED),
        );
        let mut out = String::new();
        super::line(&mut out, &record, "traced");
        assert_eq!(
            out,
            "ERROR traced exception \"disk full\"  exception.type=\"io::Error\"  attempt=2  trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7\n"
        );
    }
}
