//! Passengers at the second-line channels (R5) and second-line credit lists (R6.2).

use freeport_api::second_line::{
    CheckedLineView, IndividualListingRequest, ListingRequest, ListingView, PassengerCheckView,
    PassengerRequest, SecondLineCreditView,
};
use freeport_core::identity::PersonDocument;
use freeport_core::second_line_credit::SecondLineList;

use super::*;

fn document(d: &freeport_api::platform::BuyerDocument) -> ApiResult<PersonDocument> {
    Ok(
        PersonDocument::parse(&d.kind, &d.number, d.issuing_country.as_deref())
            .map_err(|e| e.within("document"))?,
    )
}

/// `white_list`, `key_concern`, or `none` for off every list.
fn list_of(text: &str) -> ApiResult<Option<SecondLineList>> {
    match text {
        "none" => Ok(None),
        other => Ok(Some(SecondLineList::parse(other).ok_or_else(|| {
            FieldError::new(
                "list",
                FieldErrorKind::Unknown,
                "white_list, key_concern or none",
            )
        })?)),
    }
}

fn checked_view(c: &freeport_app::passengers::Checked) -> PassengerCheckView {
    PassengerCheckView {
        id: c.record.id.clone(),
        port: c.record.port.clone(),
        channel: c.record.channel.clone(),
        class: c.class.as_str().to_owned(),
        inspect: c.record.inspect,
        lines: c
            .lines
            .iter()
            .map(|l| CheckedLineView {
                category: l.category.clone(),
                carried: l.carried.normalize().to_string(),
                covered: l.covered.normalize().to_string(),
                excess: l.excess.normalize().to_string(),
                taxed_value: l.taxed_value.to_string(),
                class: l.class,
                rate_percent: (l.rate.fraction() * rust_decimal::Decimal::ONE_HUNDRED)
                    .normalize()
                    .to_string(),
                tax: l.tax.to_string(),
            })
            .collect(),
        tax: c.tax.to_string(),
        explanation: c.explanation.clone(),
    }
}

/// Check a passenger at a passenger channel: the duty-free goods carried against the person's
/// purchases for the departure; the excess taxed at the inbound-articles rates, to the fen; the
/// inspection decided by the person's second-line class.
#[utoipa::path(
    post,
    path = "/api/v1/ports/{port}/channels/{channel}/passengers",
    tag = "ports",
    request_body = PassengerRequest,
    params(("port" = String, Path, description = "the port's code"), ("channel" = String, Path, description = "a passenger channel's id"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, body = PassengerCheckView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such port or channel", body = ErrorEnvelope), (status = 409, description = "idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn check_passenger(
    State(state): State<AppState>,
    caller: Caller,
    Path((port, channel)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    let path = format!("POST /api/v1/ports/{port}/channels/{channel}/passengers");
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Examine,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: PassengerRequest = parse_body(payload)?;
            if b.carried.len() > 100 {
                return Err(FieldError::new(
                    "carried",
                    FieldErrorKind::OutOfRange,
                    "0 to 100 articles",
                )
                .into());
            }
            let mut carried = Vec::with_capacity(b.carried.len());
            for (i, a) in b.carried.iter().enumerate() {
                let f = |name: &str| format!("carried[{i}].{name}");
                carried.push(freeport_core::passenger::Carried {
                    category: a.category.clone(),
                    unit_price: freeport_core::limits::SALE_UNIT_PRICE
                        .parse_cny(&f("unit_price"), &a.unit_price)?,
                    quantity: freeport_core::limits::SALE_QUANTITY
                        .parse(&f("quantity"), &a.quantity)?,
                });
            }
            let declaration = freeport_app::passengers::PassengerDeclaration {
                port,
                channel,
                document: document(&b.document)?,
                departure_on: parse_day("departure_on", &b.departure_on)?,
                carried,
            };
            let checked =
                freeport_app::passengers::check_passenger(st, &c.actor(), declaration, |done| {
                    kept(&idem, StatusCode::CREATED, to_json(&checked_view(done)))
                })
                .await?;
            Ok((StatusCode::CREATED, to_json(&checked_view(&checked))?))
        },
    )
    .await
}

/// An operator's second-line credit (R6.2): its class with what it comes from (the enterprise sees
/// its own).
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{code}/second-line-credit",
    tag = "risk",
    params(("code" = String, Path, description = "unified social credit code")),
    responses((status = 200, body = SecondLineCreditView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn second_line_credit(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<SecondLineCreditView>> {
    let code = path_code(&code)?;
    let c =
        freeport_app::second_line_credit::operator_standing(&state, &caller.actor(), &code).await?;
    Ok(Json(SecondLineCreditView {
        enterprise: c.enterprise,
        class: c.class.as_str().to_owned(),
        national_class: c.national,
        batch_exit: c.class.may_ship_in_batches(),
        list: c.listing.as_ref().map(|l| l.list.clone()),
        listed_because: c.listing.as_ref().map(|l| l.reason.clone()),
        listed_by: c.listing.as_ref().map(|l| l.actor.clone()),
        listed_since_ms: c.listing.as_ref().map(|l| l.since_ms),
    }))
}

/// Put an operator on the second-line white list or key-concern list, or off every list (customs
/// officers), with a reason; audited.
#[utoipa::path(
    put,
    path = "/api/v1/enterprises/{code}/second-line-list",
    tag = "risk",
    request_body = ListingRequest,
    params(("code" = String, Path, description = "unified social credit code"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = ListingView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource", body = ErrorEnvelope), (status = 409, description = "idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn list_operator(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    let path = format!("PUT /api/v1/enterprises/{code}/second-line-list");
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::KeepCreditRecords,
        &headers,
        &path,
        &body,
        async move |idem| {
            let enterprise = path_code(&code)?;
            let b: ListingRequest = parse_body(payload)?;
            let list = list_of(&b.list)?;
            let answer = to_json(&ListingView {
                list: b.list.clone(),
            })?;
            let record = idem.record(StatusCode::OK, &answer);
            freeport_app::second_line_credit::list_operator(
                st,
                &c.actor(),
                &enterprise,
                list,
                &b.reason,
                Some(record),
            )
            .await?;
            Ok((StatusCode::OK, answer))
        },
    )
    .await
}

/// Put a person (by identity document; kept by person code, never the number) on the second-line
/// white list or key-concern list, or off every list (customs officers); audited.
#[utoipa::path(
    put,
    path = "/api/v1/second-line-lists/individuals",
    tag = "risk",
    request_body = IndividualListingRequest,
    params(("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = ListingView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 409, description = "idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn list_individual(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::KeepCreditRecords,
        &headers,
        "PUT /api/v1/second-line-lists/individuals",
        &body,
        async move |idem| {
            let b: IndividualListingRequest = parse_body(payload)?;
            let doc = document(&b.document)?;
            let list = list_of(&b.list)?;
            let answer = to_json(&ListingView {
                list: b.list.clone(),
            })?;
            let record = idem.record(StatusCode::OK, &answer);
            freeport_app::second_line_credit::list_individual(
                st,
                &c.actor(),
                &doc,
                list,
                &b.reason,
                Some(record),
            )
            .await?;
            Ok((StatusCode::OK, answer))
        },
    )
    .await
}
