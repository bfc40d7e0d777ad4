//! A shop's live sales feed (server-sent events): every sale as it is recorded, settled, returned
//! or its guarantee released, on whichever node, for the operator's screens and customs.
//!
//! The feed polls the store rather than one node's memory, so it sees every node's sales. A sale
//! committed late (a slow transaction, a node's clock behind) is still caught: each poll, and a
//! resumed stream, looks back 35 s before its cursor and skips what it sent already. Each event's id is the
//! change's time in ms; a client reconnects with `Last-Event-ID` and receives every change from
//! then on, at least once.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;

use super::*;

/// How often the feed looks for changes, and how far back it looks: a change is stamped before
/// its transaction commits, which may take up to the request timeout (30 s), and nodes' clocks
/// differ by a little.
const POLL: Duration = Duration::from_millis(500);
const LOOK_BACK_MS: i64 = 35_000;
/// Changes read on per poll, and at most looked back over.
const BATCH: i64 = 500;
const LOOK_BACK_ROWS: i64 = 5_000;
/// Longest a stream stays open, and the default; a client reconnects with `Last-Event-ID`.
pub(crate) const MAX_SECONDS: u64 = 60;
/// The latest `since_ms` accepted: 2100-01-01.
pub(crate) const LAST_MS: i64 = 4_102_444_800_000;
/// The largest event id a reconnecting client may send back (13 digits).
const LAST_EVENT_ID_MAX: i64 = 9_999_999_999_999;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct FeedQuery {
    /// Send the changes from this time on (ms since the epoch, 0 to 4 102 444 800 000); now when
    /// absent. A `Last-Event-ID` header takes precedence.
    #[serde(default)]
    since_ms: Option<i64>,
    /// How long the server keeps the stream open, 1 to 60 seconds (default 60).
    #[serde(default)]
    max_seconds: Option<u64>,
}

/// Where the feed starts and what it may look back over: after the `Last-Event-ID` a reconnecting
/// client sends (back over the look-back window, for changes that committed after its last
/// event), or from the query's `since_ms`, or from now.
fn start(headers: &HeaderMap, q: &FeedQuery, now_ms: i64) -> ApiResult<(i64, i64)> {
    let from_header = headers
        .get("last-event-id")
        .map(|v| {
            v.to_str()
                .ok()
                .filter(|t| !t.is_empty() && t.len() <= 13 && t.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|t| t.parse::<i64>().ok())
                .filter(|ms| (0..=LAST_EVENT_ID_MAX).contains(ms))
                .ok_or_else(|| {
                    FieldError::new(
                        "Last-Event-ID",
                        FieldErrorKind::Malformed,
                        "an event id this feed sent (ms since the epoch)",
                    )
                })
        })
        .transpose()?;
    if let Some(ms) = q.since_ms
        && !(0..=LAST_MS).contains(&ms)
    {
        return Err(FieldError::new(
            "since_ms",
            FieldErrorKind::OutOfRange,
            format!("0 to {LAST_MS}"),
        )
        .into());
    }
    Ok(match (from_header, q.since_ms) {
        (Some(ms), _) => (ms, ms - LOOK_BACK_MS),
        (None, Some(ms)) => (ms, ms),
        (None, None) => (now_ms, now_ms),
    })
}

/// What the stream carries between polls.
struct Feed {
    state: AppState,
    actor: freeport_app::Actor,
    shop: String,
    /// Nothing changed before this is sent.
    floor_ms: i64,
    /// The last change read in order: the next poll reads on from here.
    cursor: (i64, String),
    /// The change time of each sale sent within the look-back window.
    sent: HashMap<String, i64>,
    ready: VecDeque<Event>,
    closes_at: tokio::time::Instant,
    first: bool,
}

