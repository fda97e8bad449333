//! The export thread with sinks of our own shape (`tests/pipeline.rs`
//! covers what the public API shows).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;

use super::PipelineProvider;
use super::batch::Spans;
use super::export::{Export, Sink};
use crate::export::reported::counter_test_lock;

/// What the sinks below share with the test.
#[derive(Default)]
struct State {
    /// Exports in flight now, and the most at once.
    in_flight: usize,
    peak: usize,
    exported: usize,
    released: bool,
    waiting: Vec<Waker>,
}

/// Holds every export until released; says when one starts.
struct Gated {
    concurrent: bool,
    state: Arc<Mutex<State>>,
    started: Mutex<mpsc::Sender<()>>,
}

impl Sink for Gated {
    fn export(&self, spans: Spans) -> Export<'_> {
        let count = spans.len();
        {
            let mut state = self.state.lock().unwrap();
            state.in_flight += 1;
            state.peak = state.peak.max(state.in_flight);
        }
        self.started.lock().unwrap().send(()).unwrap();
        Box::pin(std::future::poll_fn(move |cx| {
            let mut state = self.state.lock().unwrap();
            if !state.released {
                state.waiting.push(cx.waker().clone());
                return Poll::Pending;
            }
            state.in_flight -= 1;
            state.exported += count;
            Poll::Ready(Ok(()))
        }))
    }
    fn concurrent(&self) -> bool {
        self.concurrent
    }
    fn flush(&mut self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown(&mut self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn prepare(&mut self, _resource: &Resource, _limit: Option<usize>) {}
}

/// Up to `max_concurrent_exports` batches are out at once with a sink
/// that allows it (our OTLP sinks), one with a sink that does not.
#[test]
fn a_concurrent_sink_has_up_to_the_limit_in_flight_and_others_one() {
    // Its pipelines count what their shutdown leaves in dropped_spans(),
    // which other tests read.
    let _serial = counter_test_lock();
    for (concurrent, want) in [(true, 3), (false, 1)] {
        let state = Arc::new(Mutex::new(State::default()));
        let (started_tx, started) = mpsc::channel();
        let provider = PipelineProvider::builder()
            .with_sink(Box::new(Gated {
                concurrent,
                state: state.clone(),
                started: Mutex::new(started_tx),
            }))
            .with_max_export_batch_size(1)
            .with_max_concurrent_exports(3)
            .build()
            .unwrap();
        let tracer = provider.tracer("gated");
        for _ in 0..5 {
            tracer.start("s").end();
        }
        for _ in 0..want {
            started
                .recv_timeout(Duration::from_secs(10))
                .expect("an export starts");
        }
        // No more start while those are held.
        assert!(started.recv_timeout(Duration::from_millis(50)).is_err());
        {
            let mut state = state.lock().unwrap();
            state.released = true;
            state.waiting.drain(..).for_each(Waker::wake);
        }
        provider.force_flush().unwrap();
        let state = state.lock().unwrap();
        assert_eq!(state.peak, want, "concurrent: {concurrent}");
        assert_eq!(state.exported, 5);
    }
}

/// Panics as it is handed its first batch, before any future exists.
struct PanicsAtOnce(Mutex<usize>, Arc<Mutex<usize>>);

impl Sink for PanicsAtOnce {
    fn export(&self, spans: Spans) -> Export<'_> {
        let mut calls = self.0.lock().unwrap();
        *calls += 1;
        if *calls == 1 {
            drop(calls);
            panic!("a bug in export");
        }
        *self.1.lock().unwrap() += spans.len();
        Box::pin(std::future::ready(Ok(())))
    }
    fn flush(&mut self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown(&mut self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn prepare(&mut self, _resource: &Resource, _limit: Option<usize>) {}
}

// Regression for #25: a panic in a sink's `export` itself (our OTLP
// sinks encode there) is caught like one in its future.
#[test]
fn a_sink_that_panics_in_export_loses_its_batch_alone() {
    let _serial = counter_test_lock();
    let exported = Arc::new(Mutex::new(0));
    let provider = PipelineProvider::builder()
        .with_sink(Box::new(PanicsAtOnce(Mutex::new(0), exported.clone())))
        .with_max_export_batch_size(2)
        .with_export_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let tracer = provider.tracer("panics");
    let before = super::dropped();
    tracer.start("lost").end();
    tracer.start("lost").end();
    // Answered with the panic, not after the export timeout (told apart
    // by the error, not by a clock).
    let flushed = provider.force_flush();
    assert!(
        !matches!(
            flushed,
            Err(opentelemetry_sdk::error::OTelSdkError::Timeout(_))
        ),
        "{flushed:?}"
    );
    tracer.start("after").end();
    provider.force_flush().unwrap();
    provider.shutdown().unwrap();
    assert_eq!(super::dropped() - before, 2);
    assert_eq!(*exported.lock().unwrap(), 1);
}
