//! `traced-view` in the test process: its endpoints on loopback ports of
//! their own, its printed trees kept in memory for the test to read.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::wait;

/// Printed trees, shared with the viewer.
#[derive(Clone, Default)]
pub struct Printed(Arc<Mutex<Vec<u8>>>);

impl Printed {
    /// Everything printed so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Printed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A viewer on its own runtime, stopped when dropped.
pub struct View {
    pub runtime: tokio::runtime::Runtime,
    pub viewer: Option<traced_view::Viewer>,
    pub printed: Printed,
}

impl View {
    /// Starts a viewer on `127.0.0.1:0` for gRPC, HTTP and (with `ui`) the
    /// page, printing a trace once it has been quiet for `quiet`.
    pub fn start(ui: bool, quiet: Duration) -> View {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let loopback = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
        let printed = Printed::default();
        let config = traced_view::Config {
            grpc: loopback,
            http: loopback,
            ui: if ui { loopback } else { None },
            quiet,
            color: false,
            ..traced_view::Config::default()
        };
        let viewer = runtime
            .block_on(traced_view::Viewer::start(config, printed.clone()))
            .expect("start the viewer");
        View {
            runtime,
            viewer: Some(viewer),
            printed,
        }
    }

    fn viewer(&self) -> &traced_view::Viewer {
        self.viewer.as_ref().expect("a running viewer")
    }

    /// `http://` and the gRPC address.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.viewer().grpc_addr().expect("gRPC"))
    }

    /// `http://` and the HTTP address.
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.viewer().http_addr().expect("HTTP"))
    }

    /// `http://` and the page's address, with a trailing `/`.
    pub fn ui_url(&self) -> String {
        format!("http://{}/", self.viewer().ui_addr().expect("the page"))
    }

    /// Waits until the printed text satisfies `done`, and returns it.
    pub fn wait_printed(
        &self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&str) -> bool,
    ) -> String {
        wait::until(timeout, what, || {
            let text = self.printed.text();
            done(&text).then_some(text)
        })
    }
}

impl Drop for View {
    fn drop(&mut self) {
        if let Some(viewer) = self.viewer.take() {
            self.runtime.block_on(viewer.shutdown());
        }
    }
}
