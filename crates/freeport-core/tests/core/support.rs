//! Builders for declarations and snapshots over the bundled Hainan pack.

use std::sync::OnceLock;

use freeport_core::country::Country;
use freeport_core::currency::Currency;
use freeport_core::decision::Posting;
use freeport_core::declaration::*;
use freeport_core::hs::HsCode;
use freeport_core::identity::{CreditCode, check_character};
use freeport_core::money::Cny;
use freeport_core::pack::PolicyPack;
use freeport_core::snapshot::{BalanceKey, EnterpriseStanding, Snapshot};
use freeport_core::unit::{Quantity, Unit};
use rust_decimal::Decimal;
use time::Date;

pub(crate) fn pack() -> &'static PolicyPack {
    static PACK: OnceLock<PolicyPack> = OnceLock::new();
    PACK.get_or_init(|| {
        freeport_policy_fs::load_pack(&freeport_policy_fs::bundled_pack_dir())
            .expect("the bundled Hainan pack loads")
    })
}

pub(crate) fn code(s: &str) -> HsCode {
    HsCode::parse("hs_code", s, &pack().nomenclature).expect("test code is valid")
}

/// A valid Hainan credit code built from a serial number (the check character is computed).
pub(crate) fn enterprise(n: u32) -> CreditCode {
    let first17 = format!("91460000MA5T{n:05}");
    let check = check_character(&first17).expect("alphabet");
    CreditCode::parse(&format!("{first17}{check}")).expect("constructed code is valid")
}

pub(crate) fn dec(s: &str) -> Decimal {
    s.parse().expect("test decimal")
}

pub(crate) fn country(s: &str) -> Country {
    Country::parse(s).expect("test country")
}

pub(crate) fn qty(value: &str, unit: Unit) -> Quantity {
    Quantity {
        value: dec(value),
        unit,
    }
}

pub(crate) fn line(
    hs: &str,
    origin: &str,
    value: &str,
    quantities: Vec<Quantity>,
    status: GoodsStatus,
) -> Line {
    Line {
        hs_code: code(hs),
        description: String::new(),
        origin: country(origin),
        quantities,
        value: dec(value),
        goods_status: status,
        licence: None,
        consumption_tax_item: None,
        imported_materials: Vec::new(),
        value_added: None,
        exception_measure: false,
    }
}

pub(crate) fn declaration(
    flow: Flow,
    on: Date,
    declarant: CreditCode,
    lines: Vec<Line>,
) -> Declaration {
    Declaration {
        id: "TEST-1".to_owned(),
        flow,
        declared_on: on,
        declarant,
        counterparty: None,
        currency: Currency::CNY,
        payment_option: PaymentOption::ZeroTariff,
        entry_purpose: EntryPurpose::DomesticCirculation,
        direct_release: false,
        domestic_vat_paid: false,
        transport: None,
        batch_exit: false,
        lines,
    }
}

/// A snapshot in which `beneficiaries` are zero-tariff beneficiaries and filed encouraged-industry
/// enterprises.
pub(crate) fn snapshot(beneficiaries: &[CreditCode]) -> Snapshot {
    let mut s = Snapshot::default();
    for b in beneficiaries {
        s.enterprises.insert(
            *b,
            EnterpriseStanding {
                beneficiary: true,
                encouraged_industry_filed: true,
                ..EnterpriseStanding::default()
            },
        );
    }
    s
}

/// Zero-tariff materials consumed by or contained in a line: `quantity` of goods `hs`, entered at
/// `customs_value` CNY.
pub(crate) fn material(
    hs: &str,
    origin: &str,
    customs_value: &str,
    quantity: Quantity,
) -> Material {
    Material {
        hs_code: code(hs),
        origin: country(origin),
        customs_value: Cny::parse("test", customs_value).expect("test amount"),
        quantities: vec![quantity],
        consumption_tax_item: None,
    }
}

/// Puts `quantity` of goods `hs` on record in `enterprise`'s account book.
pub(crate) fn hold(s: &mut Snapshot, enterprise: CreditCode, hs: &str, quantity: Quantity) {
    s.balances.insert(
        BalanceKey {
            enterprise,
            hs_code: code(hs),
            unit: quantity.unit,
        },
        quantity.value,
    );
}

/// Books a decision's postings as the ledger would: each signed quantity adds to its balance.
pub(crate) fn apply(s: &mut Snapshot, postings: &[Posting]) {
    for p in postings {
        *s.balances.entry(p.balance_key()).or_default() += p.quantity.value;
    }
}
