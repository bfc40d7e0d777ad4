//! The OpenAPI document: complete, consistent with the API's conventions, and the copy kept in
//! `docs/reference/openapi.json` is current.

use serde_json::Value;

fn document() -> Value {
    freeport_server::openapi::document()
}

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("operations") {
            out.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    out
}

#[test]
fn the_document_is_openapi_3_1_and_every_operation_says_what_it_does() {
    let doc = document();
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    let ops = operations(&doc);
    assert!(ops.len() >= 20, "{} operations", ops.len());
    for (method, path, op) in &ops {
        let summary = op["summary"].as_str().unwrap_or_default();
        assert!(!summary.is_empty(), "{method} {path} has no summary");
        assert!(
            op["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{method} {path} has no tag"
        );
        // Every failure answers the one error envelope.
        for (status, response) in op["responses"].as_object().expect("responses") {
            if status.starts_with('4') {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(
                    schema.as_str(),
                    Some("#/components/schemas/ErrorEnvelope"),
                    "{method} {path} {status}"
                );
            }
        }
    }
}

#[test]
fn every_write_takes_an_idempotency_key_and_every_private_route_needs_a_session() {
    let doc = document();
    for (method, path, op) in operations(&doc) {
        let public = matches!(
            (method.as_str(), path.as_str()),
            ("GET", "/health")
                | ("POST", "/api/v1/sessions")
                | ("POST", "/api/v1/travellers/allowance")
        );
        assert_eq!(
            op["security"].is_array(),
            !public,
            "{method} {path}: security"
        );
        // A quote changes nothing, and sessions are not retried (a retry makes another session).
        // A traveller's allowance is a read that carries a document, which belongs in a body,
        // never in a URL (URLs are logged).
        let writes = !matches!(method.as_str(), "GET")
            && !path.starts_with("/api/v1/sessions")
            && path != "/api/v1/quote"
            && path != "/api/v1/duty-free/allowance"
            && path != "/api/v1/travellers/allowance";
        let has_key = op["parameters"].as_array().is_some_and(|ps| {
            ps.iter()
                .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header")
        });
        assert_eq!(has_key, writes, "{method} {path}: Idempotency-Key");
    }
}

#[test]
fn the_reference_copy_is_current() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/reference/openapi.json"
    );
    let kept = std::fs::read_to_string(path).unwrap_or_default();
    let now = freeport_server::openapi::pretty();
    assert!(
        kept.trim_end() == now.trim_end(),
        "docs/reference/openapi.json is stale: run `cargo run -- openapi > docs/reference/openapi.json`"
    );
}
