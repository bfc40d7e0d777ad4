//! `decide`: one declaration, the pack version in force on its date, and a snapshot, in; a
//! `Decision` out. Pure: the same inputs always give the same decision.
//!
//! Over 1 000 lines, one file on purpose: the six flows share the `Decider`'s private state (the
//! snapshot's balances already taken, the explanation arena), and reading a flow beside the shared
//! steps it calls is how its rules are checked against POLICY.md. What is not a flow lives beside
//! its rules (the port and its modes in `port`, batch exit in `batch_exit`) and only adds its
//! explanation here.

use crate::calendar::{customs_rate_date, deadline_after, waiver_lock};
use crate::country::Country;
use crate::currency::Currency;
use crate::decision::*;
use crate::declaration::*;
use crate::error::{FieldError, FieldErrorKind};
use crate::explain::{Detail, Step};
use crate::fasthash::FxHashMap;
use crate::hs::HsCode;
use crate::identity::CreditCode;
use crate::money::Cny;
use crate::pack::*;
use crate::snapshot::{BalanceKey, EnterpriseStanding, Snapshot};
use crate::tax::{Exemptions, TaxAmounts, TaxBasis, payable_and_normal};
use crate::unit::Quantity;
use crate::value_added::{CountingRules, chain_rate};

static UNKNOWN_ENTERPRISE: EnterpriseStanding = EnterpriseStanding {
    beneficiary: false,
    encouraged_industry_filed: false,
    encouraged_revenue_share: None,
    waiver_locks: Vec::new(),
};

/// Decides a declaration under the pack version in force on its declaration date.
///
/// Returns `Err` only for input the pack cannot judge (a tariff line it does not carry, a missing
/// exchange rate or quantity): a refusal on the merits is an `Ok` decision with reasons.
pub fn decide<'p>(
    declaration: &Declaration,
    pack: &'p PolicyPack,
    snapshot: &Snapshot,
) -> Result<Decision<'p>, FieldError> {
    let version = pack.version_on(declaration.declared_on).ok_or_else(|| {
        FieldError::new(
            "declared_on",
            FieldErrorKind::OutOfRange,
            format!(
                "{} is before the first version of the {} pack",
                declaration.declared_on, pack.zone
            ),
        )
    })?;
    decide_under(declaration, version, snapshot)
}

/// Decides under a given version: for what-if replays of history under a proposed pack.
pub fn decide_under<'p>(
    declaration: &Declaration,
    version: &'p PackVersion,
    snapshot: &Snapshot,
) -> Result<Decision<'p>, FieldError> {
    let mut d = Decider::new(declaration, version, snapshot)?;
    if let Some(t) = &declaration.transport {
        let steps =
            crate::port::crossing_steps(version, declaration.flow, t, &snapshot.port_modes)?;
        d.explanation.extend(steps);
    }
    if declaration.batch_exit {
        d.explanation
            .push(crate::batch_exit::shipment_step(version, declaration.flow)?);
    }
    for (i, line) in declaration.lines.iter().enumerate() {
        let decided = match declaration.flow {
            Flow::FirstLineImport => d.first_line_import(i, line)?,
            Flow::FirstLineExport => d.first_line_export(i, line)?,
            Flow::SecondLineExit => d.second_line_exit(i, line)?,
            Flow::SecondLineEntry => d.second_line_entry(i, line)?,
            Flow::IslandTransfer => d.island_transfer(i, line)?,
            Flow::Processing => d.processing(i, line)?,
        };
        d.lines.push(decided);
    }
    Ok(d.finish())
}

struct Decider<'p, 'd> {
    v: &'p PackVersion,
    decl: &'d Declaration,
    snapshot: &'d Snapshot,
    declarant: &'d EnterpriseStanding,
    cny_per_unit: rust_decimal::Decimal,
    rate_date: Option<time::Date>,
    reasons: Vec<Reason<'p>>,
    lines: Vec<LineDecision>,
    /// Every line's explanation steps, one after the other; a line holds its range.
    steps: Vec<Step<'p>>,
    /// A reused buffer for the line being decided, so lines do not each allocate.
    scratch: Vec<Step<'p>>,
    postings: Vec<Posting>,
    /// What the lines decided so far take out of each account-book balance (R3.3); kept only when
    /// the snapshot enforces balances.
    outflows: FxHashMap<BalanceKey, rust_decimal::Decimal>,
    effects: Vec<Effect<'p>>,
    explanation: Vec<Step<'p>>,
}

/// Refuses a declaration whose lines, converted to CNY, pass the documented ceilings
/// (`limits::LINE_CUSTOMS_VALUE_YUAN`, `limits::DECLARATION_CUSTOMS_VALUE_YUAN`): such values are
/// input errors, never amounts to saturate.
fn within_customs_value_ceilings(
    decl: &Declaration,
    cny_per_unit: rust_decimal::Decimal,
) -> Result<(), FieldError> {
    use crate::limits::{DECLARATION_CUSTOMS_VALUE_YUAN, LINE_CUSTOMS_VALUE_YUAN};
    let mut total = rust_decimal::Decimal::ZERO;
    for (i, line) in decl.lines.iter().enumerate() {
        let yuan = line
            .value
            .checked_mul(cny_per_unit)
            .filter(|v| *v <= rust_decimal::Decimal::from(LINE_CUSTOMS_VALUE_YUAN))
            .ok_or_else(|| {
                FieldError::new(
                    line_field(i, "value"),
                    FieldErrorKind::OutOfRange,
                    format!(
                        "{} {} is more than {LINE_CUSTOMS_VALUE_YUAN} yuan, the ceiling of one line's customs value",
                        line.value, decl.currency
                    ),
                )
            })?;
        total += yuan;
    }
    if total > rust_decimal::Decimal::from(DECLARATION_CUSTOMS_VALUE_YUAN) {
        return Err(FieldError::new(
            "lines",
            FieldErrorKind::OutOfRange,
            format!(
                "the lines' customs values add up to {total} yuan, more than {DECLARATION_CUSTOMS_VALUE_YUAN}, the ceiling of one declaration"
            ),
        ));
    }
    Ok(())
}

fn line_field(i: usize, field: &str) -> String {
    format!("lines[{i}].{field}")
}

