//! `traced-view`: a local OTLP receiver that joins the spans of every
//! service into one trace per request and shows it as the console tree and
//! as a web waterfall — the picture Jaeger draws, without Docker — and
//! shows the services' rate, errors and duration per operation, each
//! figure leading to an exemplar trace.
//!
//! ```text
//! cargo run -p traced-view -- --ui          # OTLP on 4317 (gRPC) and 4318 (HTTP), page on 16686
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 cargo run --example quickstart
//! ```
//!
//! | module | owns |
//! | --- | --- |
//! | `receive` | the OTLP endpoints for traces, logs and metrics (gRPC on tonic, HTTP protobuf/JSON on axum), what an export may cost, OTLP → spans, log records and histogram points |
//! | `join` | spans and log records joined by trace id, when a trace is complete, the memory bounds, search |
//! | `red` | duration histograms per series (cumulative or delta, at most 1 000 series), the RED table per service and operation: rate, error ratio, p50/p95/p99 and their exemplars; the table as text |
//! | `print` | a joined trace as the console tree, services and process boundaries marked, log records among events |
//! | `ui` | the web page and its JSON (traces, one trace, metrics) |
//! | `guard` | every listener answers loopback hosts only, and writes from no foreign origin |
//! | `config` | the command line |
//!
//! The examples start it in-process with [`Viewer::start`].

#![warn(missing_docs)]

mod config;
mod guard;
mod join;
mod print;
mod receive;
mod red;
mod ui;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{
    Command, Config, GRPC_DEFAULT, HTTP_DEFAULT, QUIET_DEFAULT, TIMEOUT_DEFAULT, UI_DEFAULT, USAGE,
    VERSION,
};
pub use join::Limits;

use guard::Hosts;
use join::{Joiner, Timing};
use receive::Receiver;

/// Where the printed trees go.
type Out = Arc<Mutex<Box<dyn Write + Send>>>;

/// A running viewer: its endpoints serve on the tokio runtime it was
/// started on, and a task prints each trace once it is complete, and the
/// RED table of the services that sent metrics once they paused (at most
/// every ten seconds).
pub struct Viewer {
    grpc: Option<SocketAddr>,
    http: Option<SocketAddr>,
    ui: Option<SocketAddr>,
    receiver: Arc<Receiver>,
    out: Out,
    color: bool,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Viewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Viewer")
            .field("grpc", &self.grpc)
            .field("http", &self.http)
            .field("ui", &self.ui)
            .finish_non_exhaustive()
    }
}

