//! The duty-free part of a version: the `[duty_free]` table, the categories with their limits and
//! how sure the pack is of each, and the residents' zero-tariff positive list.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::PackError;
use super::csvtable::{CsvTable, Row};
use super::model::{DutyFreeCategory, DutyFreeRules, LimitStatus, ResidentGoods};
use super::parse::{RuleLookup, cny};
use crate::money::parse_decimal;
use crate::unit::Unit;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDutyFree {
    rule: String,
    quota_rule: String,
    annual_quota_cny: String,
    age_rule: String,
    minimum_age: u8,
    limits_rule: String,
    pickup_rule: String,
    buy_and_take_below_cny: String,
    guarantee_from_cny: String,
    departure_within_days: u16,
    ban_years: u8,
    ban_rule: String,
    #[serde(default)]
    resident_rule: Option<String>,
    #[serde(default)]
    resident_annual_quota_cny: Option<String>,
    #[serde(default)]
    resident_buy_and_take_rule: Option<String>,
    #[serde(default)]
    dishonesty_rule: Option<String>,
    #[serde(default)]
    dishonesty_years: Option<u8>,
}

pub(super) fn duty_free_rules(
    need: &RuleLookup<'_>,
    d: &RawDutyFree,
    categories: BTreeMap<String, DutyFreeCategory>,
    resident_goods: BTreeMap<String, ResidentGoods>,
) -> Result<DutyFreeRules, PackError> {
    let file = need.file;
    let resident_annual_quota = d
        .resident_annual_quota_cny
        .as_deref()
        .map(|q| cny(file, "duty_free.resident_annual_quota_cny", q))
        .transpose()?;
    if resident_annual_quota.is_some() != d.resident_rule.is_some() {
        return Err(PackError::new(
            file,
            "duty_free.resident_rule and resident_annual_quota_cny go together",
        ));
    }
    if resident_annual_quota.is_some() && resident_goods.is_empty() {
        return Err(PackError::new(
            file,
            "the residents' zero-tariff quota needs files.resident_zero_tariff_list",
        ));
    }
    if d.dishonesty_rule.is_some() != d.dishonesty_years.is_some() {
        return Err(PackError::new(
            file,
            "duty_free.dishonesty_rule and dishonesty_years go together",
        ));
    }
    Ok(DutyFreeRules {
        rule: need.rule(&d.rule)?,
        quota_rule: need.rule(&d.quota_rule)?,
        annual_quota: cny(file, "duty_free.annual_quota_cny", &d.annual_quota_cny)?,
        age_rule: need.rule(&d.age_rule)?,
        minimum_age: d.minimum_age,
        limits_rule: need.rule(&d.limits_rule)?,
        categories,
        pickup_rule: need.rule(&d.pickup_rule)?,
        buy_and_take_below: cny(
            file,
            "duty_free.buy_and_take_below_cny",
            &d.buy_and_take_below_cny,
        )?,
        guarantee_from: cny(file, "duty_free.guarantee_from_cny", &d.guarantee_from_cny)?,
        departure_within_days: d.departure_within_days,
        ban_years: d.ban_years,
        ban_rule: need.rule(&d.ban_rule)?,
        resident_rule: need.optional_rule(&d.resident_rule)?,
        resident_annual_quota,
        resident_goods,
        resident_buy_and_take_rule: need.optional_rule(&d.resident_buy_and_take_rule)?,
        dishonesty_rule: need.optional_rule(&d.dishonesty_rule)?,
        dishonesty_years: d.dishonesty_years,
    })
}

/// `verified` or `unverified`; empty reads as verified only where `default_verified` says so.
fn status(row: &Row<'_>, column: &str, default_verified: bool) -> Result<LimitStatus, PackError> {
    match row.get(column) {
        "verified" => Ok(LimitStatus::Verified),
        "unverified" => Ok(LimitStatus::Unverified),
        "" if default_verified => Ok(LimitStatus::Verified),
        "" => Ok(LimitStatus::Unverified),
        other => Err(row.error(format!("{column} {other:?} is not verified or unverified"))),
    }
}

fn optional_decimal(
    row: &Row<'_>,
    column: &str,
) -> Result<Option<rust_decimal::Decimal>, PackError> {
    row.opt(column)
        .map(|t| parse_decimal(column, t).map_err(|e| row.error(e.to_string())))
        .transpose()
}

