//! What the OpenAPI document promises beyond the shapes of the wire types: the patterns, enums and
//! ranges the parsers enforce, and the error answers every operation can give.
//!
//! The wire types describe their fields' JSON types; the parsers (the core's domain types and
//! `limits`) decide what values are accepted. This module writes those decisions into the document,
//! from the same tables the parsers use where there is one (currencies, countries, units, numeric
//! bounds), so that a client generated from the document sends what the server accepts and reads
//! every answer it can get. Schemathesis checks the result against a served instance in CI.

use freeport_core::limits::{self, Bound};
use serde_json::{Map, Value, json};

/// A day on the wire.
fn day() -> Value {
    json!({ "type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" })
}

/// A unified social credit code (GB 32100-2015): 18 characters of its alphabet; the check
/// character is verified by the server.
fn credit_code() -> Value {
    json!({ "type": "string", "pattern": "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$" })
}

fn decimal(bound: Bound) -> Value {
    json!({ "type": "string", "pattern": bound.pattern() })
}

fn one_of(values: impl IntoIterator<Item = impl Into<String>>) -> Value {
    let values: Vec<String> = values.into_iter().map(Into::into).collect();
    json!({ "type": "string", "enum": values })
}

/// Text that must hold something other than white space, at most `max` characters, no NUL.
fn text(max: usize) -> Value {
    let mut t = some_text();
    t["maxLength"] = json!(max);
    t
}

/// Text of 1 to `max` characters with something other than white space and no control character
/// (Unicode Cc), as a plate, a channel report or a transport document is read.
fn plain_text(max: usize) -> Value {
    json!({
        "type": "string",
        "minLength": 1,
        "maxLength": max,
        "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"
    })
}

/// Text that must hold something other than white space, no NUL.
fn some_text() -> Value {
    json!({ "type": "string", "minLength": 1, "pattern": "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$" })
}

fn currency() -> Value {
    one_of(freeport_core::currency::Currency::all().map(|c| c.as_str()))
}

fn country() -> Value {
    one_of(freeport_core::country::Country::all().map(|c| c.as_str()))
}

fn unit() -> Value {
    one_of(freeport_core::unit::Unit::codes())
}

/// An HS code as the parser reads it: 6, 8 or 10 digits (the pack then decides whether it knows
/// the line).
fn hs_code() -> Value {
    json!({ "type": "string", "pattern": "^([0-9]{6}|[0-9]{8}|[0-9]{10})$" })
}

/// A field's constraint: component schema, property, schema of the property.
type FieldConstraint = (&'static str, &'static str, Value);

/// The constraints of request bodies' fields, by component schema and property.
fn body_fields() -> Vec<FieldConstraint> {
    [
        administration_fields(),
        declaration_fields(),
        snapshot_fields(),
        supervision_fields(),
        duty_free_fields(),
        till_fields(),
        trace_fields(),
        credit_fields(),
        lifecycle_fields(),
        risk_fields(),
    ]
    .concat()
}

/// A field that may also be null.
fn nullable(v: Value) -> Value {
    json!({ "oneOf": [v, { "type": "null" }] })
}

/// A non-empty list of at most `max` of the component schema `schema`.
fn list_of(schema: &str, max: usize) -> Value {
    json!({ "type": "array", "minItems": 1, "maxItems": max, "items": { "$ref": format!("#/components/schemas/{schema}") } })
}

/// Logging in, users, enterprises, exchange rates and webhooks.
fn administration_fields() -> Vec<FieldConstraint> {
    vec![
        (
            "LoginRequest",
            "username",
            json!({ "type": "string", "maxLength": 100 }),
        ),
        (
            "LoginRequest",
            "password",
            json!({ "type": "string", "maxLength": 1000 }),
        ),
        ("NewUserRequest", "username", text(100)),
        (
            "NewUserRequest",
            "password",
            json!({ "type": "string", "minLength": 12, "maxLength": 1000 }),
        ),
        (
            "NewUserRequest",
            "role",
            one_of([
                "enterprise_user",
                "duty_free_operator",
                "customs_officer",
                "risk_analyst",
                "administrator",
            ]),
        ),
        ("NewUserRequest", "enterprise", nullable(credit_code())),
        ("EnterpriseRequest", "name", text(300)),
        (
            "EnterpriseRequest",
            "encouraged_revenue_share",
            nullable(decimal(limits::SHARE)),
        ),
        (
            "EnterpriseRequest",
            "credit_class",
            one_of([
                "advanced_certified",
                "certified",
                "general",
                "dishonest",
                "seriously_dishonest",
            ]),
        ),
        (
            "ExchangeRateRequest",
            "cny_per_unit",
            decimal(limits::EXCHANGE_RATE),
        ),
        (
            "WebhookRequest",
            "url",
            json!({ "type": "string", "maxLength": 2000, "pattern": "^https?://[^\\s/@]+(/[^\\s]*)?$" }),
        ),
    ]
}

