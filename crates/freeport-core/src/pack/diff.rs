//! What changed between two pack versions (`freeport policy diff A B`).
//!
//! Each version is flattened into a sorted map of "what" → "value" lines; the diff of two such maps
//! is the change list. The same flat view is what an officer reads to review an amendment.

use std::collections::BTreeMap;

use serde::Serialize;

use super::model::*;

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "-".to_owned())
}

/// The canonical flat view of a version.
pub fn flatten(v: &PackVersion) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut put = |k: String, val: String| {
        m.insert(k, val);
    };
    put("title".into(), v.title.clone());
    flatten_rules(v, &mut put);
    flatten_tariff_lines(v, &mut put);
    flatten_consumption_tax(v, &mut put);
    flatten_zero_tariff(v, &mut put);
    flatten_controls_and_restrictive(v, &mut put);
    flatten_tax_parameters(v, &mut put);
    flatten_duty_free(v, &mut put);
    let a = &v.articles_tax;
    put(
        "articles_tax.rates".into(),
        format!("{} / {} / {}", a.rates[0], a.rates[1], a.rates[2]),
    );
    put(
        "articles_tax.postal_exemption".into(),
        a.postal_exemption.to_string(),
    );
    put(
        "credit.advanced_ratio_max".into(),
        v.credit.advanced_ratio_max.to_string(),
    );
    put(
        "credit.dishonest_rate_min".into(),
        v.credit.dishonest_rate_min.to_string(),
    );
    put("holidays".into(), format!("{} days", v.holidays.len()));
    m
}

fn flatten_rules(v: &PackVersion, put: &mut impl FnMut(String, String)) {
    for r in &v.rules {
        put(
            format!("rule {}", r.id),
            format!("{} [{:?}] — {}", r.title, r.confidence, r.source),
        );
    }
    for p in &v.unverified_parameters {
        put(format!("unverified {p}"), "flagged".into());
    }
}

fn flatten_tariff_lines(v: &PackVersion, put: &mut impl FnMut(String, String)) {
    for l in v.schedule.sorted() {
        let specific = l
            .specific_duty
            .as_ref()
            .map(|s| format!(" specific {} CNY/{}", s.amount_cny, s.per))
            .unwrap_or_default();
        put(
            format!("tariff {}", l.line),
            format!(
                "mfn {} provisional {} general {}{specific} export {} vat {} ct [{}] unit {} ({:?})",
                l.mfn_rate,
                opt(&l.provisional_rate),
                opt(&l.general_rate),
                opt(&l.export_duty_rate),
                l.vat_rate,
                l.consumption_tax_items.join("|"),
                l.first_unit,
                l.confidence
            ),
        );
    }
}

fn flatten_consumption_tax(v: &PackVersion, put: &mut impl FnMut(String, String)) {
    for c in v.consumption_tax.values() {
        let specific = c
            .specific
            .as_ref()
            .map(|s| format!("{} CNY/{}", s.amount_cny, s.per))
            .unwrap_or_else(|| "-".into());
        put(
            format!("consumption_tax {}", c.id),
            format!(
                "{} / {}: ad valorem {} specific {specific}",
                c.item,
                c.sub_item,
                opt(&c.ad_valorem_rate)
            ),
        );
    }
}

fn flatten_zero_tariff(v: &PackVersion, put: &mut impl FnMut(String, String)) {
    let z = &v.zero_tariff;
    match &z.scope {
        ZeroTariffScope::PositiveLists(lists) => {
            put("zero_tariff.scope".into(), "positive_lists".into());
            for (prefix, list) in lists.iter() {
                put(format!("zero_tariff list {list} {prefix}"), "listed".into());
            }
        }
        ZeroTariffScope::NegativeList(catalogue) => {
            put("zero_tariff.scope".into(), "negative_list".into());
            for (prefix, description) in catalogue.iter() {
                put(format!("taxable_catalogue {prefix}"), description.clone());
            }
        }
    }
    put(
        "zero_tariff.beneficiary_types".into(),
        z.beneficiary_types.join(", "),
    );
    put(
        "zero_tariff.waiver_lock_months".into(),
        z.waiver_lock_months.to_string(),
    );
    put(
        "zero_tariff.waiver_same_kind_digits".into(),
        z.waiver_same_kind_digits.to_string(),
    );
}