impl<'p, 'd> Decider<'p, 'd> {
    fn new(
        decl: &'d Declaration,
        v: &'p PackVersion,
        snapshot: &'d Snapshot,
    ) -> Result<Self, FieldError> {
        let mut explanation = Vec::new();
        let (cny_per_unit, rate_date) = if decl.currency == Currency::CNY {
            (rust_decimal::Decimal::ONE, None)
        } else {
            let day = customs_rate_date(decl.declared_on, &v.holidays);
            let rate = snapshot.exchange_rates.get(day, decl.currency).ok_or_else(|| {
                FieldError::new(
                    "currency",
                    FieldErrorKind::Unknown,
                    format!("no exchange rate for {} set on {day}, the rate day for a declaration of {} (R8.5)", decl.currency, decl.declared_on),
                )
            })?;
            explanation.push(Step {
                rule: v.rule(&v.tax.exchange_rate_rule),
                detail: Detail::ExchangeRate {
                    currency: decl.currency,
                    rate_date: day,
                    cny_per_unit: rate,
                },
            });
            (rate, Some(day))
        };
        within_customs_value_ceilings(decl, cny_per_unit)?;
        Ok(Decider {
            v,
            decl,
            snapshot,
            declarant: snapshot
                .standing(&decl.declarant)
                .unwrap_or(&UNKNOWN_ENTERPRISE),
            cny_per_unit,
            rate_date,
            reasons: Vec::new(),
            lines: Vec::with_capacity(decl.lines.len()),
            steps: Vec::with_capacity(decl.lines.len() * 5),
            scratch: Vec::with_capacity(8),
            postings: Vec::with_capacity(decl.lines.len()),
            outflows: FxHashMap::default(),
            effects: Vec::new(),
            explanation,
        })
    }

