//! The duty-free quota as a ledger with pending postings (R4.2, R4.4; STYLE rule 5).
//!
//! A till **reserves** a whole basket: the basket's retail total against the person's annual quota
//! and its limit quantities against the departure's category limits, all or nothing. The
//! reservation is then **committed** (the sale is made), **voided** (the till cancels it) or
//! **expires** by itself; a committed item may be **returned**, which gives back its price and its
//! allowance. At every moment spent + reserved stays within the quota, and each category's taken
//! quantity (committed and reserved) within its limit. The store holds the same invariant with
//! conditional updates; this module is the rule they pair with, and the model the tests check
//! the store against.

use std::collections::BTreeMap;

use serde::Serialize;

/// Which quota a sale spends: one ledger, one quota a person, scheme and calendar year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// Offshore duty-free shopping by travellers leaving the island (R4.2: 100 000 CNY a year).
    Offshore,
    /// Hainan residents' zero-tariff consumer imports in designated stores (R4.11: 10 000 CNY a
    /// year), a second quota beside the offshore one.
    ResidentZeroTariff,
}

impl Scheme {
    pub const ALL: [Scheme; 2] = [Scheme::Offshore, Scheme::ResidentZeroTariff];

    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Offshore => "offshore",
            Scheme::ResidentZeroTariff => "resident_zero_tariff",
        }
    }

    pub fn parse(text: &str) -> Option<Scheme> {
        Scheme::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Where a sale stands in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleState {
    /// Reserved by a till, waiting to be committed or voided before it expires.
    Pending,
    /// Sold: the quota spent.
    Committed,
    /// Cancelled by the till before it was committed: nothing spent.
    Voided,
    /// Not committed in time: nothing spent.
    Expired,
    /// Refused by the rules: nothing reserved, kept for the record.
    Refused,
}

impl SaleState {
    pub const ALL: [SaleState; 5] = [
        SaleState::Pending,
        SaleState::Committed,
        SaleState::Voided,
        SaleState::Expired,
        SaleState::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SaleState::Pending => "pending",
            SaleState::Committed => "committed",
            SaleState::Voided => "voided",
            SaleState::Expired => "expired",
            SaleState::Refused => "refused",
        }
    }

    pub fn parse(text: &str) -> Option<SaleState> {
        SaleState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the sale holds quota and allowance: pending or committed.
    pub fn holds_quota(self) -> bool {
        matches!(self, SaleState::Pending | SaleState::Committed)
    }
}

/// What a till does to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    Commit,
    Void,
    Expire,
}

impl Settlement {
    /// The state a pending reservation settles in; any other state refuses (a reservation is
    /// settled once).
    pub fn of(self, from: SaleState) -> Option<SaleState> {
        (from == SaleState::Pending).then_some(match self {
            Settlement::Commit => SaleState::Committed,
            Settlement::Void => SaleState::Voided,
            Settlement::Expire => SaleState::Expired,
        })
    }
}

/// A basket as the ledger sees it: its retail total in fen and, per line, the category and the
/// quantity in thousandths of the category's limit unit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Basket {
    pub total_fen: i64,
    pub items: Vec<(String, i64)>,
}

impl Basket {
    /// Limit quantities per category.
    pub fn by_category(&self) -> BTreeMap<&str, i64> {
        let mut out = BTreeMap::new();
        for (category, milli) in &self.items {
            *out.entry(category.as_str()).or_insert(0) += milli;
        }
        out
    }
}

/// The bounds a person's ledger keeps within: the annual quota and the per-departure limits of
/// the categories that have one, in thousandths of the limit unit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bounds {
    pub annual_quota_fen: i64,
    pub limits_milli: BTreeMap<String, i64>,
}

/// Why a basket cannot be reserved: the bound, what is already held against it, what the basket
/// asks, and the shortfall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "bound", rename_all = "snake_case")]
pub enum Shortfall {
    Quota {
        annual_quota_fen: i64,
        held_fen: i64,
        asked_fen: i64,
        short_fen: i64,
    },
    Category {
        category: String,
        limit_milli: i64,
        held_milli: i64,
        asked_milli: i64,
        short_milli: i64,
    },
}

