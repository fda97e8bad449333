//! OTLP log records into the records the joiner holds beside the spans.

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::LogRecord;

use super::convert::{attributes, service, span_id, time, trace_id, value};
use crate::join::Log;

/// What one export request held: the records that could be read, and how
/// many could not (with the first reason) for a partial-success answer.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    pub(crate) logs: Vec<Log>,
    pub(crate) rejected: i64,
    pub(crate) error: Option<String>,
}

/// Reads every record of `request`. A record may name no trace (it is
/// kept as such, and counted by the joiner); one whose ids are malformed
/// is rejected.
pub(crate) fn decode(request: ExportLogsServiceRequest) -> Decoded {
    let mut out = Decoded::default();
    for resource_logs in request.resource_logs {
        let service = service(resource_logs.resource);
        for scope_logs in resource_logs.scope_logs {
            for record in scope_logs.log_records {
                match log(record, &service) {
                    Ok(log) => out.logs.push(log),
                    Err(why) => {
                        out.rejected += 1;
                        out.error.get_or_insert(why);
                    }
                }
            }
        }
    }
    out
}

fn log(record: LogRecord, service: &std::sync::Arc<str>) -> Result<Log, String> {
    let trace = match record.trace_id.len() {
        0 => TraceId::INVALID,
        // All zeros is "no trace", as the specification allows.
        16 => trace_id(&record.trace_id).unwrap_or(TraceId::INVALID),
        n => {
            return Err(format!(
                "a log record has a trace id of {n} bytes; it must be 16 or none"
            ));
        }
    };
    let span = match record.span_id.len() {
        0 => SpanId::INVALID,
        8 => span_id(&record.span_id).unwrap_or(SpanId::INVALID),
        n => {
            return Err(format!(
                "a log record has a span id of {n} bytes; it must be 8 or none"
            ));
        }
    };
    let when = match record.time_unix_nano {
        0 => record.observed_time_unix_nano,
        t => t,
    };
    let severity = if record.severity_text.is_empty() {
        severity(record.severity_number).to_owned()
    } else {
        record.severity_text
    };
    Ok(Log {
        trace_id: trace,
        span_id: span,
        service: service.clone(),
        time: time(when),
        severity,
        body: match record.body {
            Some(body) => value(Some(body), 0).as_str().into_owned(),
            None => String::new(),
        },
        attributes: attributes(record.attributes),
    })
}

/// The name of a `SeverityNumber`: 1–4 TRACE, 5–8 DEBUG, 9–12 INFO, 13–16
/// WARN, 17–20 ERROR, 21–24 FATAL.
fn severity(number: i32) -> &'static str {
    match number {
        1..=4 => "TRACE",
        5..=8 => "DEBUG",
        9..=12 => "INFO",
        13..=16 => "WARN",
        17..=20 => "ERROR",
        21..=24 => "FATAL",
        _ => "LOG",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
    use opentelemetry_proto::tonic::logs::v1::{ResourceLogs, ScopeLogs};

    #[test]
    fn records_name_their_span_or_are_rejected() {
        let record = |trace_id: Vec<u8>, span_id: Vec<u8>| LogRecord {
            trace_id,
            span_id,
            severity_number: 17,
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue("disk full".into())),
            }),
            time_unix_nano: 5,
            ..Default::default()
        };
        let request = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![
                        record(vec![1; 16], vec![2; 8]),
                        record(Vec::new(), Vec::new()),
                        record(vec![1; 3], vec![2; 8]),
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let decoded = decode(request);
        assert_eq!(decoded.rejected, 1);
        assert!(decoded.error.unwrap().contains("trace id of 3 bytes"));
        let [named, loose] = &decoded.logs[..] else {
            panic!("{:?}", decoded.logs)
        };
        assert_eq!(named.span_id, SpanId::from_bytes([2; 8]));
        assert_eq!(named.severity, "ERROR");
        assert_eq!(named.body, "disk full");
        assert_eq!(&*named.service, "unknown_service");
        assert_eq!(loose.trace_id, TraceId::INVALID);
    }
}