pub(super) fn parse_categories(
    file: &str,
    text: &str,
) -> Result<BTreeMap<String, DutyFreeCategory>, PackError> {
    let table = CsvTable::parse(
        file,
        text,
        &[
            "id",
            "name",
            "per_departure_limit",
            "limit_unit",
            "buy_and_take",
            "articles_tax_class",
            "source",
        ],
    )?;
    let mut out = BTreeMap::new();
    for row in table.rows() {
        let id = row.require("id")?.to_owned();
        let per_departure_limit = optional_decimal(&row, "per_departure_limit")?;
        let limit_unit = row
            .opt("limit_unit")
            .map(|u| Unit::parse("limit_unit", u).map_err(|e| row.error(e.to_string())))
            .transpose()?;
        if per_departure_limit.is_some() != limit_unit.is_some() {
            return Err(row.error("per_departure_limit and limit_unit go together"));
        }
        let articles_tax_class = match row.require("articles_tax_class")? {
            "1" => 1,
            "2" => 2,
            "3" => 3,
            other => {
                return Err(row.error(format!("articles_tax_class {other:?} is not 1, 2 or 3")));
            }
        };
        let buy_and_take = row.get("buy_and_take") == "yes";
        // R4.5(5) gives 1 to 5 pieces by category, but no source read gives which: a limit
        // written here would be shown to tills and not held by the ledger, so none is taken.
        if row.opt("buy_and_take_limit").is_some() {
            return Err(row.error(
                "buy_and_take_limit is not enforced by the ledger yet: leave it empty and the category's buy_and_take_limit_status unverified",
            ));
        }
        let category = DutyFreeCategory {
            id: id.clone(),
            name: row.require("name")?.to_owned(),
            per_departure_limit,
            limit_unit,
            limit_status: status(&row, "limit_status", true)?,
            buy_and_take,
            // A listed category without a limit read in a source is not known to have none.
            buy_and_take_limit_status: status(&row, "buy_and_take_limit_status", !buy_and_take)?,
            articles_tax_class,
            source: row.require("source")?.to_owned(),
        };
        if out.insert(id.clone(), category).is_some() {
            return Err(row.error(format!("duplicate id {id}")));
        }
    }
    Ok(out)
}

pub(super) fn parse_resident_goods(
    file: &str,
    text: &str,
) -> Result<BTreeMap<String, ResidentGoods>, PackError> {
    let table = CsvTable::parse(file, text, &["id", "name", "status", "source"])?;
    let mut out = BTreeMap::new();
    for row in table.rows() {
        let id = row.require("id")?.to_owned();
        let goods = ResidentGoods {
            id: id.clone(),
            name: row.require("name")?.to_owned(),
            status: status(&row, "status", false)?,
            source: row.require("source")?.to_owned(),
        };
        if out.insert(id.clone(), goods).is_some() {
            return Err(row.error(format!("duplicate id {id}")));
        }
    }
    if out.is_empty() {
        return Err(PackError::new(file, "the positive list is empty"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "id,name,per_departure_limit,limit_unit,buy_and_take,articles_tax_class,source,limit_status,buy_and_take_limit,buy_and_take_limit_status";

    #[test]
    fn a_listed_categorys_unknown_buy_and_take_limit_is_unverified() {
        let text = format!(
            "{HEADER}\ncosmetics,Cosmetics,30,piece,yes,3,S53,,,\npets,Pet supplies,,,,2,S20,unverified,,\n"
        );
        let c = parse_categories("c.csv", &text).expect("parses");
        assert_eq!(c["cosmetics"].limit_status, LimitStatus::Verified);
        assert_eq!(
            c["cosmetics"].buy_and_take_limit_status,
            LimitStatus::Unverified
        );
        assert_eq!(c["pets"].limit_status, LimitStatus::Unverified);
        assert_eq!(
            c["pets"].buy_and_take_limit_status,
            LimitStatus::Verified,
            "not on the list"
        );
    }

    #[test]
    fn a_buy_and_take_limit_the_ledger_does_not_hold_is_refused() {
        let text = format!("{HEADER}\ncosmetics,Cosmetics,30,piece,yes,3,S53,,2,verified\n");
        let e = parse_categories("c.csv", &text).expect_err("not enforced");
        assert!(e.to_string().contains("not enforced"), "{e}");
        assert_eq!(e.line, Some(2));
    }
}
