//! Webhook delivery: status changes pushed to the declaring enterprise, signed and retried.
//!
//! Delivery is at least once: a receiver that answers 2xx after processing, or that times out
//! after processing, may see an event again, so every delivery carries the event id
//! (`Freeport-Event-Id`) for the receiver to drop duplicates. The body is the same on every
//! attempt; the signature covers a timestamp and the body, so a captured delivery cannot be
//! replayed later with a fresh timestamp.
//!
//! Headers of a delivery:
//! - `Freeport-Event-Id`: the outbox id of the event (increasing).
//! - `Freeport-Delivery-Attempt`: 1, 2, …
//! - `Freeport-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

use std::time::Duration;

use freeport_store::{AttemptOutcome, DueDelivery, Store, StoreError};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// How deliveries are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts before a delivery is given up as failed.
    pub max_attempts: i64,
    /// The wait after the first failure; it doubles with each further failure.
    pub first_backoff_ms: i64,
    pub max_backoff_ms: i64,
    /// How long one attempt may take, and so how long a claim is leased.
    pub timeout_ms: i64,
}

impl Default for RetryPolicy {
    /// Ten attempts over about 8.5 hours: 1 min, 2, 4, … capped at 4 h.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            first_backoff_ms: 60_000,
            max_backoff_ms: 4 * 3_600_000,
            timeout_ms: 10_000,
        }
    }
}

impl RetryPolicy {
    /// When to try again after the `attempts`-th failure, or `None` to give up.
    pub fn retry_at(&self, attempts: i64, now_ms: i64) -> Option<i64> {
        if attempts >= self.max_attempts {
            return None;
        }
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 40)).unwrap_or(40);
        let wait = self
            .first_backoff_ms
            .saturating_mul(1_i64 << doublings)
            .min(self.max_backoff_ms);
        Some(now_ms.saturating_add(wait))
    }
}

/// The `Freeport-Signature` header value for `body` sent at `unix_seconds`.
pub fn signature(secret: &str, unix_seconds: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={unix_seconds},v1={hex}")
}

/// The JSON body of a delivery: the same bytes on every attempt.
pub fn body_of(d: &freeport_store::DeliveryRow) -> String {
    let data: serde_json::Value =
        serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "event_id": d.event_id,
        "topic": d.topic,
        "enterprise": d.enterprise,
        "occurred_at_ms": d.created_at_ms,
        "data": data,
    })
    .to_string()
}

/// An HTTP client for deliveries: no redirects (a redirect could send the signed body elsewhere),
/// a bounded time per attempt.
pub fn client(policy: &RetryPolicy) -> reqwest::Client {
    install_tls_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(
            u64::try_from(policy.timeout_ms).unwrap_or(10_000),
        ))
        .user_agent("freeport-webhooks")
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Selects ring as the process's TLS provider. Every HTTP client in the process needs one, so
/// the binary calls this first; later calls do nothing (the error only says one is installed).
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

async fn attempt(
    http: &reqwest::Client,
    due: &DueDelivery,
    policy: &RetryPolicy,
    now_ms: i64,
) -> AttemptOutcome {
    let body = body_of(&due.delivery);
    let attempt_no = due.delivery.attempts + 1;
    let sent = http
        .post(&due.url)
        .header("content-type", "application/json")
        .header("freeport-event-id", due.delivery.event_id.to_string())
        .header("freeport-delivery-attempt", attempt_no.to_string())
        .header(
            "freeport-signature",
            signature(&due.secret, now_ms / 1000, &body),
        )
        .body(body)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => AttemptOutcome::Delivered {
            status: i64::from(r.status().as_u16()),
        },
        Ok(r) => AttemptOutcome::Failed {
            status: Some(i64::from(r.status().as_u16())),
            error: format!("the receiver answered {}", r.status()),
            retry_at_ms: policy.retry_at(attempt_no, now_ms),
        },
        Err(e) => AttemptOutcome::Failed {
            status: None,
            error: format!("not delivered: {e}"),
            retry_at_ms: policy.retry_at(attempt_no, now_ms),
        },
    }
}

/// Claims the deliveries due at `now_ms` (at most `batch`) and attempts each once; returns how
/// many were attempted. `now_ms` is a parameter so that tests can step through the backoff.
pub async fn deliver_due(
    store: &Store,
    http: &reqwest::Client,
    policy: &RetryPolicy,
    batch: i64,
    now_ms: i64,
) -> Result<usize, StoreError> {
    let due = store
        .claim_due_deliveries(now_ms, policy.timeout_ms * 2, batch)
        .await?;
    for d in &due {
        let outcome = attempt(http, d, policy, now_ms).await;
        let delivered = matches!(outcome, AttemptOutcome::Delivered { .. });
        metrics::counter!("webhook_attempts_total", "delivered" => delivered.to_string())
            .increment(1);
        store
            .record_attempt(d.delivery.id, &outcome, now_ms)
            .await?;
    }
    Ok(due.len())
}

/// Runs the dispatcher until the task is dropped: a round every `interval`, or at once while a
/// full batch came back.
pub fn spawn_dispatcher(
    store: Store,
    policy: RetryPolicy,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let http = client(&policy);
        loop {
            match deliver_due(&store, &http, &policy, 50, crate::now_ms()).await {
                Ok(50) => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook round failed; retrying"),
            }
            tokio::time::sleep(interval).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_first_wait_up_to_the_cap_then_gives_up() {
        let p = RetryPolicy {
            max_attempts: 6,
            first_backoff_ms: 1000,
            max_backoff_ms: 5000,
            timeout_ms: 100,
        };
        let waits: Vec<Option<i64>> = (1..=6).map(|a| p.retry_at(a, 0)).collect();
        assert_eq!(
            waits,
            vec![
                Some(1000),
                Some(2000),
                Some(4000),
                Some(5000),
                Some(5000),
                None
            ]
        );
    }

    #[test]
    fn the_signature_covers_time_and_body_and_depends_on_the_secret() {
        let s = signature("secret", 1_700_000_000, "{\"a\":1}");
        assert!(s.starts_with("t=1700000000,v1="));
        assert_eq!(s.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(s, signature("secret", 1_700_000_001, "{\"a\":1}"));
        assert_ne!(s, signature("secret", 1_700_000_000, "{\"a\":2}"));
        assert_ne!(s, signature("other", 1_700_000_000, "{\"a\":1}"));
        // A known answer, computed independently:
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            s,
            "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
    }
}
