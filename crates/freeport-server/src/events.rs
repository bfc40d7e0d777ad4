//! The outbox relay. The outbox table is the source of truth: an event exists once its transaction
//! commits. The relay publishes unpublished events in order and marks each published only after the
//! sink accepted it, so a crash in between publishes it again — and JetStream drops the repeat,
//! because every message carries `Nats-Msg-Id: outbox-<id>`. Without NATS, events go to in-process
//! subscribers (the console's live feed).

use freeport_store::{OutboxRow, Store};
use tokio::sync::broadcast;

/// An event as subscribers see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Event {
    pub id: i64,
    pub topic: String,
    pub payload: String,
}

impl From<OutboxRow> for Event {
    fn from(r: OutboxRow) -> Self {
        Event {
            id: r.id,
            topic: r.topic,
            payload: r.payload,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("store: {0}")]
    Store(#[from] freeport_store::StoreError),
    #[error("NATS: {0}")]
    Nats(String),
}

/// Where events go.
#[derive(Clone)]
pub enum Sink {
    #[cfg(feature = "nats")]
    JetStream {
        context: Box<async_nats::jetstream::Context>,
        subject_prefix: String,
    },
    InProcess(broadcast::Sender<Event>),
}

impl Sink {
    /// Connects to NATS and makes sure the stream `stream` captures `<subject_prefix>.>`.
    #[cfg(feature = "nats")]
    pub async fn jetstream(
        url: &str,
        stream: &str,
        subject_prefix: &str,
    ) -> Result<Sink, RelayError> {
        let client = async_nats::connect(url)
            .await
            .map_err(|e| RelayError::Nats(e.to_string()))?;
        let context = async_nats::jetstream::new(client);
        context
            .get_or_create_stream(async_nats::jetstream::stream::Config {
                name: stream.to_owned(),
                subjects: vec![format!("{subject_prefix}.>")],
                ..Default::default()
            })
            .await
            .map_err(|e| RelayError::Nats(e.to_string()))?;
        Ok(Sink::JetStream {
            context: Box::new(context),
            subject_prefix: subject_prefix.to_owned(),
        })
    }

    async fn send(&self, event: &Event) -> Result<(), RelayError> {
        match self {
            #[cfg(feature = "nats")]
            Sink::JetStream {
                context,
                subject_prefix,
            } => {
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Nats-Msg-Id", format!("outbox-{}", event.id).as_str());
                let ack = context
                    .publish_with_headers(
                        format!("{subject_prefix}.{}", event.topic),
                        headers,
                        event.payload.clone().into(),
                    )
                    .await
                    .map_err(|e| RelayError::Nats(e.to_string()))?;
                ack.await.map_err(|e| RelayError::Nats(e.to_string()))?;
                Ok(())
            }
            Sink::InProcess(tx) => {
                // No subscriber is not a failure: the event is in the outbox, and the console reads
                // history from the store.
                let _ = tx.send(event.clone());
                Ok(())
            }
        }
    }
}

/// Publishes up to `batch` pending events in outbox order; returns how many were published. Stops
/// at the first failure, so order is kept and the rest wait for the next round.
pub async fn relay_once(
    store: &Store,
    sink: &Sink,
    batch: i64,
    now_ms: i64,
) -> Result<usize, RelayError> {
    let pending = store.unpublished_events(0, batch).await?;
    let mut published = 0;
    for row in pending {
        let event = Event::from(row);
        sink.send(&event).await?;
        store.mark_published(event.id, now_ms).await?;
        published += 1;
    }
    Ok(published)
}

/// Runs the relay until the task is dropped: a round every `interval`, or at once while there is a
/// backlog.
pub fn spawn_relay(
    store: Store,
    sink: Sink,
    interval: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match relay_once(&store, &sink, 500, crate::now_ms()).await {
                Ok(500) => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "outbox relay round failed; retrying"),
            }
            tokio::time::sleep(interval).await;
        }
    })
}