/// A declaration, its lines, and the processing facts a line carries for the value-added rule.
fn declaration_fields() -> Vec<FieldConstraint> {
    vec![
        ("DeclarationDto", "id", text(1000)),
        ("DeclarationDto", "declared_on", day()),
        ("DeclarationDto", "declarant", credit_code()),
        ("DeclarationDto", "currency", currency()),
        ("DeclarationDto", "lines", list_of("LineDto", 1000)),
        ("LineDto", "hs_code", hs_code()),
        ("LineDto", "origin", country()),
        ("LineDto", "value", decimal(limits::LINE_VALUE)),
        (
            "LineDto",
            "description",
            json!({ "type": "string", "maxLength": 1000 }),
        ),
        ("LineDto", "quantities", list_of("QuantityDto", 8)),
        ("QuantityDto", "value", decimal(limits::QUANTITY)),
        ("QuantityDto", "unit", unit()),
        (
            "TransportDto",
            "port",
            json!({ "type": "string", "pattern": "^[a-z0-9-]{1,32}$" }),
        ),
        (
            "TransportDto",
            "mode",
            one_of(freeport_core::port::TransportMode::ALL.map(|m| m.as_str())),
        ),
        ("TransportDto", "means", plain_text(64)),
        ("TransportDto", "document", nullable(plain_text(64))),
        ("TransportDto", "channel", nullable(channel_id())),
        ("PortModeRequest", "channel", nullable(channel_id())),
        ("PortCapacityRequest", "channel", nullable(channel_id())),
        ("CrossingRequest", "means", plain_text(64)),
        ("PortModeRequest", "reason", some_text()),
        (
            "ConsolidationRequest",
            "month",
            json!({ "type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$" }),
        ),
        ("ReinstatementRequest", "reason", some_text()),
        (
            "ListingRequest",
            "list",
            one_of(["white_list", "key_concern", "none"]),
        ),
        ("ListingRequest", "reason", some_text()),
        (
            "IndividualListingRequest",
            "list",
            one_of(["white_list", "key_concern", "none"]),
        ),
        ("IndividualListingRequest", "reason", some_text()),
        ("PassengerRequest", "departure_on", day()),
        (
            "PassengerRequest",
            "carried",
            json!({ "type": "array", "maxItems": 100, "items": { "$ref": "#/components/schemas/CarriedRequest" } }),
        ),
        (
            "CarriedRequest",
            "unit_price",
            decimal(limits::SALE_UNIT_PRICE),
        ),
        ("CarriedRequest", "quantity", decimal(limits::SALE_QUANTITY)),
        (
            "PortCapacityRequest",
            "daily_inspection_capacity",
            json!({ "type": "integer", "minimum": 0, "maximum": freeport_api::second_line::MAX_DAILY_INSPECTION_CAPACITY }),
        ),
        ("MaterialDto", "hs_code", hs_code()),
        ("MaterialDto", "origin", country()),
        ("MaterialDto", "customs_value", decimal(limits::AMOUNT_CNY)),
        ("DomesticPurchaseDto", "value", decimal(limits::AMOUNT_CNY)),
        ("ChainStageDto", "enterprise", credit_code()),
        ("ChainStageDto", "sale_price", decimal(limits::AMOUNT_CNY)),
        (
            "ChainStageDto",
            "imported",
            json!({ "type": "array", "maxItems": 1000, "items": decimal(limits::AMOUNT_CNY) }),
        ),
        ("ValueAddedDto", "sale_price", decimal(limits::AMOUNT_CNY)),
    ]
}

/// The state snapshot a quote is judged against.
fn snapshot_fields() -> Vec<FieldConstraint> {
    vec![
        ("EnterpriseDto", "credit_code", credit_code()),
        (
            "EnterpriseDto",
            "encouraged_revenue_share",
            nullable(decimal(limits::SHARE)),
        ),
        (
            "WaiverLockDto",
            "kind_prefix",
            json!({ "type": "string", "pattern": "^[0-9]{1,10}$" }),
        ),
        ("WaiverLockDto", "first", day()),
        ("WaiverLockDto", "last", day()),
        ("ExchangeRateDto", "currency", currency()),
        ("ExchangeRateDto", "date", day()),
        (
            "ExchangeRateDto",
            "cny_per_unit",
            decimal(limits::EXCHANGE_RATE),
        ),
    ]
}