    fn scratch(&mut self) -> Vec<Step<'p>> {
        let mut steps = std::mem::take(&mut self.scratch);
        steps.clear();
        steps
    }

    /// Moves a line's steps into the decision's arena and returns their range.
    fn keep(&mut self, mut steps: Vec<Step<'p>>) -> StepRange {
        let start = self.steps.len();
        self.steps.append(&mut steps);
        self.scratch = steps;
        StepRange::new(start, self.steps.len())
    }

    fn step(&self, rule: &RuleId, detail: Detail<'p>) -> Step<'p> {
        Step {
            rule: self.v.rule(rule),
            detail,
        }
    }

    fn customs_value(&self, line: &Line, steps: &mut Vec<Step<'p>>) -> Cny {
        if self.rate_date.is_none() {
            // Declared in CNY: no conversion, only the R8.4 rounding.
            return Cny::round_fen(line.value);
        }
        let cv = Cny::round_fen(line.value * self.cny_per_unit);
        {
            steps.push(self.step(
                &self.v.tax.rounding_rule,
                Detail::CustomsValue {
                    value: line.value,
                    currency: self.decl.currency,
                    exchange_rate: self.cny_per_unit,
                    rate_date: self.rate_date,
                    customs_value: cv,
                },
            ));
        }
        cv
    }

    fn tariff_line(
        &self,
        code: &HsCode,
        field: impl FnOnce() -> String,
    ) -> Result<&'p TariffLine, FieldError> {
        tariff_line(self.v, code, field)
    }

    /// The basis for taxing goods of `code` worth `customs_value`.
    fn basis<'q>(
        &self,
        code: &HsCode,
        origin: Country,
        customs_value: Cny,
        quantities: &'q [Quantity],
        ct_choice: Option<&str>,
        field: &dyn Fn(&str) -> String,
    ) -> Result<TaxBasis<'p, 'q>, FieldError> {
        tax_basis(
            self.v,
            code,
            origin,
            customs_value,
            quantities,
            ct_choice,
            field,
        )
    }

    /// Everything the pack's lists say about goods of `code` from `origin`, in one prefix scan.
    fn hits(&self, code: &HsCode, origin: Country) -> Hits<'p> {
        let mut h = Hits::default();
        for hit in self.v.goods_index.matches(code) {
            match hit {
                GoodsHit::Control(c) => {
                    for d in &c.directions {
                        let slot = match (d, c.measure) {
                            (Direction::Import, ControlMeasure::Prohibited) => {
                                &mut h.prohibited_import
                            }
                            (Direction::Import, ControlMeasure::Restricted) => {
                                &mut h.restricted_import
                            }
                            (Direction::Export, ControlMeasure::Prohibited) => {
                                &mut h.prohibited_export
                            }
                            (Direction::Export, ControlMeasure::Restricted) => {
                                &mut h.restricted_export
                            }
                        };
                        *slot = slot.or(Some(c));
                    }
                }
                GoodsHit::Restrictive(r) if r.origin.is_none_or(|o| o == origin) => {
                    h.restrictive = h.restrictive.or(Some(r))
                }
                GoodsHit::Restrictive(_) => {}
                GoodsHit::PositiveList(list) => h.positive_list = h.positive_list.or(Some(list)),
                GoodsHit::TaxableCatalogue(d) => {
                    h.taxable_catalogue = h.taxable_catalogue.or(Some(d))
                }
            }
        }
        h
    }

    fn refuse(
        &mut self,
        i: usize,
        line: &Line,
        code: ReasonCode,
        explanation: Step<'p>,
    ) -> LineDecision {
        self.reasons.push(Reason {
            code,
            line: Some(i),
            explanation,
        });
        LineDecision::untaxed(
            i,
            line.hs_code,
            Treatment::Refused,
            Cny::round_fen(line.value * self.cny_per_unit),
        )
    }

    fn first_quantity(line: &Line, i: usize) -> Result<Quantity, FieldError> {
        line.quantities.first().copied().ok_or_else(|| {
            FieldError::new(
                line_field(i, "quantities"),
                FieldErrorKind::Missing,
                "at least one quantity is required",
            )
        })
    }

    /// Posts line `i`'s goods: its code and first quantity.
    fn post(
        &mut self,
        enterprise: &CreditCode,
        movement: Movement,
        i: usize,
        line: &Line,
        value: Cny,
        restrictive: Option<RestrictiveCategory>,
    ) -> Result<(), FieldError> {
        let quantity = Self::first_quantity(line, i)?;
        self.post_goods(
            enterprise,
            movement,
            i,
            line.hs_code,
            quantity,
            value,
            restrictive,
        );
        Ok(())
    }

    /// Posts goods of `hs_code` named explicitly (a processing line's materials have their own
    /// codes). `quantity` is the amount moved; its sign follows the movement's direction.
    #[allow(clippy::too_many_arguments)]
    fn post_goods(
        &mut self,
        enterprise: &CreditCode,
        movement: Movement,
        i: usize,
        hs_code: HsCode,
        mut quantity: Quantity,
        value: Cny,
        restrictive: Option<RestrictiveCategory>,
    ) {
        quantity.value = quantity.value.abs();
        if !movement.is_inflow() {
            quantity.value = -quantity.value;
        }
        self.postings.push(Posting {
            enterprise: *enterprise,
            movement,
            line: i,
            hs_code,
            quantity,
            value,
            restrictive_category: restrictive,
        });
    }

    /// R3.3: whether the declarant's account book holds what a line takes out of it, each entry of
    /// `takes` being goods and the quantity out, counted together with what earlier lines of the
    /// declaration took from the same balance. On success the outflows are recorded and explained
    /// in `steps`; otherwise nothing is recorded and the refusal's step is returned. Always passes
    /// when the snapshot does not enforce balances.
    fn book_check(
        &mut self,
        takes: &[(HsCode, Quantity)],
        steps: &mut Vec<Step<'p>>,
    ) -> Option<Step<'p>> {
        if !self.snapshot.enforce_balances {
            return None;
        }
        let rule = self.v.account_book.rule;
        let enterprise = self.decl.declarant;
        let mut passed = Vec::with_capacity(takes.len());
        for (k, &(hs_code, quantity)) in takes.iter().enumerate() {
            let key = BalanceKey {
                enterprise,
                hs_code,
                unit: quantity.unit,
            };
            let taken = quantity.value.abs();
            // Earlier lines, then earlier entries of this line on the same balance.
            let earlier = self.outflows.get(&key).copied().unwrap_or_default()
                + takes[..k]
                    .iter()
                    .filter(|(c, q)| *c == hs_code && q.unit == quantity.unit)
                    .map(|(_, q)| q.value.abs())
                    .sum::<rust_decimal::Decimal>();
            let balance = self.snapshot.balance(enterprise, hs_code, quantity.unit);
            let detail = Detail::AccountBook {
                hs_code,
                unit: quantity.unit,
                balance,
                earlier,
                taken,
            };
            if earlier + taken > balance {
                return Some(self.step(&rule, detail));
            }
            passed.push((key, taken, detail));
        }
        for (key, taken, detail) in passed {
            *self.outflows.entry(key).or_default() += taken;
            steps.push(self.step(&rule, detail));
        }
        None
    }

    /// Refuses line `i` because the account book does not hold its goods (R3.3), handing the
    /// line's step buffer back.
    fn refuse_book(
        &mut self,
        steps: Vec<Step<'p>>,
        i: usize,
        line: &Line,
        explanation: Step<'p>,
    ) -> LineDecision {
        self.scratch = steps;
        self.refuse(i, line, ReasonCode::AccountBookInsufficient, explanation)
    }

    fn first_line_import(&mut self, i: usize, line: &Line) -> Result<LineDecision, FieldError> {
        let v = self.v;
        let code = &line.hs_code;
        let hits = self.hits(code, line.origin);
        if let Some(c) = hits.prohibited_import {
            let step = self.step(
                &v.zero_tariff.scope_rule,
                Detail::ListEntry {
                    finding: "import prohibited",
                    entry: &c.description,
                },
            );
            return Ok(self.refuse(i, line, ReasonCode::ProhibitedImport, step));
        }
        let mut steps = self.scratch();
        if let Some(step) = self.import_licence_refusal(line, &hits, &mut steps) {
            return Ok(self.refuse(i, line, ReasonCode::LicenceRequired, step));
        }
        let cv = self.customs_value(line, &mut steps);
        let field = |f: &str| line_field(i, f);
        let basis = self.basis(
            code,
            line.origin,
            cv,
            &line.quantities,
            line.consumption_tax_item.as_deref(),
            &field,
        )?;
        let restrictive = hits.restrictive;
        let (treatment, exemptions) = self.zero_tariff_treatment(code, &hits, &mut steps);
        if let Some(r) = restrictive {
            steps.push(self.step(
                &v.island.restrictive_rule,
                Detail::ListEntry {
                    finding: "restrictive category: import taxes fall due when the goods circulate",
                    entry: &r.description,
                },
            ));
        }
        let (taxes, normal) =
            payable_and_normal(v, &basis, exemptions, &mut steps).map_err(|e| {
                FieldError::new(field("quantities"), FieldErrorKind::Missing, e.to_string())
            })?;
        if matches!(
            treatment,
            Treatment::ZeroTariff | Treatment::TariffExemptVatPaid
        ) {
            self.enter_duty_exempt_goods(i, line, cv, restrictive.map(|r| r.category))?;
        }
        Ok(LineDecision {
            line: i,
            hs_code: line.hs_code,
            treatment,
            customs_value: cv,
            restrictive_category: restrictive.map(|r| r.category),
            taxes,
            export_duty: Cny::ZERO,
            exempted: normal.minus(&taxes),
            value_added: None,
            explanation: self.keep(steps),
        })
    }

    /// A restricted import needs its licence, unless a beneficiary declares it under the exception
    /// measures that relax the licence (explained in `steps`). Returns the refusal's step when the
    /// licence is missing.
    fn import_licence_refusal(
        &self,
        line: &Line,
        hits: &Hits<'p>,
        steps: &mut Vec<Step<'p>>,
    ) -> Option<Step<'p>> {
        let v = self.v;
        let c = hits.restricted_import?;
        if c.relaxed_under_exception && line.exception_measure && self.declarant.beneficiary {
            steps.push(self.step(&v.second_line.relaxed_licence_rule, Detail::ListEntry { finding: "licence waived under the exception measures; end use in Hainan only, no circulation", entry: &c.licence }));
            None
        } else if line.licence.is_none() {
            Some(self.step(
                &v.zero_tariff.scope_rule,
                Detail::ListEntry {
                    finding: "restricted import: licence required",
                    entry: &c.licence,
                },
            ))
        } else {
            None
        }
    }

    /// Whether a first-line import goes in at zero tariff: only a beneficiary's goods within the
    /// zero-tariff scope, not under a waiver lock, and as the declarant's payment option chooses.
    fn zero_tariff_treatment(
        &mut self,
        code: &HsCode,
        hits: &Hits<'p>,
        steps: &mut Vec<Step<'p>>,
    ) -> (Treatment, Exemptions) {
        let z = &self.v.zero_tariff;
        if !self.declarant.beneficiary {
            steps.push(self.step(&z.rule, Detail::Finding("declarant is not a zero-tariff beneficiary entity: import taxes at the normal rates")));
            return (Treatment::Taxed, Exemptions::NONE);
        }
        match scope_verdict(&z.scope, hits) {
            ScopeVerdict::OutOfScope(entry) => {
                steps.push(match entry {
                    Some(description) => self.step(
                        &z.scope_rule,
                        Detail::ListEntry {
                            finding: "in the import-taxed catalogue",
                            entry: description,
                        },
                    ),
                    None => self.step(
                        &z.scope_rule,
                        Detail::Finding("not on any zero-tariff list in force"),
                    ),
                });
                (Treatment::Taxed, Exemptions::NONE)
            }
            ScopeVerdict::InScope(_) if self.under_waiver_lock(code) => {
                steps.push(self.step(&z.waiver_rule, Detail::Finding("zero tariff for this kind of goods was waived by full payment within the lock period")));
                (Treatment::Taxed, Exemptions::NONE)
            }
            ScopeVerdict::InScope(list) => self.payment_option_treatment(code, list, steps),
        }
    }

    /// Whether the declarant waived zero tariff for this kind of goods by paying in full within a
    /// lock period still running on the declaration date.
    fn under_waiver_lock(&self, code: &HsCode) -> bool {
        self.declarant
            .waiver_locks
            .iter()
            .any(|l| code.starts_with(&l.kind_prefix) && l.range.contains(self.decl.declared_on))
    }

    /// In-scope goods of a beneficiary: the payment option chooses zero tariff, tariff-only
    /// exemption, or paying everything (which locks the same kind of goods out of zero tariff).
    fn payment_option_treatment(
        &mut self,
        code: &HsCode,
        list: Option<&'p str>,
        steps: &mut Vec<Step<'p>>,
    ) -> (Treatment, Exemptions) {
        let z = &self.v.zero_tariff;
        match self.decl.payment_option {
            PaymentOption::ZeroTariff => {
                steps.push(match list {
                    Some(list) => self.step(&z.rule, Detail::ListEntry { finding: "zero tariff: beneficiary entity, goods on the positive list", entry: list }),
                    None => self.step(&z.rule, Detail::Finding("zero tariff: beneficiary entity, goods outside the import-taxed catalogue")),
                });
                (Treatment::ZeroTariff, Exemptions::ALL)
            }
            PaymentOption::PayVatAndConsumptionTax => {
                steps.push(self.step(
                    &z.waiver_rule,
                    Detail::Finding(
                        "beneficiary chose to pay import VAT and consumption tax; tariff exempt",
                    ),
                ));
                (Treatment::TariffExemptVatPaid, Exemptions::TARIFF_ONLY)
            }
            PaymentOption::PayAllTaxes => {
                let digits = z.waiver_same_kind_digits.min(code.as_str().len());
                let range = waiver_lock(self.decl.declared_on, z.waiver_lock_months);
                let explanation = self.step(&z.waiver_rule, Detail::Finding("all import taxes paid by choice: zero tariff for the same kind of goods is waived for the lock period"));
                self.effects.push(Effect::WaiverLock {
                    enterprise: self.decl.declarant,
                    kind_prefix: code.as_str()[..digits].to_owned(),
                    range,
                    explanation,
                });
                (Treatment::Taxed, Exemptions::NONE)
            }
        }
    }

    /// Duty-exempt goods entering on the first line go into the declarant's account book, come
    /// under supervision where the pack sets a period for them, and, when directly released, must
    /// be entered in the book by a deadline.
    fn enter_duty_exempt_goods(
        &mut self,
        i: usize,
        line: &Line,
        cv: Cny,
        restrictive: Option<RestrictiveCategory>,
    ) -> Result<(), FieldError> {
        let declarant = self.decl.declarant;
        self.post(
            &declarant,
            Movement::FirstLineEntry,
            i,
            line,
            cv,
            restrictive,
        )?;
        self.supervise_from_entry(declarant, i, line);
        if self.decl.direct_release
            && !self
                .effects
                .iter()
                .any(|e| matches!(e, Effect::LedgerEntryDue { .. }))
        {
            let v = self.v;
            let by = deadline_after(self.decl.declared_on, v.direct_release.ledger_entry_days);
            let explanation = self.step(
                &v.direct_release.rule,
                Detail::Finding(
                    "directly released goods: enter them in the account book before any use",
                ),
            );
            self.effects.push(Effect::LedgerEntryDue {
                enterprise: declarant,
                by,
                explanation,
            });
        }
        Ok(())
    }

    fn supervise_from_entry(&mut self, declarant: CreditCode, i: usize, line: &Line) {
        let v = self.v;
        let Some(period) = v.supervision.period_for(&line.hs_code) else {
            return;
        };
        let explanation = self.step(
            &v.supervision.rule,
            Detail::Finding(
                "duty-exempt goods under supervision from entry: disposing of them early pays back taxes",
            ),
        );
        self.effects.push(Effect::Supervised {
            enterprise: declarant,
            line: i,
            kind: &period.kind,
            years: period.years,
            from: self.decl.declared_on,
            until: crate::supervision::supervision_ends(self.decl.declared_on, period.years),
            explanation,
        });
    }

    fn first_line_export(&mut self, i: usize, line: &Line) -> Result<LineDecision, FieldError> {
        let v = self.v;
        let code = &line.hs_code;
        let hits = self.hits(code, line.origin);
        if let Some(c) = hits.prohibited_export {
            let step = self.step(
                &v.tax.export_duty_rule,
                Detail::ListEntry {
                    finding: "export prohibited",
                    entry: &c.description,
                },
            );
            return Ok(self.refuse(i, line, ReasonCode::ProhibitedExport, step));
        }
        if let Some(c) = hits.restricted_export
            && line.licence.is_none()
        {
            let step = self.step(
                &v.tax.export_duty_rule,
                Detail::ListEntry {
                    finding: "restricted export: licence required",
                    entry: &c.licence,
                },
            );
            return Ok(self.refuse(i, line, ReasonCode::LicenceRequired, step));
        }
        let mut steps = self.scratch();
        let cv = self.customs_value(line, &mut steps);
        let tl = self.tariff_line(code, || line_field(i, "hs_code"))?;
        let export_duty = match tl.export_duty_rate {
            Some(rate) => {
                let amount = Cny::round_fen(cv.amount() * rate.fraction());
                steps.push(self.step(
                    &v.tax.export_duty_rule,
                    Detail::ExportDuty {
                        customs_value: cv,
                        rate,
                        amount,
                    },
                ));
                amount
            }
            None => {
                steps.push(self.step(
                    &v.tax.export_duty_rule,
                    Detail::Finding("no export duty on this tariff line"),
                ));
                Cny::ZERO
            }
        };
        if line.goods_status == GoodsStatus::ZeroTariff {
            let out = Self::first_quantity(line, i)?;
            if let Some(step) = self.book_check(&[(line.hs_code, out)], &mut steps) {
                return Ok(self.refuse_book(steps, i, line, step));
            }
            let declarant = self.decl.declarant;
            self.post(&declarant, Movement::FirstLineExit, i, line, cv, None)?;
        }
        Ok(LineDecision {
            export_duty,
            explanation: self.keep(steps),
            ..LineDecision::untaxed(i, line.hs_code, Treatment::Exported, cv)
        })
    }

    /// Import taxes on a line's imported content (R2.3): its listed materials, or the goods
    /// themselves when they are imported goods unprocessed.
    fn tax_imported_content(
        &self,
        i: usize,
        line: &Line,
        cv: Cny,
        exemptions: Exemptions,
        steps: &mut Vec<Step<'p>>,
    ) -> Result<(TaxAmounts, TaxAmounts), FieldError> {
        let v = self.v;
        let mut taxes = TaxAmounts::default();
        let mut normal = TaxAmounts::default();
        if line.imported_materials.is_empty() {
            let field = |f: &str| line_field(i, f);
            let basis = self.basis(
                &line.hs_code,
                line.origin,
                cv,
                &line.quantities,
                line.consumption_tax_item.as_deref(),
                &field,
            )?;
            let (t, n) = payable_and_normal(v, &basis, exemptions, steps).map_err(|e| {
                FieldError::new(field("quantities"), FieldErrorKind::Missing, e.to_string())
            })?;
            taxes.add(&t);
            normal.add(&n);
        }
        for (m, material) in line.imported_materials.iter().enumerate() {
            let field = |f: &str| line_field(i, &format!("imported_materials[{m}].{f}"));
            let basis = self.basis(
                &material.hs_code,
                material.origin,
                material.customs_value,
                &material.quantities,
                material.consumption_tax_item.as_deref(),
                &field,
            )?;
            let (t, n) = payable_and_normal(v, &basis, exemptions, steps).map_err(|e| {
                FieldError::new(field("quantities"), FieldErrorKind::Missing, e.to_string())
            })?;
            taxes.add(&t);
            normal.add(&n);
        }
        Ok((taxes, normal))
    }

    fn second_line_exit(&mut self, i: usize, line: &Line) -> Result<LineDecision, FieldError> {
        let v = self.v;
        let s = &v.second_line;
        let mut steps = self.scratch();
        let cv = self.customs_value(line, &mut steps);
        let mut decided = LineDecision::untaxed(i, line.hs_code, Treatment::NotControlled, cv);
        match line.goods_status {
            GoodsStatus::Domestic | GoodsStatus::DutyPaid => {
                steps.push(self.step(&s.controlled_rule, Detail::Finding("not zero-tariff, relaxed-licence or value-added goods: no second-line declaration; non-customs channel")));
            }
            GoodsStatus::RelaxedLicence => {
                let step = self.step(&s.relaxed_licence_rule, Detail::Finding("goods admitted under the exception measures may not be sold to the mainland"));
                return Ok(self.refuse(i, line, ReasonCode::MainlandSaleNotAllowed, step));
            }
            GoodsStatus::ZeroTariff | GoodsStatus::Bonded => {
                let mut exemptions = Exemptions::NONE;
                decided.treatment = Treatment::TaxedOnImportedMaterials;
                if let Some(claim) = &line.value_added
                    && let Some(result) = self.value_added(i, line, claim, &mut steps)?
                {
                    if result.1 {
                        exemptions = Exemptions::TARIFF_ONLY;
                        decided.treatment = Treatment::ValueAddedTariffExempt;
                    }
                    decided.value_added = Some(result.0);
                }
                if s.domestic_vat_offsets_import_vat && self.decl.domestic_vat_paid {
                    exemptions.vat = true;
                    steps.push(self.step(
                        &s.exit_tax_rule,
                        Detail::Finding(
                            "domestic VAT already paid in the zone: import VAT not charged again",
                        ),
                    ));
                }
                if decided.treatment == Treatment::TaxedOnImportedMaterials {
                    steps.push(self.step(&s.exit_tax_rule, Detail::Finding("zero-tariff or bonded goods entering the mainland: import taxes on the imported materials")));
                }
                let finished_goods_base = decided.treatment == Treatment::ValueAddedTariffExempt
                    && v.value_added.tax_base == ValueAddedTaxBase::FinishedGoods;
                let (taxes, normal) = if finished_goods_base {
                    let as_goods = Line {
                        imported_materials: Vec::new(),
                        ..line.clone()
                    };
                    self.tax_imported_content(i, &as_goods, cv, exemptions, &mut steps)?
                } else {
                    self.tax_imported_content(i, line, cv, exemptions, &mut steps)?
                };
                decided.taxes = taxes;
                decided.exempted = normal.minus(&taxes);
                if line.goods_status == GoodsStatus::ZeroTariff {
                    let out = Self::first_quantity(line, i)?;
                    if let Some(step) = self.book_check(&[(line.hs_code, out)], &mut steps) {
                        return Ok(self.refuse_book(steps, i, line, step));
                    }
                    let declarant = self.decl.declarant;
                    self.post(&declarant, Movement::SecondLineExit, i, line, cv, None)?;
                }
            }
        }
        decided.explanation = self.keep(steps);
        Ok(decided)
    }

    /// R2.6–R2.9: whether the claim qualifies; `None` when the declarant may not claim at all.
    fn value_added(
        &self,
        i: usize,
        line: &Line,
        claim: &ValueAddedClaim,
        steps: &mut Vec<Step<'p>>,
    ) -> Result<Option<(crate::value_added::ChainResult, bool)>, FieldError> {
        let va = &self.v.value_added;
        if !self.may_claim_value_added(steps) {
            return Ok(None);
        }
        if line.imported_materials.is_empty() {
            return Err(FieldError::new(
                line_field(i, "imported_materials"),
                FieldErrorKind::Missing,
                "a value-added claim lists the imported materials used",
            ));
        }
        let imported: Vec<Cny> = line
            .imported_materials
            .iter()
            .map(|m| m.customs_value)
            .collect();
        let rules = CountingRules {
            threshold: va.threshold,
            deduct_hainan_produced: va.hainan_produced_rule.is_some(),
        };
        let result = chain_rate(
            &claim.upstream,
            claim.sale_price,
            &imported,
            &claim.domestic,
            rules,
        );
        let accumulate = va.chain_rule.is_some() && !claim.upstream.is_empty();
        let decisive = if accumulate {
            &result.chain
        } else {
            result
                .stages
                .last()
                .expect("the declarant's own stage is always present")
        };
        let rate = decisive.rate.unwrap_or_default();
        let rule = if accumulate {
            va.chain_rule.as_ref().unwrap_or(&va.formula_rule)
        } else {
            &va.formula_rule
        };
        steps.push(self.step(
            rule,
            Detail::ValueAdded {
                rate,
                threshold: va.threshold,
                qualifies: decisive.qualifies,
            },
        ));
        if va.hainan_produced_rule.is_some() && claim.domestic.iter().any(|p| p.hainan_produced) {
            steps.push(self.step(
                va.hainan_produced_rule.as_ref().unwrap_or(&va.rule),
                Detail::Finding(
                    "certified Hainan-produced purchases deducted from domestic materials",
                ),
            ));
        }
        if decisive.qualifies {
            steps.push(self.step(&va.rule, Detail::Finding("value added reaches the threshold: tariff exempt; import VAT and consumption tax due")));
        }
        let qualifies = decisive.qualifies;
        Ok(Some((result, qualifies)))
    }

    /// Only a filed encouraged-industry enterprise may claim, and where the pilot sets a minimum
    /// share of encouraged-industry revenue, only one above it; a refusal is explained in `steps`.
    fn may_claim_value_added(&self, steps: &mut Vec<Step<'p>>) -> bool {
        let va = &self.v.value_added;
        if !self.declarant.encouraged_industry_filed {
            steps.push(self.step(&va.rule, Detail::Finding("declarant is not a filed encouraged-industry enterprise: no value-added exemption")));
            return false;
        }
        if let Some(min) = va.encouraged_revenue_share_min
            && self
                .declarant
                .encouraged_revenue_share
                .is_none_or(|s| s <= min)
        {
            steps.push(self.step(
                &va.rule,
                Detail::Finding(
                    "encouraged-industry revenue does not exceed the pilot's minimum share",
                ),
            ));
            return false;
        }
        true
    }

    fn second_line_entry(&mut self, i: usize, line: &Line) -> Result<LineDecision, FieldError> {
        let s = &self.v.second_line;
        let mut steps = self.scratch();
        let cv = self.customs_value(line, &mut steps);
        let treatment = match self.decl.entry_purpose {
            EntryPurpose::DomesticCirculation => {
                steps.push(self.step(
                    &s.entry_rule,
                    Detail::Finding(
                        "goods from the mainland circulate domestically: no import formalities",
                    ),
                ));
                Treatment::NotControlled
            }
            EntryPurpose::SpecialSupervisionArea => {
                steps.push(self.step(&s.entry_rule, Detail::Finding("declared as exported into a special customs supervision area: bonded supervision")));
                Treatment::Bonded
            }
            EntryPurpose::DutyFreeStock => {
                steps.push(self.step(&s.entry_rule, Detail::Finding("domestic goods for offshore duty-free sale: deemed exported, VAT and CT refunded or exempt")));
                Treatment::DeemedExported
            }
        };
        Ok(LineDecision {
            explanation: self.keep(steps),
            ..LineDecision::untaxed(i, line.hs_code, treatment, cv)
        })
    }

    fn island_transfer(&mut self, i: usize, line: &Line) -> Result<LineDecision, FieldError> {
        let v = self.v;
        let isl = &v.island;
        let Some(counterparty) = self.decl.counterparty.clone() else {
            let step = self.step(
                &isl.free_circulation_rule,
                Detail::Finding("a transfer names the receiving party"),
            );
            return Ok(self.refuse(i, line, ReasonCode::CounterpartyRequired, step));
        };
        let mut steps = self.scratch();
        let cv = self.customs_value(line, &mut steps);
        let mut decided = LineDecision::untaxed(i, line.hs_code, Treatment::NotControlled, cv);
        match line.goods_status {
            GoodsStatus::RelaxedLicence => {
                let step = self.step(&isl.leaving_circle_rule, Detail::Finding("goods admitted under the exception measures may not circulate inside the island"));
                return Ok(self.refuse(i, line, ReasonCode::CirculationNotAllowed, step));
            }
            GoodsStatus::Domestic | GoodsStatus::DutyPaid => {
                steps.push(self.step(
                    &isl.free_circulation_rule,
                    Detail::Finding("goods outside the zero-tariff circle circulate freely"),
                ));
            }
            GoodsStatus::Bonded => {
                steps.push(self.step(
                    &isl.free_circulation_rule,
                    Detail::Finding("bonded goods stay under bonded supervision"),
                ));
                decided.treatment = Treatment::Bonded;
            }
            GoodsStatus::ZeroTariff => {
                if let Some(step) = self.transfer_zero_tariff_goods(
                    i,
                    line,
                    cv,
                    &counterparty,
                    &mut decided,
                    &mut steps,
                )? {
                    return Ok(self.refuse_book(steps, i, line, step));
                }
            }
        }
        decided.explanation = self.keep(steps);
        Ok(decided)
    }

    /// Zero-tariff goods pass freely only between beneficiary entities, where the pack allows it;
    /// restrictive goods, and goods going to anyone else, leave the zero-tariff circle and pay the
    /// import taxes. Returns the refusal's step when the account book does not hold the goods.
    fn transfer_zero_tariff_goods(
        &mut self,
        i: usize,
        line: &Line,
        cv: Cny,
        counterparty: &Counterparty,
        decided: &mut LineDecision,
        steps: &mut Vec<Step<'p>>,
    ) -> Result<Option<Step<'p>>, FieldError> {
        let isl = &self.v.island;
        let restrictive = self.restrictive_in_transfer(line);
        let recipient = match counterparty {
            Counterparty::Enterprise(c) => Some(c),
            Counterparty::Individual => None,
        };
        let recipient_beneficiary = recipient
            .and_then(|c| self.snapshot.standing(c))
            .is_some_and(|s| s.beneficiary);
        if let Some(r) = restrictive {
            steps.push(self.step(
                &isl.restrictive_rule,
                Detail::ListEntry {
                    finding: "restrictive category: import taxes due on any circulation",
                    entry: &r.description,
                },
            ));
            decided.restrictive_category = Some(r.category);
        } else if recipient_beneficiary && isl.free_transfer_between_beneficiaries {
            steps.push(self.step(
                &isl.free_circulation_rule,
                Detail::Finding("between beneficiary entities: no import taxes"),
            ));
            decided.treatment = Treatment::FreeCirculation;
            let out = Self::first_quantity(line, i)?;
            if let Some(step) = self.book_check(&[(line.hs_code, out)], steps) {
                return Ok(Some(step));
            }
            let declarant = self.decl.declarant;
            self.post(&declarant, Movement::TransferOut, i, line, cv, None)?;
            if let Some(to) = recipient {
                self.post(to, Movement::TransferIn, i, line, cv, None)?;
            }
        } else if recipient_beneficiary {
            steps.push(self.step(&isl.leaving_circle_rule, Detail::Finding("zero-tariff goods were for the importer's own use: transfer pays the import taxes")));
        } else {
            steps.push(self.step(
                &isl.leaving_circle_rule,
                Detail::Finding(
                    "to a non-beneficiary or an individual: import taxes on the imported materials",
                ),
            ));
        }
        if decided.treatment == Treatment::NotControlled {
            return self.release_taxed(i, line, cv, restrictive, decided, steps);
        }
        Ok(None)
    }

    /// The restrictive category of the goods, or else of the first imported material in one.
    fn restrictive_in_transfer(&self, line: &Line) -> Option<&'p RestrictiveEntry> {
        self.hits(&line.hs_code, line.origin)
            .restrictive
            .or_else(|| {
                line.imported_materials
                    .iter()
                    .find_map(|m| self.hits(&m.hs_code, m.origin).restrictive)
            })
    }

    /// Zero-tariff goods leaving the circle pay the import taxes on their imported materials and
    /// leave the declarant's account book. Returns the refusal's step when the book does not hold
    /// them.
    fn release_taxed(
        &mut self,
        i: usize,
        line: &Line,
        cv: Cny,
        restrictive: Option<&'p RestrictiveEntry>,
        decided: &mut LineDecision,
        steps: &mut Vec<Step<'p>>,
    ) -> Result<Option<Step<'p>>, FieldError> {
        decided.treatment = Treatment::TaxedOnImportedMaterials;
        let (taxes, _) = self.tax_imported_content(i, line, cv, Exemptions::NONE, steps)?;
        decided.taxes = taxes;
        let out = Self::first_quantity(line, i)?;
        if let Some(step) = self.book_check(&[(line.hs_code, out)], steps) {
            return Ok(Some(step));
        }
        let declarant = self.decl.declarant;
        self.post(
            &declarant,
            Movement::TaxedRelease,
            i,
            line,
            cv,
            restrictive.map(|r| r.category),
        )?;
        Ok(None)
    }

    /// R3.3: a processing record. The materials consumed leave the declarant's account book and
    /// the product made enters it; nothing crosses a line, so nothing is taxed.
    fn processing(&mut self, i: usize, line: &Line) -> Result<LineDecision, FieldError> {
        let rule = self.v.account_book.rule;
        if line.imported_materials.is_empty() {
            return Err(FieldError::new(
                line_field(i, "imported_materials"),
                FieldErrorKind::Missing,
                "a processing record lists the zero-tariff materials consumed",
            ));
        }
        let made = Self::first_quantity(line, i)?;
        let mut consumed = Vec::with_capacity(line.imported_materials.len());
        for (m, material) in line.imported_materials.iter().enumerate() {
            let quantity = material.quantities.first().copied().ok_or_else(|| {
                FieldError::new(
                    line_field(i, &format!("imported_materials[{m}].quantities")),
                    FieldErrorKind::Missing,
                    "a consumed material states the quantity used",
                )
            })?;
            consumed.push((material.hs_code, quantity));
        }
        let mut steps = self.scratch();
        let cv = self.customs_value(line, &mut steps);
        steps.push(self.step(
            &rule,
            Detail::Finding("processing inside the zone: the materials consumed leave the account book and the goods made enter it; no import taxes"),
        ));
        if let Some(step) = self.book_check(&consumed, &mut steps) {
            return Ok(self.refuse_book(steps, i, line, step));
        }
        let declarant = self.decl.declarant;
        for (material, &(hs_code, quantity)) in line.imported_materials.iter().zip(&consumed) {
            self.post_goods(
                &declarant,
                Movement::ConsumedInProcessing,
                i,
                hs_code,
                quantity,
                material.customs_value,
                None,
            );
        }
        self.post_goods(
            &declarant,
            Movement::ProcessingOutput,
            i,
            line.hs_code,
            made,
            cv,
            None,
        );
        Ok(LineDecision {
            explanation: self.keep(steps),
            ..LineDecision::untaxed(i, line.hs_code, Treatment::Processed, cv)
        })
    }

    fn finish(mut self) -> Decision<'p> {
        let v = self.v;
        let mut totals = Totals::default();
        for l in &self.lines {
            totals.assessed.add(&l.taxes);
            totals.assessed_export_duty = totals.assessed_export_duty + l.export_duty;
            totals.exempted.add(&l.exempted);
        }
        let outcome = if !self.reasons.is_empty() {
            Outcome::Rejected
        } else if self
            .lines
            .iter()
            .all(|l| l.treatment == Treatment::NotControlled)
        {
            Outcome::NotRequired
        } else {
            Outcome::Accepted
        };
        if outcome == Outcome::Rejected {
            // A refused declaration releases nothing: no postings, no effects, nothing to collect.
            self.postings.clear();
            self.effects.clear();
        } else {
            let threshold = v.tax.minimum_tax;
            let waive = |name: &'static str, amount: Cny, steps: &mut Vec<Step<'p>>| -> Cny {
                if amount > Cny::ZERO && amount <= threshold {
                    steps.push(Step {
                        rule: v.rule(&v.tax.minimum_tax_rule),
                        detail: Detail::MinimumTax {
                            tax: name,
                            amount,
                            threshold,
                        },
                    });
                    amount
                } else {
                    Cny::ZERO
                }
            };
            let a = totals.assessed;
            totals.waived = TaxAmounts {
                tariff: waive("tariff", a.tariff, &mut self.explanation),
                consumption_tax: waive("consumption tax", a.consumption_tax, &mut self.explanation),
                vat: waive("import VAT", a.vat, &mut self.explanation),
            };
            totals.waived_export_duty = waive(
                "export duty",
                totals.assessed_export_duty,
                &mut self.explanation,
            );
            totals.payable = a.minus(&totals.waived);
            totals.payable_export_duty = totals.assessed_export_duty - totals.waived_export_duty;
            totals.payable_total = totals.payable.total() + totals.payable_export_duty;
        }
        Decision {
            schema_version: DECISION_SCHEMA_VERSION,
            declaration_id: self.decl.id.clone(),
            flow: self.decl.flow,
            declared_on: self.decl.declared_on,
            pack: v,
            outcome,
            reasons: self.reasons,
            lines: self.lines,
            steps: self.steps,
            totals,
            postings: self.postings,
            effects: self.effects,
            explanation: self.explanation,
        }
    }
}

