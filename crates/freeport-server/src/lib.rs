//! Freeport's HTTP API: the only crate that knows HTTP.
//!
//! Handlers are thin: authenticate, check the role, parse the body into domain types, call one use
//! case of `freeport-app`, answer. Every state-changing request takes an `Idempotency-Key`.

#![forbid(unsafe_code)]

pub mod auth;
mod contract;
pub mod error;
pub mod events;
mod extract;
pub mod observe;
pub mod openapi;
mod routes;
pub use freeport_app::throttle;
pub mod webhooks;

pub use freeport_app::clock;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use freeport_core::pack::PolicyPack;
use freeport_store::{IdempotencyRecord, Store, StoreError};
use serde_json::Value;

use crate::auth::Caller;
use crate::error::{ApiError, Code};

/// Bounds (STYLE rule 12).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
pub const MAX_PAGE: i64 = 1000;
/// A request still unanswered after this is answered `408 timeout`; a commit it reached stands and
/// a retry with the same Idempotency-Key returns it.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
pub(crate) const MAX_KEY_LEN: usize = 200;
/// A traveller's own allowance, looked up without an account: at most this many a minute from one
/// address.
pub const TRAVELLER_LOOKUPS_PER_MINUTE: u32 = 20;

/// The platform and what only the HTTP edge needs beside it. Dereferences to the
/// [`freeport_app::Platform`], so a handler reads `state.pack` or the clock directly; reads and writes of the store go through the application layer.
#[derive(Clone)]
pub struct AppState {
    pub platform: freeport_app::Platform,
    /// Fault injection for tests: when set, the next committed write answers 503 as if the server
    /// had crashed between commit and response (the commit stands).
    pub crash_after_commit: Arc<AtomicBool>,
    /// Events for in-process subscribers (the console's live feed) when no NATS is configured.
    pub events: tokio::sync::broadcast::Sender<events::Event>,
    /// Failed log-ins per account and address, and the bound on parallel password hashing.
    pub login_throttle: Arc<throttle::LoginThrottle>,
    /// Public look-ups per source address: a traveller's own allowance.
    pub lookup_limit: Arc<throttle::LookupLimit>,
}

impl std::ops::Deref for AppState {
    type Target = freeport_app::Platform;

    fn deref(&self) -> &freeport_app::Platform {
        &self.platform
    }
}

impl AppState {
    /// The state with the bundled rule file, on the system clock.
    pub fn new(store: Store, pack: Arc<PolicyPack>) -> AppState {
        AppState {
            platform: freeport_app::Platform::new(store, pack),
            crash_after_commit: Arc::new(AtomicBool::new(false)),
            login_throttle: Arc::new(throttle::LoginThrottle::new(
                throttle::LoginPolicy::default(),
            )),
            lookup_limit: Arc::new(throttle::LookupLimit::new(
                TRAVELLER_LOOKUPS_PER_MINUTE,
                60_000,
            )),
            events: tokio::sync::broadcast::channel(1024).0,
        }
    }

    /// The same state on another clock (tests, drills).
    pub fn with_clock(mut self, clock: Arc<dyn clock::Clock>) -> AppState {
        self.platform.clock = clock;
        self
    }
}

/// The wall clock, for what runs outside a request's application time (the relays, the shell).
pub fn now_ms() -> i64 {
    clock::Clock::now_ms(&clock::SystemClock)
}

pub fn router(state: AppState) -> Router {
    routes::router(state)
}

/// Serves on `listener` until the future completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_pages(listener, state, Router::new(), shutdown).await
}

/// Serves the API and `pages` (the console's routes, which carry their own layers) on `listener`
/// until the future completes.
pub async fn serve_with_pages(
    listener: tokio::net::TcpListener,
    state: AppState,
    pages: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state)
            .merge(pages)
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// The idempotency context of a state-changing request.
#[derive(Debug, Clone)]
pub struct Idempotency {
    user_id: String,
    key: String,
    request_sha256: String,
}

impl Idempotency {
    pub fn record(&self, status: StatusCode, body: &Value) -> IdempotencyRecord {
        IdempotencyRecord {
            user_id: self.user_id.clone(),
            key: self.key.clone(),
            request_sha256: self.request_sha256.clone(),
            status: status.as_u16(),
            response: body.to_string(),
        }
    }
}

fn stored_response(status: u16, body: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body.to_owned()).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response.headers_mut().insert(
        "idempotent-replayed",
        axum::http::HeaderValue::from_static("true"),
    );
    response
}