/// Stock adjustments and the disposal of supervised goods.
fn supervision_fields() -> Vec<FieldConstraint> {
    vec![
        (
            "AdjustmentRequest",
            "kind",
            one_of(["stock_take", "write_off"]),
        ),
        (
            "AdjustmentRequest",
            "items",
            list_of("AdjustmentItem", 1000),
        ),
        ("AdjustmentItem", "hs_code", hs_code()),
        ("AdjustmentItem", "unit", unit()),
        ("AdjustmentItem", "quantity", decimal(limits::QUANTITY)),
        (
            "DisposalRequest",
            "kind",
            one_of(["transfer", "early_release", "diversion"]),
        ),
        ("DisposalRequest", "on", day()),
        (
            "DisposalRequest",
            "quantity",
            nullable(decimal(limits::QUANTITY)),
        ),
        (
            "DisposalRequest",
            "days_diverted",
            json!({ "type": ["integer", "null"], "minimum": 1, "maximum": freeport_core::supervision::MAX_DAYS_DIVERTED }),
        ),
    ]
}

/// A port's channel as the pack names it: `<port>-<kind>-<nn>`.
fn channel_id() -> Value {
    json!({ "type": "string", "pattern": "^[a-z0-9-]{1,64}$" })
}

/// Duty-free shops, their sales and the buyer's document.
fn duty_free_fields() -> Vec<FieldConstraint> {
    vec![
        ("ShopRequest", "operator", credit_code()),
        ("ShopRequest", "name", text(300)),
        ("ShopRequest", "location", text(300)),
        ("SaleRequest", "birth_date", day()),
        ("SaleRequest", "departure_on", nullable(day())),
        (
            "SaleRequest",
            "scheme",
            nullable(one_of(
                freeport_core::quota_ledger::Scheme::ALL.map(|m| m.as_str()),
            )),
        ),
        (
            "DishonestyRequest",
            "ground",
            one_of(freeport_app::dishonesty::Ground::ALL.map(|g| g.as_str())),
        ),
        ("DishonestyRequest", "listed_on", day()),
        ("DishonestyRequest", "reason", text(300)),
        ("SaleRequest", "sold_on", day()),
        ("SaleRequest", "items", list_of("SaleItemRequest", 100)),
    ]
}

/// A till's reservations and returns, departures, pieces by number, proxy-buying rings.
fn till_fields() -> Vec<FieldConstraint> {
    vec![
        (
            "SaleRequest",
            "hold_seconds",
            nullable(
                json!({ "type": "integer", "minimum": freeport_api::platform::HOLD_SECONDS.0, "maximum": freeport_api::platform::HOLD_SECONDS.1 }),
            ),
        ),
        (
            "BuyerLinksRequest",
            "phone",
            nullable(json!({ "type": "string", "pattern": "^\\+?[0-9 ()-]{5,40}$" })),
        ),
        (
            "BuyerLinksRequest",
            "payment_account",
            nullable(plain_text(100)),
        ),
        ("BuyerLinksRequest", "delivery_address", nullable(text(300))),
        ("BuyerLinksRequest", "device", nullable(plain_text(128))),
    ]
}