impl Viewer {
    /// Binds the endpoints of `config` and starts serving and printing
    /// trees to `out`. Must be called inside a tokio runtime with I/O and
    /// time enabled.
    ///
    /// # Errors
    ///
    /// When an address cannot be bound.
    pub async fn start(
        config: Config,
        out: impl Write + Send + 'static,
    ) -> std::io::Result<Viewer> {
        let joiner = Joiner::new(
            config.limits,
            Timing {
                quiet: config.quiet,
                timeout: config.timeout,
            },
        );
        let receiver = Arc::new(Receiver::new(Arc::new(Mutex::new(joiner))));
        let (stop, stopped) = watch::channel(false);
        let until_stopped = move || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            }
        };
        let mut tasks = Vec::new();
        let bind = |addr: Option<SocketAddr>| async move {
            match addr {
                Some(addr) => tokio::net::TcpListener::bind(addr)
                    .await
                    .map(Some)
                    .map_err(|e| {
                        std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"))
                    }),
                None => Ok(None),
            }
        };
        let grpc = bind(config.grpc).await?;
        let http = bind(config.http).await?;
        let ui = bind(config.ui).await?;
        let local =
            |l: &Option<tokio::net::TcpListener>| l.as_ref().and_then(|l| l.local_addr().ok());
        let (grpc_addr, http_addr, ui_addr) = (local(&grpc), local(&http), local(&ui));

        if let (Some(listener), Some(addr)) = (grpc, grpc_addr) {
            let (receiver, stop) = (receiver.clone(), until_stopped());
            tasks.push(tokio::spawn(async move {
                if let Err(e) =
                    receive::grpc::serve(receiver, Hosts::of(addr), listener, stop).await
                {
                    eprintln!("traced-view: the gRPC endpoint stopped: {e}");
                }
            }));
        }
        if let (Some(listener), Some(addr)) = (http, http_addr) {
            let router = receive::http::router(receiver.clone(), Hosts::of(addr));
            let stop = until_stopped();
            tasks.push(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router)
                    .with_graceful_shutdown(stop)
                    .await
                {
                    eprintln!("traced-view: the HTTP endpoint stopped: {e}");
                }
            }));
        }
        if let (Some(listener), Some(addr)) = (ui, ui_addr) {
            let (router, stop) = (
                ui::router(receiver.clone(), Hosts::of(addr)),
                until_stopped(),
            );
            tasks.push(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router)
                    .with_graceful_shutdown(stop)
                    .await
                {
                    eprintln!("traced-view: the web page stopped: {e}");
                }
            }));
        }
        let out: Out = Arc::new(Mutex::new(Box::new(out)));
        {
            let (receiver, out, stop) = (receiver.clone(), out.clone(), until_stopped());
            let tick =
                (config.quiet / 4).clamp(Duration::from_millis(5), Duration::from_millis(100));
            let (color, quiet) = (config.color, config.quiet);
            tasks.push(tokio::spawn(async move {
                let mut interval = tokio::time::interval(tick);
                interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tokio::pin!(stop);
                loop {
                    tokio::select! {
                        _ = interval.tick() => {
                            let now = Instant::now();
                            let ready = receiver.joiner().due(now);
                            write(&out, &ready, color);
                            let red = receiver.red().due(now, quiet);
                            write_red(&out, red, color);
                        }
                        () = &mut stop => break,
                    }
                }
            }));
        }
        Ok(Viewer {
            grpc: grpc_addr,
            http: http_addr,
            ui: ui_addr,
            receiver,
            out,
            color: config.color,
            stop,
            tasks,
        })
    }

    /// The bound OTLP/gRPC address.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc
    }

    /// The bound OTLP/HTTP address.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http
    }

    /// The bound address of the web page.
    pub fn ui_addr(&self) -> Option<SocketAddr> {
        self.ui
    }

    /// The line that names the bound addresses:
    /// `traced-view grpc=127.0.0.1:4317 http=127.0.0.1:4318 ui=http://127.0.0.1:16686/`.
    pub fn banner(&self) -> String {
        let mut line = String::from("traced-view");
        if let Some(a) = self.grpc {
            line.push_str(&format!(" grpc={a}"));
        }
        if let Some(a) = self.http {
            line.push_str(&format!(" http={a}"));
        }
        if let Some(a) = self.ui {
            line.push_str(&format!(" ui=http://{a}/"));
        }
        line
    }

    /// Prints every trace held that was not printed yet, complete or not,
    /// and the RED table of the services with metrics not printed yet: for
    /// when every service has stopped and so has sent all it had.
    pub fn flush(&self) {
        let ready = self.receiver.joiner().flush();
        write(&self.out, &ready, self.color);
        let red = self.receiver.red().take();
        write_red(&self.out, red, self.color);
    }

    /// Stops serving, then prints what is left ([`flush`](Viewer::flush)).
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        // A graceful stop waits for open connections, and exporters keep
        // theirs open: give them a moment, then stop regardless.
        for task in std::mem::take(&mut self.tasks) {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        self.flush();
    }
}

fn write(out: &Out, ready: &[join::Ready], color: bool) {
    if ready.is_empty() {
        return;
    }
    let text: String = ready.iter().map(|r| print::render(r, color)).collect();
    write_text(out, &text);
}

fn write_red(out: &Out, red: Option<red::Red>, color: bool) {
    if let Some(red) = red {
        write_text(out, &red::table::render(&red, color));
    }
}

fn write_text(out: &Out, text: &str) {
    let mut out = out.lock().unwrap_or_else(PoisonError::into_inner);
    // Best effort, like the console exporter: a closed stdout must not
    // stop the endpoints.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
