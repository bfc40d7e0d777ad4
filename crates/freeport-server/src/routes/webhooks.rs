//! Webhook subscriptions and their deliveries.

use super::*;

pub(super) fn webhook_url(text: &str) -> ApiResult<String> {
    let bad = |reason: &str| -> ApiError {
        FieldError::new("url", FieldErrorKind::Malformed, reason.to_owned()).into()
    };
    if text.len() > 2000 {
        return Err(
            FieldError::new("url", FieldErrorKind::OutOfRange, "at most 2000 characters").into(),
        );
    }
    let url = reqwest::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(bad("an http:// or https:// URL with a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "credentials do not belong in the URL; deliveries are signed instead",
        ));
    }
    Ok(url.to_string())
}

/// Set the enterprise's webhook: where its declarations' status changes are pushed.
///
/// Answers the signing secret once; setting the webhook again rotates it. Deliveries are signed
/// (`Freeport-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")`), carry `Freeport-Event-Id`, and
/// are retried with doubling waits until the receiver answers 2xx.
#[utoipa::path(
    put,
    path = "/api/v1/enterprises/{code}/webhook",
    tag = "webhooks",
    request_body = WebhookRequest,
    params(("code" = String, Path, description = "unified social credit code"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = WebhookView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn put_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let st = &state;
    let actor = caller.actor();
    let path = format!("PUT /api/v1/enterprises/{code}/webhook");
    let payload = &body;
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::SetWebhook,
        &headers,
        &path,
        &body,
        async move |idem| {
            let subscriber =
                freeport_app::webhooks::subscriber(st, &actor, path_code(&code)?).await?;
            let b: WebhookRequest = parse_body(payload)?;
            let url = webhook_url(&b.url)?;
            let w = freeport_app::webhooks::set(st, &actor, subscriber, url, |w| {
                kept(&idem, StatusCode::OK, webhook_set(w))
            })
            .await?;
            Ok((StatusCode::OK, webhook_set(&w)?))
        },
    )
    .await
}

/// The answer to a webhook set: the only time its secret is shown.
fn webhook_set(w: &freeport_store::Webhook) -> ApiResult<Value> {
    to_json(&WebhookView {
        enterprise: w.enterprise.clone(),
        url: w.url.clone(),
        secret: Some(w.secret.clone()),
    })
}

/// Read the enterprise's webhook (without its secret).
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{code}/webhook",
    tag = "webhooks",
    params(("code" = String, Path, description = "unified social credit code")),
    responses((status = 200, body = WebhookView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn get_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<WebhookView>> {
    let w = freeport_app::webhooks::webhook(&state, &caller.actor(), &path_code(&code)?).await?;
    Ok(Json(WebhookView {
        enterprise: w.enterprise,
        url: w.url,
        secret: None,
    }))
}

/// Remove the enterprise's webhook; deliveries still pending are marked failed.
#[utoipa::path(
    delete,
    path = "/api/v1/enterprises/{code}/webhook",
    tag = "webhooks",
    params(("code" = String, Path, description = "unified social credit code"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = WebhookRemoved), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "idempotency key reused", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn delete_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    let st = &state;
    let actor = caller.actor();
    let path = format!("DELETE /api/v1/enterprises/{code}/webhook");
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::SetWebhook,
        &headers,
        &path,
        &Bytes::new(),
        async move |idem| {
            let removed = |removed| to_json(&WebhookRemoved { removed });
            let existed =
                freeport_app::webhooks::remove(st, &actor, path_code(&code)?, |existed| {
                    kept(&idem, StatusCode::OK, removed(existed))
                })
                .await?;
            Ok((StatusCode::OK, removed(existed)?))
        },
    )
    .await
}

/// The enterprise's webhook deliveries, newest first, with their attempts and last error.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{code}/webhook/deliveries",
    tag = "webhooks",
    params(("code" = String, Path, description = "unified social credit code"), PostingPage),
    responses((status = 200, body = WebhookDeliveryPage), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn webhook_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Query(page): Query<PostingPage>,
) -> ApiResult<Json<WebhookDeliveryPage>> {
    let code = path_code(&code)?;
    let limit = limit(&Page {
        after: None,
        limit: page.limit,
    })?;
    let rows = freeport_app::webhooks::deliveries(
        &state,
        &caller.actor(),
        &code,
        page.after.unwrap_or(0),
        limit,
    )
    .await?;
    Ok(Json(WebhookDeliveryPage {
        next_after: rows.last().map(|d| d.id),
        items: rows
            .into_iter()
            .map(|d| WebhookDeliveryView {
                id: d.id,
                event_id: d.event_id,
                topic: d.topic,
                state: d.state,
                attempts: d.attempts,
                last_status: d.last_status,
                last_error: d.last_error,
                next_attempt_at_ms: d.next_attempt_at_ms,
                delivered_at_ms: d.delivered_at_ms,
            })
            .collect(),
    }))
}