impl Feed {
    /// Two reads: back over the last few seconds before the cursor, for changes that committed
    /// late, then on from the cursor; what was sent already is skipped. An error ends the stream
    /// with an `error` event.
    async fn poll(&mut self) -> Result<(), Event> {
        use freeport_store::ChangeWindow;
        let (at, _) = self.cursor;
        let back = ChangeWindow::Between((at - LOOK_BACK_MS).max(self.floor_ms), at);
        let on = ChangeWindow::After(self.cursor.0, self.cursor.1.clone());
        for (window, limit) in [(back, LOOK_BACK_ROWS), (on, BATCH)] {
            let rows = freeport_app::duty_free::sales_changed(
                &self.state,
                &self.actor,
                &self.shop,
                &window,
                limit,
            )
            .await
            .map_err(|e| Event::default().event("error").data(e.to_string()))?;
            for row in rows {
                let at = row.updated_at_ms;
                if matches!(window, ChangeWindow::After(..)) {
                    self.cursor = (at, row.id.clone());
                }
                if self.sent.get(&row.id) == Some(&at) {
                    continue;
                }
                self.sent.insert(row.id.clone(), at);
                let data = serde_json::to_string(&super::duty_free::sale_view(row))
                    .unwrap_or_else(|_| "{}".to_owned());
                self.ready
                    .push_back(Event::default().event("sale").id(at.to_string()).data(data));
            }
        }
        let keep_from = self.cursor.0 - 2 * LOOK_BACK_MS;
        self.sent.retain(|_, at| *at >= keep_from);
        Ok(())
    }
}

fn events(feed: Feed) -> impl Stream<Item = Result<Event, Infallible>> {
    futures_util::stream::unfold(Some(feed), |feed| async move {
        let mut feed = feed?;
        loop {
            if let Some(event) = feed.ready.pop_front() {
                return Some((Ok(event), Some(feed)));
            }
            if tokio::time::Instant::now() >= feed.closes_at {
                return None;
            }
            if !feed.first {
                tokio::time::sleep(POLL).await;
            }
            feed.first = false;
            if let Err(error) = feed.poll().await {
                return Some((Ok(error), None));
            }
        }
    })
}

/// A shop's sales as they change, live (server-sent events; operator of the shop, officer,
/// analyst, administrator): each event `sale` carries the sale as `GET …/sales/{id}` shows it
/// and its change time as its id. Delivered at least once; the stream closes after
/// `max_seconds`, and a client reconnects with `Last-Event-ID`.
#[utoipa::path(
    get,
    path = "/api/v1/duty-free/shops/{shop}/sales/live",
    tag = "duty-free",
    params(("shop" = String, Path, description = "the shop id (letters, digits, - and _)"), FeedQuery, ("Last-Event-ID" = Option<String>, Header, description = "the id of the last event received: the feed resumes from it")),
    responses((status = 200, description = "`text/event-stream`: `event: sale`, `id: <ms>`, `data: <SaleView>`", content_type = "text/event-stream", body = String), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn sales_live(
    State(state): State<AppState>,
    caller: Caller,
    Path(shop): Path<String>,
    Query(q): Query<FeedQuery>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let actor = caller.actor();
    let shop = super::duty_free::path_shop(&shop)?;
    let seconds = match q.max_seconds {
        None => MAX_SECONDS,
        Some(s) if (1..=MAX_SECONDS).contains(&s) => s,
        Some(_) => {
            return Err(FieldError::new(
                "max_seconds",
                FieldErrorKind::OutOfRange,
                format!("1 to {MAX_SECONDS}"),
            )
            .into());
        }
    };
    let (since, floor_ms) = start(&headers, &q, state.now_ms())?;
    // Refused before the stream opens: a caller who may not see the shop gets its 403 or 404.
    freeport_app::duty_free::visible_shop(&state, &actor, &shop).await?;
    let feed = Feed {
        state: state.clone(),
        actor,
        shop,
        floor_ms,
        // Everything changed at `since` or later: after (since, "") in change order.
        cursor: (since, String::new()),
        sent: HashMap::new(),
        ready: VecDeque::new(),
        closes_at: tokio::time::Instant::now() + Duration::from_secs(seconds),
        first: true,
    };
    Ok(Sse::new(events(feed)).keep_alive(KeepAlive::default()))
}