/// What the pack's lists say about one line's goods.
#[derive(Default)]
struct Hits<'p> {
    prohibited_import: Option<&'p GoodsControl>,
    restricted_import: Option<&'p GoodsControl>,
    prohibited_export: Option<&'p GoodsControl>,
    restricted_export: Option<&'p GoodsControl>,
    restrictive: Option<&'p RestrictiveEntry>,
    positive_list: Option<&'p str>,
    taxable_catalogue: Option<&'p str>,
}

enum ScopeVerdict<'p> {
    /// In zero-tariff scope; for positive lists, the list that admits it.
    InScope(Option<&'p str>),
    /// Outside; for the negative list, the catalogue entry that taxes it.
    OutOfScope(Option<&'p str>),
}

fn scope_verdict<'p>(scope: &ZeroTariffScope, hits: &Hits<'p>) -> ScopeVerdict<'p> {
    match scope {
        ZeroTariffScope::PositiveLists(_) => match hits.positive_list {
            Some(list) => ScopeVerdict::InScope(Some(list)),
            None => ScopeVerdict::OutOfScope(None),
        },
        ZeroTariffScope::NegativeList(_) => match hits.taxable_catalogue {
            Some(description) => ScopeVerdict::OutOfScope(Some(description)),
            None => ScopeVerdict::InScope(None),
        },
    }
}