/// Departures, pieces by traceability number, proxy-buying rings.
fn trace_fields() -> Vec<FieldConstraint> {
    vec![
        (
            "DepartureRequest",
            "kind",
            one_of(freeport_core::departure::DepartureKind::ALL.map(|k| k.as_str())),
        ),
        ("DepartureRequest", "means", plain_text(32)),
        (
            "DepartureRequest",
            "port",
            json!({ "type": "string", "pattern": "^[a-z0-9-]{1,32}$" }),
        ),
        (
            "DepartureRequest",
            "departs_at",
            json!({ "type": "string", "format": "date-time" }),
        ),
        ("RingAlertsRequest", "from", day()),
        ("RingAlertsRequest", "to", day()),
        (
            "SaleItemRequest",
            "pickup",
            nullable(one_of(
                freeport_core::duty_free::PickupMode::ALL.map(|m| m.as_str()),
            )),
        ),
        (
            "SaleItemRequest",
            "trace_codes",
            nullable(
                json!({ "type": "array", "maxItems": 100, "uniqueItems": true, "items": { "type": "string", "pattern": "^[0-9]{16}$" } }),
            ),
        ),
        ("AllowanceRequest", "departure_on", day()),
        ("TravellerAllowanceRequest", "birth_date", day()),
        ("TravellerAllowanceRequest", "departure_on", day()),
        (
            "ItemDepartureRequest",
            "port",
            json!({ "type": "string", "pattern": "^[a-z0-9-]{1,32}$" }),
        ),
        ("ReturnRequest", "items", list_of("ReturnItemRequest", 100)),
        ("ReturnRequest", "reason", text(300)),
        (
            "ReturnItemRequest",
            "line",
            json!({ "type": "integer", "minimum": 0, "maximum": 99 }),
        ),
        (
            "ReturnItemRequest",
            "quantity",
            decimal(limits::SALE_QUANTITY),
        ),
        (
            "SaleItemRequest",
            "unit_price",
            decimal(limits::SALE_UNIT_PRICE),
        ),
        (
            "SaleItemRequest",
            "quantity",
            decimal(limits::SALE_QUANTITY),
        ),
        (
            "SaleItemRequest",
            "limit_quantity",
            nullable(decimal(limits::SALE_QUANTITY)),
        ),
        (
            "SaleItemRequest",
            "description",
            json!({ "type": "string", "maxLength": 300 }),
        ),
        (
            "BuyerDocument",
            "kind",
            one_of([
                "resident_id",
                "passport",
                "foreign_permanent_resident_id",
                "hk_macao_permit",
                "taiwan_permit",
            ]),
        ),
        ("BuyerDocument", "issuing_country", nullable(country())),
    ]
}

/// An enterprise's credit records and their repair.
fn credit_fields() -> Vec<FieldConstraint> {
    vec![
        (
            "CreditRecordRequest",
            "kind",
            one_of(["violation", "smuggling", "tax_due", "tax_paid"]),
        ),
        ("CreditRecordRequest", "on", day()),
        ("CreditRecordRequest", "due_on", nullable(day())),
        ("CreditRecordRequest", "reference", text(200)),
        (
            "CreditRecordRequest",
            "amount",
            nullable(decimal(limits::AMOUNT_CNY)),
        ),
        ("CreditRepairRequest", "reason", some_text()),
    ]
}

/// A declaration's status changes and inspection results.
fn lifecycle_fields() -> Vec<FieldConstraint> {
    vec![
        (
            "StatusChangeRequest",
            "to",
            one_of(["released", "under_inspection", "held", "closed"]),
        ),
        (
            "InspectionResultRequest",
            "result",
            one_of(["compliant", "violation"]),
        ),
        (
            "InspectionResultRequest",
            "findings",
            json!({ "type": "array", "items": one_of(crate::routes::lifecycle::FINDING_KINDS) }),
        ),
        ("InspectionResultRequest", "inspected_on", nullable(day())),
        (
            "InspectionResultRequest",
            "revenue_found",
            nullable(decimal(limits::AMOUNT_CNY)),
        ),
    ]
}

/// Rule sets, the model, and the alerts they raise.
fn risk_fields() -> Vec<FieldConstraint> {
    vec![
        ("BacktestRequest", "from", day()),
        ("BacktestRequest", "to", day()),
        ("TrainModelRequest", "from", day()),
        ("TrainModelRequest", "to", day()),
        ("RuleSetStateRequest", "reason", some_text()),
        (
            "AlertAnalysisRequest",
            "conclusion",
            one_of(["confirmed", "unfounded"]),
        ),
        ("AlertAnalysisRequest", "notes", some_text()),
        (
            "AlertDisposalRequest",
            "action",
            one_of(crate::routes::alerts::DISPOSAL_ACTIONS),
        ),
        (
            "AlertDisposalRequest",
            "penalty",
            nullable(decimal(limits::AMOUNT_CNY)),
        ),
        (
            "AlertEvaluationRequest",
            "revenue_found",
            nullable(decimal(limits::AMOUNT_CNY)),
        ),
    ]
}

