//! Extractors whose rejections are the API's error envelope, naming what was wrong.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use freeport_core::{FieldError, FieldErrorKind};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The query string parsed into `T`; a parameter that does not parse is `422 invalid_input`.
pub(crate) struct Query<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => {
                let reason = rejection.body_text();
                // serde_urlencoded names the parameter in its message where it knows it.
                let field = reason
                    .split('`')
                    .nth(1)
                    .filter(|f| f.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
                    .unwrap_or("query")
                    .to_owned();
                Err(FieldError::new(field, FieldErrorKind::Malformed, reason).into())
            }
        }
    }
}

/// The TCP peer's address (forwarding headers are not trusted); unspecified when the server was
/// not started with connection info.
pub(crate) struct PeerAddress(pub(crate) std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for PeerAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PeerAddress(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |c| {
                    c.0.ip()
                }),
        ))
    }
}
