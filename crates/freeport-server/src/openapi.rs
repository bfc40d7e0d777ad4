//! The OpenAPI 3.1 document: the routes describe themselves (`#[utoipa::path]` beside each
//! handler); this adds what belongs to the whole API.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Freeport",
        description = "Customs supervision for a free trade port with a two-line model: \
            declarations on both lines and inside the zone, account books, audit. \
            Errors: docs/reference/errors.md. Every state-changing request takes an \
            Idempotency-Key header.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&Security),
    tags(
        (name = "system", description = "Health"),
        (name = "sessions", description = "Logging in and out"),
        (name = "users", description = "Users and their roles"),
        (name = "registry", description = "The enterprise registry and exchange rates"),
        (name = "declarations", description = "Declarations on the first and second lines and inside the zone"),
        (name = "ports", description = "Second-line ports and channels: release at the port, scans, crossings"),
        (name = "account books", description = "One account book per enterprise for zero-tariff goods"),
        (name = "duty-free", description = "Offshore duty-free shops and sales: one code per person, the annual quota, category limits"),
        (name = "webhooks", description = "Status changes pushed to the declaring enterprise, signed and retried"),
        (name = "audit", description = "The hash-chained audit log"),
    )
)]
pub(crate) struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

/// The document, as served at `/api/openapi.json`: the routes' own description completed with the
/// parsers' constraints and the answers every operation can give (`contract`). JSON rather than
/// utoipa's model, which cannot hold the conditional rules (`if`/`then`) the contract adds.
pub fn document() -> serde_json::Value {
    complete(&crate::routes::api_routes().split_for_parts().1)
}

pub(crate) fn complete(doc: &utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut json = serde_json::to_value(doc).expect("the document serialises");
    crate::contract::complete(&mut json);
    json
}

/// The document as kept in `docs/reference/openapi.json`: pretty, two-space indented.
pub fn pretty() -> String {
    serde_json::to_string_pretty(&document()).expect("the document serialises")
}
