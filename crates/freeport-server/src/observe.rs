//! Observability: Prometheus metrics (served on their own listener) and a request id on every
//! request and its log span. Audit is not logging: the audit log is domain data in the store.

use std::sync::OnceLock;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's metrics recorder. The `metrics` facade is process-wide by design, so it is
/// installed once, however many servers a process (a test binary) starts.
pub fn metrics_handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Prefix("clearance_".to_owned()),
                    &CLEARANCE_BUCKETS_SECONDS,
                )
                .expect("the buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            // A second installation attempt only happens if another crate installed one first.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The router of the metrics listener: `GET /metrics` in the Prometheus text format.
pub fn metrics_router() -> Router {
    let handle = metrics_handle();
    Router::new().route("/metrics", get(move || std::future::ready(handle.render())))
}

/// Times every request, labelled by the route's pattern (never the raw path, whose ids would make
/// the label set unbounded), and gives it a request id: the caller's `x-request-id`, or a new one.
pub(crate) async fn observe(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 100 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let span = tracing::info_span!("request", %method, %route, request_id = %request_id);
    let started = Instant::now();
    let mut response = tracing::Instrument::instrument(next.run(request), span.clone()).await;
    let status = response.status().as_u16().to_string();
    let seconds = started.elapsed().as_secs_f64();
    metrics::histogram!("http_request_duration_seconds", "route" => route.clone(), "method" => method.clone(), "status" => status.clone()).record(seconds);
    metrics::counter!("http_requests_total", "route" => route, "method" => method, "status" => status.clone()).increment(1);
    span.in_scope(|| tracing::info!(status = %status, ms = seconds * 1000.0, "request"));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

/// The buckets of the clearance histograms, in seconds: R2.4's targets (60 s unflagged, 120 s
/// scanned) are bucket edges, so the histogram shows directly how many releases met them.
pub const CLEARANCE_BUCKETS_SECONDS: [f64; 11] = [
    30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 43200.0, 86400.0,
];

/// A declaration crossing at `port` was released: lodgement to release.
pub(crate) fn released_at_port(port: &str, lane: &str, lodged_ms: i64, released_ms: i64) {
    let seconds = (released_ms - lodged_ms) as f64 / 1000.0;
    metrics::histogram!("clearance_release_seconds", "port" => port.to_owned(), "lane" => lane.to_owned()).record(seconds);
}

/// Goods crossed at `port`'s channel on their released declaration: lodgement to exit.
pub(crate) fn exited_at_port(port: &str, lane: &str, lodged_ms: i64, exited_ms: i64) {
    let seconds = (exited_ms - lodged_ms) as f64 / 1000.0;
    metrics::histogram!("clearance_end_to_end_seconds", "port" => port.to_owned(), "lane" => lane.to_owned()).record(seconds);
}

/// A decision was committed.
pub(crate) fn decision_committed(
    outcome: &str,
    flow: &str,
    lane: &str,
    postings: &[freeport_store::NewPosting],
) {
    metrics::counter!("decisions_total", "outcome" => outcome.to_owned(), "flow" => flow.to_owned(), "lane" => lane.to_owned()).increment(1);
    for p in postings {
        metrics::counter!("ledger_postings_total", "movement" => p.movement.clone()).increment(1);
    }
}