/// Runs a state-changing request of a caller holding one of `roles` once per (caller, key): the
/// same key and body replays the stored result; the same key with another body is
/// `409 idempotency_key_reused`. `work` must commit the
/// record it is given in the same transaction as its state change; refusals that change nothing
/// are stored here, so a retry never changes the outcome.
pub async fn idempotent<F>(
    state: &AppState,
    caller: &Caller,
    permission: freeport_app::Permission,
    headers: &HeaderMap,
    method_path: &str,
    body: &Bytes,
    work: F,
) -> Response
where
    F: AsyncFnOnce(Idempotency) -> Result<(StatusCode, Value), ApiError>,
{
    if let Err(e) = caller.require(permission) {
        return e.into_response();
    }
    let key = match headers.get("idempotency-key").and_then(|v| v.to_str().ok()) {
        Some(k)
            if !k.is_empty()
                && k.len() <= MAX_KEY_LEN
                && k.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            k.to_owned()
        }
        Some(_) => {
            return ApiError::new(
                Code::InvalidInput,
                format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
            )
            .into_response();
        }
        None => return ApiError::new(
            Code::IdempotencyKeyRequired,
            "state-changing requests take an Idempotency-Key header (a UUIDv7 is a good choice)",
        )
        .into_response(),
    };
    let mut hashed = method_path.as_bytes().to_vec();
    hashed.push(0);
    hashed.extend_from_slice(body);
    let idem = Idempotency {
        user_id: caller.user.id.clone(),
        key,
        request_sha256: freeport_store::sha256_hex(&hashed),
    };
    match replay(state, &idem).await {
        Ok(Some(response)) => return response,
        Ok(None) => {}
        Err(e) => return e.into_response(),
    }
    match work(idem.clone()).await {
        Ok((status, body)) => {
            if state.crash_after_commit.swap(false, Ordering::SeqCst) {
                return ApiError::new(Code::Internal, "simulated crash after commit")
                    .into_response();
            }
            (status, axum::Json(body)).into_response()
        }
        // A failure is not remembered: nothing was applied, and a retry (after a repair) may succeed.
        Err(e) if e.status().is_server_error() => e.into_response(),
        // A concurrent request with the same key committed first: its answer is this one's.
        Err(e) if e.code == Code::IdempotencyKeyInFlight => replay_when_done(state, &idem).await,
        Err(e) => {
            // A refusal changed nothing; remember it so the retry gets the same answer.
            let record = idem.record(e.status(), &e.body());
            match state
                .store
                .put_idempotent_result(&record, state.now_ms())
                .await
            {
                Ok(()) => e.into_response(),
                Err(StoreError::IdempotencyKeyTaken(_)) => replay_when_done(state, &idem).await,
                Err(other) => ApiError::from(other).into_response(),
            }
        }
    }
}

/// How long a concurrent duplicate waits for the first request's stored answer before it is told
/// `409 idempotency_key_in_flight`.
const IN_FLIGHT_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Replays the stored answer of the request that took the key; on PostgreSQL the loser's insert
/// already waited for the winner's commit, so the answer is normally there at once.
async fn replay_when_done(state: &AppState, idem: &Idempotency) -> Response {
    let deadline = tokio::time::Instant::now() + IN_FLIGHT_WAIT;
    loop {
        match replay(state, idem).await {
            Ok(Some(response)) => return response,
            Ok(None) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Ok(None) => {
                return ApiError::from(StoreError::IdempotencyKeyTaken(idem.key.clone()))
                    .into_response();
            }
            Err(e) => return e.into_response(),
        }
    }
}

async fn replay(state: &AppState, idem: &Idempotency) -> Result<Option<Response>, ApiError> {
    match state
        .store
        .idempotent_result(&idem.user_id, &idem.key)
        .await?
    {
        Some(stored) if stored.request_sha256 == idem.request_sha256 => {
            Ok(Some(stored_response(stored.status, &stored.response)))
        }
        Some(_) => Err(ApiError::new(
            Code::IdempotencyKeyReused,
            "this Idempotency-Key was used with a different request",
        )),
        None => Ok(None),
    }
}

impl From<StoreError> for Box<ApiError> {
    fn from(e: StoreError) -> Self {
        Box::new(ApiError::from(e))
    }
}

/// Starts a server on 127.0.0.1 with an ephemeral port; for tests and drills.
pub async fn spawn(state: AppState) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        let _ = serve(listener, state, std::future::pending()).await;
    });
    Ok((addr, handle))
}
