//! `#[instrument]`'s options, as services write them, on `#[traced]` (#27).
#![deny(warnings)]
#![allow(dead_code)]

use traced::traced;

const NAME: &str = "named";

struct Service;

impl Service {
    #[traced(skip(self))]
    fn by_ref(&self, id: u64) -> u64 {
        id
    }

    #[traced(skip(self, body), err, ret)]
    fn both(&self, id: u64, body: &[u8]) -> Result<u64, std::io::Error> {
        Ok(id + body.len() as u64)
    }

    #[traced(skip_all, fields(user.id = id))]
    async fn skip_all(&self, id: u64) -> u64 {
        id
    }
}

#[traced(ret)]
fn ret_unit() {}

#[traced(ret)]
fn ret_explicit_unit() -> () {}

#[traced(ret)]
fn ret_never() -> ! {
    panic!()
}

#[traced(ret(Debug), err(Display))]
fn formats() -> Result<Vec<u8>, std::fmt::Error> {
    Ok(Vec::new())
}

#[traced(err(Debug), ret(level = "debug", Display))]
async fn formats_async() -> Result<String, std::fmt::Error> {
    Ok(String::new())
}

#[traced(
    name = NAME,
    target = "app::db",
    level = "debug",
    fields(a = %NAME, b = ?NAME, c = NAME.len(), d, e.f = 1, "g" = 2)
)]
fn all_the_fields() {
    traced::attributes!(d = 4);
}

#[traced(level = tracing::Level::WARN)]
fn level_path() {}

#[traced(level = "TRACE", name = concat!("a", "b"))]
fn level_upper() {}

#[traced(level = 2)]
fn level_number() {}

#[traced(fields(otel.kind = "server", otel.name = "GET /", otel.status_code = "OK"))]
fn otel_fields() {}

#[traced(parent = None)]
fn root() {}

#[traced(follows_from = [cx])]
fn follows(cx: &opentelemetry::Context) {}

#[traced(follows_from = cx)]
fn follows_one(cx: opentelemetry::trace::SpanContext) {}

#[traced]
async fn impl_in_result() -> Result<impl Iterator<Item = i32>, ()> {
    Ok(0..1)
}

#[traced(err)]
fn impl_in_result_sync() -> Result<impl Iterator<Item = i32>, ()> {
    Ok(0..1)
}

fn main() {}