/// One person's standing: the year's spent and reserved quota, and what one departure's purchases
/// hold of each category's limit (committed and reserved).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Standing {
    pub spent_fen: i64,
    pub reserved_fen: i64,
    pub taken_milli: BTreeMap<String, i64>,
}

impl Standing {
    /// Every bound the basket would break, with its shortfall; none means it may be reserved.
    pub fn shortfalls(&self, bounds: &Bounds, basket: &Basket) -> Vec<Shortfall> {
        let mut out = Vec::new();
        let held = self.spent_fen + self.reserved_fen;
        if held + basket.total_fen > bounds.annual_quota_fen {
            out.push(Shortfall::Quota {
                annual_quota_fen: bounds.annual_quota_fen,
                held_fen: held,
                asked_fen: basket.total_fen,
                short_fen: held + basket.total_fen - bounds.annual_quota_fen,
            });
        }
        for (category, asked) in basket.by_category() {
            let Some(limit) = bounds.limits_milli.get(category) else {
                continue;
            };
            let held = self.taken_milli.get(category).copied().unwrap_or(0);
            if held + asked > *limit {
                out.push(Shortfall::Category {
                    category: category.to_owned(),
                    limit_milli: *limit,
                    held_milli: held,
                    asked_milli: asked,
                    short_milli: held + asked - limit,
                });
            }
        }
        out
    }

    /// Reserves the basket whole, or nothing and every shortfall.
    pub fn reserve(&mut self, bounds: &Bounds, basket: &Basket) -> Result<(), Vec<Shortfall>> {
        let short = self.shortfalls(bounds, basket);
        if !short.is_empty() {
            return Err(short);
        }
        self.reserved_fen += basket.total_fen;
        self.take(basket, 1);
        Ok(())
    }

    /// A pending basket settles: committed, its reserve becomes spent; voided or expired, its
    /// reserve and allowance go back.
    pub fn settle(&mut self, basket: &Basket, to: SaleState) {
        self.reserved_fen -= basket.total_fen;
        match to {
            SaleState::Committed => self.spent_fen += basket.total_fen,
            _ => self.take(basket, -1),
        }
    }

    /// Committed goods returned: their price and allowance go back.
    pub fn give_back(&mut self, returned: &Basket) {
        self.spent_fen -= returned.total_fen;
        self.take(returned, -1);
    }

    /// Whether the standing keeps within its bounds, and nothing is negative.
    pub fn within(&self, bounds: &Bounds) -> bool {
        self.spent_fen >= 0
            && self.reserved_fen >= 0
            && self.spent_fen + self.reserved_fen <= bounds.annual_quota_fen
            && self.taken_milli.iter().all(|(category, taken)| {
                *taken >= 0
                    && bounds
                        .limits_milli
                        .get(category)
                        .is_none_or(|limit| taken <= limit)
            })
    }

