//! Registry keys of every type, with literals and with expressions, in
//! `attributes(..)`, `event!` and `attributes!`.
#![deny(warnings)]

use traced::traced;

#[traced(attributes(
    http.route = "/users/{id}",                     // string
    http.response.status_code = 200,                // int
    http.request.resend_count = -0,                 // int, negated
    geo.location.lat = 48.85,                       // double
    geo.location.lon = -2.35,                       // double, negated
    faas.coldstart = true,                          // boolean
    aws.dynamodb.attributes_to_get = ["id", "name"], // string[]
    pprof.scope.sample_type_order = [0, 1],         // int[]
    feature_flag.result.value = 3,                  // any
    http.request.method = "GET",                    // enum member
    db.system.name = "my_own_database",             // open enum, a value of our own
    cpython.gc.generation = 2,                      // int enum
    "http.request.header.content-type" = ["application/json"], // template string[]
    "k8s.pod.label.app" = "web",                    // template string
    app.jank.period = 1.0,                          // development stability
    user.id = id,                                   // not a literal: converted by type
    task.id = id,                                   // our own namespace
    user.tier = "gold",                             // registry namespace, not near any key
    http.request.body.size = resends,               // int, by type
    app.jank.threshold = lon,                       // double, by type
    aspnetcore.routing.is_fallback = cold,          // boolean, by type (through Option)
    aws.dynamodb.attribute_definitions = fields,    // string[], by type
    server.port = &port,                            // int, through a reference
))]
#[allow(clippy::too_many_arguments)]
fn handle(id: u64, resends: u8, lon: f64, cold: Option<bool>, fields: Vec<String>, port: u16) {
    traced::event!(
        "request",
        http.response.status_code = 200,
        db.system.name = "postgresql",
        "http.response.header.content-type" = ["text/plain"],
        task.id = id,
        http.response.status_code = port,
    );
    traced::attributes!(db.response.returned_rows = 3, geo.location.lat = 1.5);
    traced::event!("no attributes");
}

// A dashboard still reads the old key.
#[traced(attributes(#[allow(deprecated)] http.method = "GET"))]
fn legacy() {
    traced::attributes!(#[allow(deprecated)] http.status_code = 200);
}

fn main() {
    handle(7, 1, 2.35, Some(true), vec!["id".into()], 8080);
    legacy();
}