/// Constraints across a request body's fields, by component schema.
fn body_rules() -> Vec<(&'static str, Value)> {
    let when = |field: &str, values: &[&str], then: Value, otherwise: Value| {
        json!({
            "if": { "required": [field], "properties": { field: { "enum": values } } },
            "then": then,
            "else": otherwise,
        })
    };
    let absent = |fields: &[&str]| {
        let props: Map<String, Value> = fields
            .iter()
            .map(|f| ((*f).to_owned(), json!({ "type": "null" })))
            .collect();
        json!({ "properties": props })
    };
    let zero_cny = json!({ "oneOf": [{ "type": "null" }, { "type": "string", "pattern": "^0(\\.0{1,2})?$" }] });
    vec![
        // Tenant-bound roles name their enterprise; the others name none.
        (
            "NewUserRequest",
            when(
                "role",
                &["enterprise_user", "duty_free_operator"],
                json!({ "required": ["enterprise"], "properties": { "enterprise": credit_code() } }),
                absent(&["enterprise"]),
            ),
        ),
        // A violation names what was found; a compliant result finds nothing and recovers nothing.
        (
            "InspectionResultRequest",
            when(
                "result",
                &["violation"],
                json!({ "required": ["findings"], "properties": { "findings": { "minItems": 1 } } }),
                json!({ "properties": { "findings": { "maxItems": 0 }, "revenue_found": zero_cny } }),
            ),
        ),
        // The penalise action states a penalty; the others state none.
        (
            "AlertDisposalRequest",
            when(
                "action",
                &["penalise"],
                json!({ "required": ["penalty"], "properties": { "penalty": decimal(limits::AMOUNT_CNY) } }),
                absent(&["penalty"]),
            ),
        ),
        // A diversion states its days and no quantity; the other disposals state no days.
        (
            "DisposalRequest",
            when(
                "kind",
                &["diversion"],
                json!({ "required": ["days_diverted"], "properties": { "days_diverted": { "type": "integer" }, "quantity": { "type": "null" } } }),
                absent(&["days_diverted"]),
            ),
        ),
    ]
}

/// A credit record's amount and due day, by kind.
fn credit_record_rules() -> Value {
    let amount = decimal(limits::AMOUNT_CNY);
    json!([
        { "if": { "required": ["kind"], "properties": { "kind": { "const": "violation" } } },
          "then": { "required": ["amount"], "properties": { "amount": amount, "due_on": { "type": "null" } } } },
        { "if": { "required": ["kind"], "properties": { "kind": { "const": "tax_due" } } },
          "then": { "required": ["amount", "due_on"], "properties": { "amount": amount, "due_on": day() } } },
        { "if": { "required": ["kind"], "properties": { "kind": { "enum": ["smuggling", "tax_paid"] } } },
          "then": { "properties": { "amount": { "type": "null" }, "due_on": { "type": "null" } } } }
    ])
}

/// The constraints of path and query parameters, by name.
fn parameter(name: &str) -> Option<Value> {
    Some(match name {
        "code" => credit_code(),
        "currency" => currency(),
        "day" | "on" | "from" | "to" => day(),
        "limit" => {
            json!({ "type": "integer", "format": "int64", "minimum": 1, "maximum": crate::MAX_PAGE })
        }
        "shop" => json!({ "type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$" }),
        "sha256" => json!({ "type": "string", "pattern": "^[0-9a-f]{64}$" }),
        "state" => one_of(["open", "analysed", "disposed", "evaluated"]),
        "by" => one_of(freeport_core::time_release::GroupBy::ALL.map(|g| g.as_str())),
        "min_inspections" => {
            json!({ "type": "integer", "format": "int64", "minimum": 0, "maximum": crate::routes::rule_sets::MAX_MIN_INSPECTIONS })
        }
        "since_ms" => {
            json!({ "type": "integer", "format": "int64", "minimum": 0, "maximum": crate::routes::sales_feed::LAST_MS })
        }
        "max_seconds" => {
            json!({ "type": "integer", "format": "int64", "minimum": 1, "maximum": crate::routes::sales_feed::MAX_SECONDS })
        }
        "Last-Event-ID" => json!({ "type": "string", "pattern": "^[0-9]{1,13}$" }),
        "Idempotency-Key" => {
            json!({ "type": "string", "minLength": 1, "maxLength": crate::MAX_KEY_LEN, "pattern": "^[!-~]+$" })
        }
        _ => return None,
    })
}