    fn take(&mut self, basket: &Basket, sign: i64) {
        for (category, milli) in basket.by_category() {
            *self.taken_milli.entry(category.to_owned()).or_insert(0) += sign * milli;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bounds() -> Bounds {
        Bounds {
            annual_quota_fen: 10_000_000,
            limits_milli: [
                ("cosmetics".to_owned(), 30_000),
                ("phones".to_owned(), 4_000),
            ]
            .into(),
        }
    }

    fn basket(total_fen: i64, items: &[(&str, i64)]) -> Basket {
        Basket {
            total_fen,
            items: items.iter().map(|(c, m)| ((*c).to_owned(), *m)).collect(),
        }
    }

    #[test]
    fn a_basket_is_reserved_whole_or_refused_with_every_shortfall() {
        let mut s = Standing {
            spent_fen: 9_500_000,
            ..Standing::default()
        };
        let b = basket(800_000, &[("cosmetics", 31_000), ("watches", 1_000)]);
        let short = s.reserve(&bounds(), &b).expect_err("over both");
        assert_eq!(
            short,
            vec![
                Shortfall::Quota {
                    annual_quota_fen: 10_000_000,
                    held_fen: 9_500_000,
                    asked_fen: 800_000,
                    short_fen: 300_000
                },
                Shortfall::Category {
                    category: "cosmetics".into(),
                    limit_milli: 30_000,
                    held_milli: 0,
                    asked_milli: 31_000,
                    short_milli: 1_000
                }
            ]
        );
        assert_eq!(s.reserved_fen, 0, "nothing reserved");
        let fits = basket(500_000, &[("cosmetics", 30_000)]);
        s.reserve(&bounds(), &fits).expect("fits exactly");
        assert!(s.within(&bounds()));
        s.settle(&fits, SaleState::Voided);
        assert_eq!((s.reserved_fen, s.taken_milli["cosmetics"]), (0, 0));
    }

    #[test]
    fn a_reservation_settles_once() {
        assert_eq!(
            Settlement::Commit.of(SaleState::Pending),
            Some(SaleState::Committed)
        );
        for from in SaleState::ALL
            .into_iter()
            .filter(|s| *s != SaleState::Pending)
        {
            for s in [Settlement::Commit, Settlement::Void, Settlement::Expire] {
                assert_eq!(s.of(from), None, "{from:?}");
            }
        }
        for s in SaleState::ALL {
            assert_eq!(SaleState::parse(s.as_str()), Some(s));
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Reserve(i64, Vec<(usize, i64)>),
        Commit(usize),
        Void(usize),
        Expire(usize),
        Return(usize, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        let categories = proptest::collection::vec((0..3usize, 1..12_000i64), 1..4);
        prop_oneof![
            (1..4_000_000i64, categories).prop_map(|(t, c)| Op::Reserve(t, c)),
            (0..20usize).prop_map(Op::Commit),
            (0..20usize).prop_map(Op::Void),
            (0..20usize).prop_map(Op::Expire),
            (0..20usize, 0..4usize).prop_map(|(i, l)| Op::Return(i, l)),
        ]
    }

    proptest! {
        /// No sequence of reserve, commit, void, expiry and return lets spent + reserved pass the
        /// quota or taken pass a category's limit; and the standing is always the sum of its
        /// sales (the ledger's balance is a sum of its postings).
        #[test]
        fn no_sequence_overspends(ops in proptest::collection::vec(op(), 1..60)) {
            let names = ["cosmetics", "phones", "watches"];
            let b = bounds();
            let mut s = Standing::default();
            // Each sale: its basket, its state, and what of it has been returned.
            let mut sales: Vec<(Basket, SaleState, Vec<bool>)> = Vec::new();
            for op in ops {
                match op {
                    Op::Reserve(total, lines) => {
                        let basket = Basket {
                            total_fen: total,
                            items: lines.iter().map(|(c, m)| (names[*c].to_owned(), *m)).collect(),
                        };
                        let before = s.clone();
                        match s.reserve(&b, &basket) {
                            Ok(()) => {
                                let n = basket.items.len();
                                sales.push((basket, SaleState::Pending, vec![false; n]));
                            }
                            Err(short) => {
                                prop_assert!(!short.is_empty());
                                prop_assert_eq!(&s, &before);
                            }
                        }
                    }
                    Op::Commit(i) | Op::Void(i) | Op::Expire(i) => {
                        let how = match op {
                            Op::Commit(_) => Settlement::Commit,
                            Op::Void(_) => Settlement::Void,
                            _ => Settlement::Expire,
                        };
                        if let Some((basket, state, _)) = sales.get_mut(i)
                            && let Some(to) = how.of(*state)
                        {
                            s.settle(basket, to);
                            *state = to;
                        }
                    }
                    Op::Return(i, line) => {
                        if let Some((basket, SaleState::Committed, returned)) = sales.get_mut(i)
                            && line < basket.items.len()
                            && !returned[line]
                        {
                            // A line's share of the total: the last line takes the remainder.
                            let n = i64::try_from(basket.items.len()).expect("few lines");
                            let share = basket.total_fen / n
                                + if line + 1 == basket.items.len() { basket.total_fen % n } else { 0 };
                            s.give_back(&Basket {
                                total_fen: share,
                                items: vec![basket.items[line].clone()],
                            });
                            returned[line] = true;
                        }
                    }
                }
                prop_assert!(s.within(&b), "{:?}", s);
            }
            let reserved: i64 = sales
                .iter()
                .filter(|(_, st, _)| *st == SaleState::Pending)
                .map(|(b, _, _)| b.total_fen)
                .sum();
            prop_assert_eq!(s.reserved_fen, reserved);
        }
    }
}