fn flatten_controls_and_restrictive(v: &PackVersion, put: &mut impl FnMut(String, String)) {
    for (prefix, c) in v.controls.iter() {
        put(
            format!("control {prefix} {:?} {:?}", c.directions, c.measure),
            format!(
                "{} licence {:?} relaxed {}",
                c.description, c.licence, c.relaxed_under_exception
            ),
        );
    }
    for (prefix, r) in v.restrictive.iter() {
        put(
            format!("restrictive {prefix} {:?} {}", r.category, opt(&r.origin)),
            r.description.clone(),
        );
    }
}

/// Tax, value-added, second-line, island and direct-release parameters.
fn flatten_tax_parameters(v: &PackVersion, put: &mut impl FnMut(String, String)) {
    let t = &v.tax;
    put("tax.minimum_tax".into(), t.minimum_tax.to_string());
    put(
        "tax.waived_tariff_in_vat_base".into(),
        t.waived_tariff_in_vat_base.to_string(),
    );
    let va = &v.value_added;
    put("value_added.threshold".into(), va.threshold.to_string());
    put(
        "value_added.hainan_produced_deduction".into(),
        va.hainan_produced_rule.is_some().to_string(),
    );
    put(
        "value_added.chain_accumulation".into(),
        va.chain_rule.is_some().to_string(),
    );
    put(
        "value_added.encouraged_revenue_share_min".into(),
        opt(&va.encouraged_revenue_share_min),
    );
    put("value_added.tax_base".into(), format!("{:?}", va.tax_base));
    put(
        "second_line.domestic_vat_offsets_import_vat".into(),
        v.second_line.domestic_vat_offsets_import_vat.to_string(),
    );
    put(
        "second_line.centralised_due_day".into(),
        v.second_line.centralised_due_day.to_string(),
    );
    put(
        "island.free_transfer_between_beneficiaries".into(),
        v.island.free_transfer_between_beneficiaries.to_string(),
    );
    put(
        "direct_release.ledger_entry_days".into(),
        v.direct_release.ledger_entry_days.to_string(),
    );
}

fn flatten_duty_free(v: &PackVersion, put: &mut impl FnMut(String, String)) {
    let d = &v.duty_free;
    put("duty_free.annual_quota".into(), d.annual_quota.to_string());
    put("duty_free.minimum_age".into(), d.minimum_age.to_string());
    put(
        "duty_free.buy_and_take_below".into(),
        d.buy_and_take_below.to_string(),
    );
    put(
        "duty_free.guarantee_from".into(),
        d.guarantee_from.to_string(),
    );
    put(
        "duty_free.departure_within_days".into(),
        d.departure_within_days.to_string(),
    );
    put("duty_free.ban_years".into(), d.ban_years.to_string());
    put(
        "duty_free.resident_annual_quota".into(),
        opt(&d.resident_annual_quota),
    );
    put(
        "duty_free.dishonesty_years".into(),
        opt(&d.dishonesty_years),
    );
    for c in d.categories.values() {
        put(
            format!("duty_free category {}", c.id),
            format!(
                "{} limit {} {} ({:?}) buy_and_take {} limit ({:?}) class {}",
                c.name,
                opt(&c.per_departure_limit),
                opt(&c.limit_unit),
                c.limit_status,
                c.buy_and_take,
                c.buy_and_take_limit_status,
                c.articles_tax_class
            ),
        );
    }
    for g in d.resident_goods.values() {
        put(
            format!("duty_free resident goods {}", g.id),
            format!("{} ({:?})", g.name, g.status),
        );
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Added {
        what: String,
        value: String,
    },
    Removed {
        what: String,
        value: String,
    },
    Changed {
        what: String,
        before: String,
        after: String,
    },
}

/// Every difference from `a` to `b`, in the order of the flat keys.
pub fn diff(a: &PackVersion, b: &PackVersion) -> Vec<Change> {
    let (fa, fb) = (flatten(a), flatten(b));
    let mut changes = Vec::new();
    for (k, va) in &fa {
        match fb.get(k) {
            None => changes.push(Change::Removed {
                what: k.clone(),
                value: va.clone(),
            }),
            Some(vb) if vb != va => changes.push(Change::Changed {
                what: k.clone(),
                before: va.clone(),
                after: vb.clone(),
            }),
            Some(_) => {}
        }
    }
    for (k, vb) in &fb {
        if !fa.contains_key(k) {
            changes.push(Change::Added {
                what: k.clone(),
                value: vb.clone(),
            });
        }
    }
    changes.sort_by(|x, y| key(x).cmp(key(y)));
    changes
}

fn key(c: &Change) -> &str {
    match c {
        Change::Added { what, .. }
        | Change::Removed { what, .. }
        | Change::Changed { what, .. } => what,
    }
}