pub(crate) fn tariff_line<'p>(
    v: &'p PackVersion,
    code: &HsCode,
    field: impl FnOnce() -> String,
) -> Result<&'p TariffLine, FieldError> {
    if code.len() < 8 {
        return Err(FieldError::new(
            field(),
            FieldErrorKind::Malformed,
            format!("{code} is a subheading; taxes need the 8-digit tariff line"),
        ));
    }
    v.schedule.line_for(code).ok_or_else(|| {
        FieldError::new(
            field(),
            FieldErrorKind::Unknown,
            format!("tariff line {code} is not in the schedule of pack {}", v.id),
        )
    })
}

/// The basis for taxing goods of `code` worth `customs_value`.
pub(crate) fn tax_basis<'p, 'q>(
    v: &'p PackVersion,
    code: &HsCode,
    origin: Country,
    customs_value: Cny,
    quantities: &'q [Quantity],
    ct_choice: Option<&str>,
    field: &dyn Fn(&str) -> String,
) -> Result<TaxBasis<'p, 'q>, FieldError> {
    let tl = tariff_line(v, code, || field("hs_code"))?;
    let (duty_rate, duty_column) = tl.import_duty(origin, &v.zero_tariff.general_rate_origins);
    let consumption_tax = match (tl.consumption_tax.as_slice(), ct_choice) {
        ([], None) => None,
        ([], Some(c)) => {
            return Err(FieldError::new(
                field("consumption_tax_item"),
                FieldErrorKind::Inconsistent,
                format!(
                    "tariff line {} bears no consumption tax, but item {c} was given",
                    tl.line
                ),
            ));
        }
        ([only], None) => Some(only),
        (items, Some(c)) if items.iter().any(|i| i.id == c) => items.iter().find(|i| i.id == c),
        (_, _) => {
            return Err(FieldError::new(
                field("consumption_tax_item"),
                FieldErrorKind::Missing,
                format!(
                    "tariff line {} bears consumption-tax item {}; state which applies",
                    tl.line,
                    tl.consumption_tax_items.join(" or ")
                ),
            ));
        }
    };
    Ok(TaxBasis {
        customs_value,
        quantities,
        duty_rate,
        duty_column,
        specific_duty: tl.specific_duty.as_ref(),
        consumption_tax,
        vat_rate: tl.vat_rate,
    })
}
