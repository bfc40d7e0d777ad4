//! The state a decision reads: who the parties are and what is on record about them.
//!
//! The shell loads a snapshot from the store (or a quote request carries one); the core never
//! fetches anything itself.

use rust_decimal::Decimal;
use time::Date;

use crate::calendar::DayRange;
use crate::currency::Currency;
use crate::fasthash::FxHashMap;
use crate::hs::HsCode;
use crate::identity::CreditCode;
use crate::unit::Unit;

/// A zero-tariff waiver in force (R1.5), for goods whose code starts with `kind_prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverLock {
    pub kind_prefix: String,
    pub range: DayRange,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnterpriseStanding {
    /// On the provincial list of zero-tariff beneficiary entities (R1.4).
    pub beneficiary: bool,
    /// Filed as an encouraged-industry enterprise (R2.6).
    pub encouraged_industry_filed: bool,
    /// Share of revenue from encouraged industries (only the pre-closure pilot tests it, R2.12).
    pub encouraged_revenue_share: Option<Decimal>,
    pub waiver_locks: Vec<WaiverLock>,
}

/// Exchange rates by the day they were set and currency: CNY per unit of foreign currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExchangeRates {
    rates: FxHashMap<(Date, Currency), Decimal>,
}

impl ExchangeRates {
    pub fn insert(&mut self, day: Date, currency: Currency, cny_per_unit: Decimal) {
        self.rates.insert((day, currency), cny_per_unit);
    }

    pub fn get(&self, day: Date, currency: Currency) -> Option<Decimal> {
        self.rates.get(&(day, currency)).copied()
    }
}

/// One balance of an account book (R3.3, "one enterprise, one account"): an enterprise's stock of
/// zero-tariff goods of one code, counted in one unit. Quantities in different units are different
/// balances: the book does not convert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BalanceKey {
    pub enterprise: CreditCode,
    pub hs_code: HsCode,
    pub unit: Unit,
}

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Keyed by credit code with the fast hasher: the codes are checked identifiers, not attacker-chosen
    /// hash keys, and the lookup runs for every declaration.
    pub enterprises: FxHashMap<CreditCode, EnterpriseStanding>,
    pub exchange_rates: ExchangeRates,
    /// Account-book balances on record (R3.3); a key not present holds nothing.
    pub balances: FxHashMap<BalanceKey, Decimal>,
    /// Whether outflows are checked against `balances` (R3.3). Off for quotes that carry no book, so
    /// that they decide as if the book held enough; the store's snapshots turn it on.
    pub enforce_balances: bool,
    /// Emergency modes in force at ports, by port code.
    pub port_modes: std::collections::BTreeMap<String, crate::port::ActiveMode>,
}

impl Snapshot {
    /// An enterprise with nothing on record stands as a non-beneficiary, unfiled enterprise.
    pub fn standing(&self, enterprise: &CreditCode) -> Option<&EnterpriseStanding> {
        self.enterprises.get(enterprise)
    }

    /// What `enterprise`'s book holds of goods `hs_code` in `unit`: zero when nothing is on record.
    pub fn balance(&self, enterprise: CreditCode, hs_code: HsCode, unit: Unit) -> Decimal {
        self.balances
            .get(&BalanceKey {
                enterprise,
                hs_code,
                unit,
            })
            .copied()
            .unwrap_or_default()
    }
}
