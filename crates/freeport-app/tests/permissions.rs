//! The use cases guard themselves: called directly, as the console and the drill call them, with
//! no HTTP edge in front, a role without the permission is refused and a foreign tenant's
//! records are absent. On a real SQLite store.

use std::sync::Arc;

use freeport_app::users::Role;
use freeport_app::{Actor, AppError, Platform};
use freeport_core::credit::CreditClass;
use freeport_core::identity::CreditCode;
use freeport_core::registry::Registration;
use freeport_store::Store;

const A: &str = "91460000MA5T00001F";
const B: &str = "91460000MA5T00004Q";

fn actor(role: Role, enterprise: Option<&str>) -> Actor {
    Actor {
        user_id: format!("{}-user", role.as_str()),
        role,
        enterprise: enterprise.map(str::to_owned),
    }
}

async fn platform() -> Platform {
    let name = format!("freeport_app_permissions_{}", std::process::id());
    let url = freeport_store::fresh::fresh_database(None, &name)
        .await
        .expect("a fresh database");
    let store = Store::connect(&url, 2, b"k").await.expect("connect");
    store.migrate().await.expect("migrate");
    let pack =
        freeport_policy_fs::load_pack(&freeport_policy_fs::bundled_pack_dir()).expect("pack");
    let platform = Platform::new(store, Arc::new(pack));
    let admin = actor(Role::Administrator, None);
    for code in [A, B] {
        let r = Registration {
            code: CreditCode::parse(code).expect("code"),
            name: format!("Enterprise {code}"),
            beneficiary: true,
            encouraged_industry_filed: false,
            encouraged_revenue_share: None,
            credit_class: CreditClass::General,
        };
        freeport_app::registry::register(&platform, &admin, r, |_| Ok(None))
            .await
            .expect("registered");
    }
    platform
}

fn code(text: &str) -> CreditCode {
    CreditCode::parse(text).expect("code")
}

#[tokio::test]
async fn a_use_case_called_directly_checks_the_role_and_the_tenant() {
    let p = platform().await;
    let own = actor(Role::EnterpriseUser, Some(A));
    let operator = actor(Role::DutyFreeOperator, Some(A));
    let officer = actor(Role::CustomsOfficer, None);

    // The enterprise reads its own book; another enterprise's is absent, not forbidden.
    freeport_app::account_books::account_book(&p, &own, &code(A), 0, 10)
        .await
        .expect("its own book");
    let foreign = freeport_app::account_books::account_book(&p, &own, &code(B), 0, 10).await;
    assert!(matches!(foreign, Err(AppError::NotFound(_))), "{foreign:?}");
    // An operator holds no account-book permission, even for its own enterprise.
    let operator_book =
        freeport_app::account_books::account_book(&p, &operator, &code(A), 0, 10).await;
    assert!(
        matches!(operator_book, Err(AppError::Forbidden(_))),
        "{operator_book:?}"
    );
    // Customs reads every book.
    freeport_app::account_books::account_book(&p, &officer, &code(B), 0, 10)
        .await
        .expect("customs reads any book");

    // Writes too: an enterprise user cannot register an enterprise, nor read the registry.
    let r = Registration {
        code: code(B),
        name: "Renamed".into(),
        beneficiary: false,
        encouraged_industry_filed: false,
        encouraged_revenue_share: None,
        credit_class: CreditClass::AdvancedCertified,
    };
    let write = freeport_app::registry::register(&p, &own, r, |_| Ok(None)).await;
    assert!(matches!(write, Err(AppError::Forbidden(_))), "{write:?}");
    let unchanged = freeport_app::registry::enterprise(&p, &officer, &code(B))
        .await
        .expect("B");
    assert_eq!(
        unchanged.credit_class, "general",
        "a refused write changed nothing"
    );
    let listed = freeport_app::registry::enterprises(&p, &own, "", 10).await;
    assert!(matches!(listed, Err(AppError::Forbidden(_))), "{listed:?}");

    // An operator lists only its own shops; an enterprise user lists none.
    let shops = freeport_app::duty_free::shops(&p, &own, "", 10).await;
    assert!(matches!(shops, Err(AppError::Forbidden(_))), "{shops:?}");
    assert!(
        freeport_app::duty_free::shops(&p, &operator, "", 10)
            .await
            .expect("its shops")
            .is_empty()
    );
}
