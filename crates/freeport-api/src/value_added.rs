//! `freeport value-added` input: a domestic-sale price and the bills of materials, optionally with
//! upstream stages of a cumulative chain. Schema: `docs/reference/value-added.md`.

use freeport_core::declaration::{ChainStage, DomesticPurchase};
use freeport_core::error::{FieldError, FieldErrorKind, FieldResult};
use freeport_core::hs::{HsCode, Nomenclature};
use freeport_core::money::Cny;
use serde::Deserialize;
use time::Date;

use crate::quote::{ChainStageDto, DomesticPurchaseDto, domestic, non_negative_cny};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportedMaterialDto {
    #[serde(default)]
    pub description: String,
    pub hs_code: String,
    pub origin: String,
    pub customs_value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueAddedRequest {
    /// Which pack version's rules apply (the day of the second-line declaration).
    pub declared_on: String,
    pub sale_price: String,
    pub imported: Vec<ImportedMaterialDto>,
    #[serde(default)]
    pub domestic: Vec<DomesticPurchaseDto>,
    #[serde(default)]
    pub upstream: Vec<ChainStageDto>,
}

/// An imported material with the code that prices its tariff.
#[derive(Debug, Clone)]
pub struct ImportedMaterial {
    pub description: String,
    pub hs_code: HsCode,
    pub origin: freeport_core::country::Country,
    pub customs_value: Cny,
}

#[derive(Debug, Clone)]
pub struct ValueAddedInputs {
    pub declared_on: Date,
    pub sale_price: Cny,
    pub imported: Vec<ImportedMaterial>,
    pub domestic: Vec<DomesticPurchase>,
    pub upstream: Vec<ChainStage>,
}

pub fn parse_value_added_request(json: &str) -> FieldResult<ValueAddedRequest> {
    crate::decode_json(json)
}

impl ValueAddedRequest {
    pub fn into_domain(self, nomenclature: &Nomenclature) -> FieldResult<ValueAddedInputs> {
        if self.imported.is_empty() {
            return Err(FieldError::new(
                "imported",
                FieldErrorKind::Missing,
                "goods under the value-added rule contain imported materials",
            ));
        }
        let declared_on = freeport_core::calendar::parse_day("declared_on", &self.declared_on)?;
        let imported = self
            .imported
            .iter()
            .enumerate()
            .map(|(i, m)| {
                Ok(ImportedMaterial {
                    description: m.description.clone(),
                    hs_code: HsCode::parse(
                        &format!("imported[{i}].hs_code"),
                        &m.hs_code,
                        nomenclature,
                    )?,
                    origin: freeport_core::country::Country::parse(&m.origin).map_err(|e| {
                        FieldError {
                            field: format!("imported[{i}].origin"),
                            ..e
                        }
                    })?,
                    customs_value: non_negative_cny(
                        &format!("imported[{i}].customs_value"),
                        &m.customs_value,
                    )?,
                })
            })
            .collect::<FieldResult<_>>()?;
        let upstream = self
            .upstream
            .iter()
            .enumerate()
            .map(|(s, st)| {
                let f = format!("upstream[{s}]");
                Ok(ChainStage {
                    enterprise: freeport_core::identity::CreditCode::parse(&st.enterprise)
                        .map_err(|e| FieldError {
                            field: format!("{f}.enterprise"),
                            ..e
                        })?,
                    imported: st
                        .imported
                        .iter()
                        .enumerate()
                        .map(|(k, v)| non_negative_cny(&format!("{f}.imported[{k}]"), v))
                        .collect::<FieldResult<_>>()?,
                    domestic: domestic(&format!("{f}.domestic"), &st.domestic)?,
                    sale_price: non_negative_cny(&format!("{f}.sale_price"), &st.sale_price)?,
                })
            })
            .collect::<FieldResult<_>>()?;
        Ok(ValueAddedInputs {
            declared_on,
            sale_price: non_negative_cny("sale_price", &self.sale_price)?,
            imported,
            domestic: domestic("domestic", &self.domestic)?,
            upstream,
        })
    }
}