/// Adds "no NUL" to a string schema without a pattern or enum (and to the strings of arrays and
/// nullable strings).
fn no_nul(p: &mut Value) {
    let is_string = match &p["type"] {
        Value::String(t) => t == "string",
        Value::Array(ts) => ts.iter().any(|t| t == "string"),
        _ => false,
    };
    if is_string
        && p.get("pattern").is_none()
        && p.get("enum").is_none()
        && p.get("format").is_none()
    {
        p["pattern"] = json!("^[^\\u0000]*$");
    }
    if let Some(items) = p.get_mut("items") {
        no_nul(items);
    }
    if let Some(alternatives) = p.get_mut("oneOf").and_then(Value::as_array_mut) {
        alternatives.iter_mut().for_each(no_nul);
    }
}

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorEnvelope" } } }
    })
}

/// Adds the answers an operation can give whatever its handler does: the body limit, the
/// parsers, authentication, idempotency and the role check.
fn standard_responses(op: &mut Map<String, Value>) {
    let params: Vec<(String, String)> = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    (
                        p["name"].as_str().unwrap_or_default().to_owned(),
                        p["in"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let secured = op.get("security").is_some();
    let has_body = op.get("requestBody").is_some();
    let idempotent = params.iter().any(|(n, _)| n == "Idempotency-Key");
    let has_path = params.iter().any(|(_, i)| i == "path");
    let has_query = params.iter().any(|(_, i)| i == "query");
    let login = op.get("operationId").and_then(Value::as_str) == Some("login");
    let mut add = |status: &str, description: &str| {
        let responses = op
            .entry("responses")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        if let Some(r) = responses {
            r.entry(status.to_owned())
                .or_insert_with(|| error(description));
        }
    };
    if secured {
        add("401", "not authenticated");
        add("403", "the caller's role may not do this");
    }
    if has_path {
        add(
            "404",
            "no such resource, a path that names none, or another tenant's",
        );
    }
    if idempotent {
        add("400", "no Idempotency-Key");
        add(
            "409",
            "the Idempotency-Key was used with another request, or its first request is still in flight; or the state changed",
        );
    }
    if has_body {
        add("413", "a body over 1 MiB");
    }
    if has_body || has_query || idempotent {
        add("422", "invalid input; `details` names the field");
    }
    if login {
        add(
            "429",
            "too many failed log-ins for the account or from the address; see Retry-After",
        );
    }
}

/// Writes the constraints into `doc` (the document as JSON).
pub(crate) fn complete(doc: &mut Value) {
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for ops in paths.values_mut() {
            let Some(ops) = ops.as_object_mut() else {
                continue;
            };
            for op in ops.values_mut() {
                let Some(op) = op.as_object_mut() else {
                    continue;
                };
                if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                    for p in params {
                        let name = p["name"].as_str().unwrap_or_default().to_owned();
                        if let Some(schema) = parameter(&name) {
                            p["schema"] = schema;
                        }
                    }
                }
                standard_responses(op);
            }
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (schema, property, constraint) in body_fields() {
            if let Some(p) = schemas
                .get_mut(schema)
                .and_then(|s| s.get_mut("properties"))
                .and_then(|p| p.get_mut(property))
            {
                let description = p.get("description").cloned();
                *p = constraint;
                if let Some(d) = description {
                    p["description"] = d;
                }
            }
        }
        for (schema, rule) in body_rules() {
            if let Some(s) = schemas.get_mut(schema).and_then(Value::as_object_mut) {
                s.insert("allOf".to_owned(), json!([rule]));
            }
        }
        if let Some(s) = schemas
            .get_mut("CreditRecordRequest")
            .and_then(Value::as_object_mut)
        {
            s.insert("allOf".to_owned(), credit_record_rules());
        }
        // Every string of a request may hold any character but NUL (PostgreSQL text cannot),
        // and every revision is a whole number a JSON number holds exactly.
        for (schema, s) in schemas.iter_mut() {
            let request = ["Request", "Dto", "Document", "Item"]
                .iter()
                .any(|end| schema.ends_with(end));
            let Some(props) = s
                .get_mut("properties")
                .and_then(Value::as_object_mut)
                .filter(|_| request)
            else {
                continue;
            };
            for (name, p) in props.iter_mut() {
                if name == "revision" {
                    *p = json!({ "type": "integer", "minimum": 1, "maximum": 9_007_199_254_740_991_i64 });
                }
                no_nul(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_constrained_field_exists_in_the_document() {
        let doc = crate::openapi::document();
        for (schema, property, _) in body_fields() {
            assert!(
                doc.pointer(&format!(
                    "/components/schemas/{schema}/properties/{property}"
                ))
                .is_some(),
                "{schema}.{property} is in the document"
            );
        }
    }
}
