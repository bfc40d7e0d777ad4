//! What a decision and its assessment read, all of it before deciding: the parties' standing, the
//! declarant's account book and credit, the exchange rate of the rate day, the value references of
//! the lines and the flow history of the headings a watched flow declares. In core types; a stored
//! record that does not decode fails the read (`freeport_store::domain`).

use freeport_core::calendar::customs_rate_date;
use freeport_core::credit::{
    CreditAssessment, CreditRecord, CreditRecordKind, CreditStanding, assess_credit,
};
use freeport_core::currency::Currency;
use freeport_core::declaration::{Counterparty, Declaration};
use freeport_core::snapshot::Snapshot;
use freeport_risk::selectivity::{
    DeclaredHistory, reference_keys, reference_unit_value, reference_window, spike_headings,
    wire_name,
};
use freeport_store::{Enterprise, StoreError};
use rust_decimal::Decimal;
use time::Date;

use crate::{AppError, AppResult, Platform};

/// Everything a declaration's decision and assessment need, read at once.
pub struct DeclarationInputs {
    pub snapshot: Snapshot,
    /// The declarant's credit class on the declaration day; `general` when it is not registered.
    pub credit_class: String,
    pub risk: RiskInputs,
}

/// What the assessment reads: the value reference of each line, and the flow history of each
/// heading a watched flow declares.
pub struct RiskInputs {
    pub references: Vec<Option<Decimal>>,
    pub spike_counts: Vec<(String, Vec<(Date, u64)>)>,
}

impl Platform {
    /// The inputs of a declaration's decision and lane.
    pub async fn declaration_inputs(&self, d: &Declaration) -> AppResult<DeclarationInputs> {
        let (snapshot, credit_class) = self.snapshot_for(d).await?;
        let risk = self.risk_inputs(d).await?;
        Ok(DeclarationInputs {
            snapshot,
            credit_class,
            risk,
        })
    }

    /// An enterprise's credit on `on`: the registered class and its credit records through the
    /// core's assessment (R6.1).
    pub async fn credit_assessment(&self, e: &Enterprise, on: Date) -> AppResult<CreditAssessment> {
        let records = self.store.credit_history(&e.credit_code).await?;
        self.assess_credit_with(e, &records, on).await
    }

    /// The assessment over `records` (the stored ones, or with a record about to be kept).
    pub async fn assess_credit_with(
        &self,
        e: &Enterprise,
        records: &[CreditRecord],
        on: Date,
    ) -> AppResult<CreditAssessment> {
        // The prior year's declarations are the base of the violation share, which only
        // violations can cross: without any, the count is not needed.
        let prior = if records
            .iter()
            .any(|r| matches!(r.kind, CreditRecordKind::Violation { .. }))
        {
            let n = self
                .store
                .declarations_in_year(&e.credit_code, on.year() - 1)
                .await?;
            Some(u64::try_from(n).unwrap_or(0))
        } else {
            None
        };
        let version = self
            .pack
            .version_on(on)
            .or_else(|| self.pack.versions.first())
            .ok_or_else(|| AppError::Internal("the pack has no version".into()))?;
        Ok(assess_credit(
            version,
            &CreditStanding {
                registered: freeport_store::domain::registered_class(e)?,
                records,
                prior_year_declarations: prior,
            },
            on,
        ))
    }

    /// The state a decision reads: the parties' standing, the declarant's account book, and the
    /// exchange rate of the rate day; with the declarant's credit class for the lane.
    pub async fn snapshot_for(&self, d: &Declaration) -> AppResult<(Snapshot, String)> {
        let mut declarant_class = "general".to_owned();
        let mut snapshot = Snapshot {
            enforce_balances: true,
            ..Snapshot::default()
        };
        let mut parties = vec![d.declarant];
        if let Some(Counterparty::Enterprise(c)) = &d.counterparty {
            parties.push(*c);
        }
        for code in parties {
            if let Some(e) = self.store.enterprise(code.as_str()).await? {
                if code == d.declarant {
                    declarant_class = self
                        .credit_assessment(&e, d.declared_on)
                        .await?
                        .class
                        .as_str()
                        .to_owned();
                }
                snapshot
                    .enterprises
                    .insert(code, self.store.standing(&e).await?);
            }
        }
        snapshot
            .balances
            .extend(self.store.book(d.declarant).await?);
        if d.currency != Currency::CNY
            && let Some(v) = self.pack.version_on(d.declared_on)
        {
            let day = customs_rate_date(d.declared_on, &v.holidays);
            if let Some(rate) = self
                .store
                .exchange_rate_on(d.currency.as_str(), day)
                .await?
            {
                snapshot.exchange_rates.insert(day, d.currency, rate);
            }
        }
        Ok((snapshot, declarant_class))
    }

    /// The value references and flow histories the assessment of `d` compares with.
    pub async fn risk_inputs(&self, d: &Declaration) -> AppResult<RiskInputs> {
        let settings = &self.risk.settings;
        let (from, to) = reference_window(d.declared_on, &settings.value_reference);
        let mut references = Vec::with_capacity(d.lines.len());
        for key in reference_keys(d) {
            let totals = self
                .store
                .declared_totals(&key.hs_code, &key.unit, &from.to_string(), &to.to_string())
                .await?;
            let history = DeclaredHistory {
                lines: totals.declarations,
                value_fen: totals.value_fen,
                quantity_milli: totals.quantity_milli,
            };
            references.push(reference_unit_value(history, &settings.value_reference));
        }
        let day = d.declared_on;
        let first = day - time::Duration::days(i64::from(settings.flow_spike.baseline_days));
        let flow = wire_name(d.flow);
        let mut spike_counts = Vec::new();
        for heading in spike_headings(settings, d) {
            let rows = self
                .store
                .flow_by_day(&flow, &heading, &first.to_string(), &day.to_string())
                .await?;
            let mut counts = Vec::with_capacity(rows.len());
            for (text, n) in rows {
                let on = freeport_core::calendar::parse_day("", &text).map_err(|_| {
                    StoreError::Corrupt(format!("flow statistics of {heading}: day {text:?}"))
                })?;
                counts.push((on, u64::try_from(n).unwrap_or(0)));
            }
            spike_counts.push((heading, counts));
        }
        Ok(RiskInputs {
            references,
            spike_counts,
        })
    }
}
