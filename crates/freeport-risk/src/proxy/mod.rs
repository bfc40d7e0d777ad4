//! Proxy buying ("package buying", 套代购, R4.8): duty-free bought on other people's quotas and
//! carried back for resale. Found, with its evidence, from what sales and departures record:
//!
//! - **links** between buyers: a phone or a payment account two person codes share is a hard link
//!   (it ties them on its own); a device or a delivery address is a soft one, weighed, so a family
//!   sharing an address is not a ring;
//! - **one collector** taking delivery for many buyers;
//! - **tour baskets**: buyers on the same departure with near-identical baskets at the category
//!   limits, the shape of a recruited group;
//! - buyers who **never depart** with what they bought, and **short repeated round trips**.
//!
//! Rings are the connected components of the links. Pure: sales and departures come in as values
//! (from the store, or from the CSV files of [`files`]), settings as data (`risk/lanes.toml`).

pub mod evaluate;
pub mod files;
pub mod generate;

use std::collections::{BTreeMap, BTreeSet};

use freeport_core::buyer_links::LinkKind;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::Date;

/// Thresholds of the ring detector (`[proxy_buying.rings]` in `risk/lanes.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RingSettings {
    /// Distinct buyers one collector takes delivery for before the collector and they are linked.
    pub collector_buyers: usize,
    /// Buyers on one departure with near-identical baskets before they are linked.
    pub tour_buyers: usize,
    /// How alike two baskets must be to be near-identical: the sum over categories of the smaller
    /// quantity over the sum of the larger (1 is identical).
    pub basket_similarity: f64,
    /// A line at or above this share of its category's limit is "at the limit".
    pub limit_share: f64,
    /// Weight of a shared soft link (device, delivery address); buyers linked when the weights of
    /// what they share reach 1 (a hard link weighs 1).
    pub soft_link_weight: f64,
    /// A link shared by more buyers than this is not evidence (a shop's own device, a hotel).
    pub max_link_buyers: usize,
    /// Days after the declared departure day before a buyer with no departure record counts as
    /// never having departed.
    pub grace_days: i64,
    /// Departures within `window_days` that make short repeated round trips.
    pub round_trips: usize,
    pub window_days: i64,
}

/// One line of a sale, as the detector needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub category: String,
    /// In the category's limit unit.
    pub quantity: Decimal,
    /// The category's per-departure limit, when it has one.
    pub limit: Option<Decimal>,
}

/// A sale: who bought, for which departure, what, and what with.
#[derive(Debug, Clone, PartialEq)]
pub struct Sale {
    pub id: String,
    pub person: String,
    pub sold_on: Date,
    pub departure_on: Date,
    pub lines: Vec<Line>,
    /// Link codes (or any opaque tokens) by kind.
    pub links: BTreeMap<LinkKind, String>,
    /// Who took delivery, when not the buyer.
    pub collector: Option<String>,
    /// The flight, train or ship the buyer declared.
    pub departure_means: Option<String>,
}

/// A departure on record (flight, train or ship), from the carrier or the port.
#[derive(Debug, Clone, PartialEq)]
pub struct Departure {
    pub person: String,
    pub departed_on: Date,
    pub means: String,
}

/// Why a buyer is flagged, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "signal", rename_all = "snake_case")]
pub enum Evidence {
    /// Shares a phone or payment account (hard), or enough soft links, with these buyers.
    SharedLink { kind: String, with: Vec<String> },
    /// Took delivery for these buyers, or had a collector who did.
    Collector {
        collector: String,
        buyers: Vec<String>,
    },
    /// Near-identical baskets at the limits with these buyers on one departure.
    TourBaskets {
        means: String,
        day: Date,
        with: Vec<String>,
    },
    /// Bought for these departure days and has no departure on record.
    NeverDeparted { departure_days: Vec<Date> },
    /// Departed this often within the window.
    RoundTrips { departures: usize, window_days: i64 },
}

impl Evidence {
    pub fn name(&self) -> &'static str {
        match self {
            Evidence::SharedLink { .. } => "shared_link",
            Evidence::Collector { .. } => "collector",
            Evidence::TourBaskets { .. } => "tour_baskets",
            Evidence::NeverDeparted { .. } => "never_departed",
            Evidence::RoundTrips { .. } => "round_trips",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flagged {
    pub person: String,
    /// The ring the buyer belongs to, if any (an index into [`Findings::rings`]).
    pub ring: Option<usize>,
    /// Of the buyer's lines, the share at the category limits: resale's mark, reported beside.
    pub at_limit_share: f64,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ring {
    pub members: Vec<String>,
    /// What links them: (buyer, buyer, signal).
    pub links: Vec<(String, String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Findings {
    pub buyers: usize,
    pub flagged: Vec<Flagged>,
    pub rings: Vec<Ring>,
}

/// Links between buyers, with what links them, and each buyer's evidence.
#[derive(Default)]
struct Graph {
    edges: BTreeMap<(String, String), BTreeSet<&'static str>>,
    evidence: BTreeMap<String, Vec<Evidence>>,
}

impl Graph {
    fn link(&mut self, a: &str, b: &str, why: &'static str) {
        if a == b {
            return;
        }
        let key = if a < b {
            (a.to_owned(), b.to_owned())
        } else {
            (b.to_owned(), a.to_owned())
        };
        self.edges.entry(key).or_default().insert(why);
    }

    fn note(&mut self, person: &str, e: Evidence) {
        self.evidence.entry(person.to_owned()).or_default().push(e);
    }
}

/// Finds the proxy buyers and their rings among `sales`, against `departures`, as of `as_of`.
pub fn detect(sales: &[Sale], departures: &[Departure], as_of: Date, s: &RingSettings) -> Findings {
    let mut g = Graph::default();
    let buyers: BTreeSet<&str> = sales.iter().map(|x| x.person.as_str()).collect();
    shared_links(sales, s, &mut g);
    collectors(sales, s, &mut g);
    tour_baskets(sales, s, &mut g);
    never_departed(sales, departures, as_of, s, &mut g);
    round_trips(departures, s, &mut g);
    let rings = rings(&g);
    let ring_of: BTreeMap<&str, usize> = rings
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.members.iter().map(move |m| (m.as_str(), i)))
        .collect();
    let flagged = g
        .evidence
        .iter()
        .map(|(person, evidence)| Flagged {
            person: person.clone(),
            ring: ring_of.get(person.as_str()).copied(),
            at_limit_share: at_limit_share(sales, person, s),
            evidence: evidence.clone(),
        })
        .collect();
    Findings {
        buyers: buyers.len(),
        flagged,
        rings,
    }
}

/// Hard links tie buyers on their own; soft ones add up by weight.
fn shared_links(sales: &[Sale], s: &RingSettings, g: &mut Graph) {
    let mut holders: BTreeMap<(LinkKind, &str), BTreeSet<&str>> = BTreeMap::new();
    for sale in sales {
        for (kind, token) in &sale.links {
            holders
                .entry((*kind, token))
                .or_default()
                .insert(&sale.person);
        }
    }
    let mut soft: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    let mut shared: BTreeMap<&str, BTreeMap<&'static str, BTreeSet<&str>>> = BTreeMap::new();
    for ((kind, _), people) in &holders {
        if people.len() < 2 || people.len() > s.max_link_buyers {
            continue;
        }
        for a in people {
            for b in people.iter().filter(|b| *b != a) {
                if kind.is_hard() {
                    g.link(a, b, kind.as_str());
                    shared
                        .entry(a)
                        .or_default()
                        .entry(kind.as_str())
                        .or_default()
                        .insert(b);
                } else if a < b {
                    *soft.entry((a, b)).or_insert(0.0) += s.soft_link_weight;
                }
            }
        }
    }
    for ((a, b), weight) in soft {
        if weight >= 1.0 {
            g.link(a, b, "soft_links");
            shared
                .entry(a)
                .or_default()
                .entry("soft_links")
                .or_default()
                .insert(b);
            shared
                .entry(b)
                .or_default()
                .entry("soft_links")
                .or_default()
                .insert(a);
        }
    }
    for (person, kinds) in shared {
        for (kind, with) in kinds {
            g.note(
                person,
                Evidence::SharedLink {
                    kind: kind.to_owned(),
                    with: with.iter().map(|w| (*w).to_owned()).collect(),
                },
            );
        }
    }
}

/// One collector for many buyers: the collector and each buyer linked.
fn collectors(sales: &[Sale], s: &RingSettings, g: &mut Graph) {
    let mut by: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for sale in sales {
        if let Some(c) = sale.collector.as_deref().filter(|c| *c != sale.person) {
            by.entry(c).or_default().insert(&sale.person);
        }
    }
    for (collector, buyers) in by {
        if buyers.len() < s.collector_buyers {
            continue;
        }
        let list: Vec<String> = buyers.iter().map(|b| (*b).to_owned()).collect();
        for b in &buyers {
            g.link(collector, b, "collector");
            g.note(
                b,
                Evidence::Collector {
                    collector: collector.to_owned(),
                    buyers: list.clone(),
                },
            );
        }
        g.note(
            collector,
            Evidence::Collector {
                collector: collector.to_owned(),
                buyers: list,
            },
        );
    }
}

/// A person's basket for one departure: limit quantities per category, and whether any line is at
/// its limit.
fn basket(sales: &[&Sale], s: &RingSettings) -> (BTreeMap<String, Decimal>, bool) {
    let mut q: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut at_limit = false;
    for sale in sales {
        for l in &sale.lines {
            *q.entry(l.category.clone()).or_default() += l.quantity;
        }
    }
    for sale in sales {
        for l in &sale.lines {
            if let Some(limit) = l.limit.filter(|l| *l > Decimal::ZERO) {
                let share = q[&l.category] / limit;
                at_limit |= share >= Decimal::try_from(s.limit_share).unwrap_or(Decimal::ONE);
            }
        }
    }
    (q, at_limit)
}

/// Weighted Jaccard: the sum of the smaller quantities over the sum of the larger.
fn similarity(a: &BTreeMap<String, Decimal>, b: &BTreeMap<String, Decimal>) -> f64 {
    let categories: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let (mut low, mut high) = (Decimal::ZERO, Decimal::ZERO);
    for c in categories {
        let (x, y) = (
            a.get(c).copied().unwrap_or_default(),
            b.get(c).copied().unwrap_or_default(),
        );
        low += x.min(y);
        high += x.max(y);
    }
    if high.is_zero() {
        return 0.0;
    }
    f64::try_from(low / high).unwrap_or(0.0)
}

/// Buyers on one departure (means and day) whose baskets at the limits are near-identical.
fn tour_baskets(sales: &[Sale], s: &RingSettings, g: &mut Graph) {
    let mut trips: BTreeMap<(&str, Date), BTreeMap<&str, Vec<&Sale>>> = BTreeMap::new();
    for sale in sales {
        if let Some(means) = sale.departure_means.as_deref() {
            trips
                .entry((means, sale.departure_on))
                .or_default()
                .entry(&sale.person)
                .or_default()
                .push(sale);
        }
    }
    for ((means, day), people) in trips {
        let baskets: Vec<(&str, BTreeMap<String, Decimal>)> = people
            .iter()
            .filter_map(|(p, sales)| {
                let (q, at_limit) = basket(sales, s);
                at_limit.then_some((*p, q))
            })
            .collect();
        for (i, (a, qa)) in baskets.iter().enumerate() {
            let alike: Vec<&str> = baskets
                .iter()
                .enumerate()
                .filter(|(j, (_, qb))| *j != i && similarity(qa, qb) >= s.basket_similarity)
                .map(|(_, (b, _))| *b)
                .collect();
            if alike.len() + 1 < s.tour_buyers {
                continue;
            }
            for b in &alike {
                g.link(a, b, "tour_baskets");
            }
            g.note(
                a,
                Evidence::TourBaskets {
                    means: means.to_owned(),
                    day,
                    with: alike.iter().map(|b| (*b).to_owned()).collect(),
                },
            );
        }
    }
}

/// Buyers whose declared departure is past, with the grace, and who have no departure on record
/// from the first sale on.
fn never_departed(
    sales: &[Sale],
    departures: &[Departure],
    as_of: Date,
    s: &RingSettings,
    g: &mut Graph,
) {
    let mut left: BTreeMap<&str, Vec<Date>> = BTreeMap::new();
    for d in departures {
        left.entry(&d.person).or_default().push(d.departed_on);
    }
    let mut owed: BTreeMap<&str, BTreeSet<Date>> = BTreeMap::new();
    for sale in sales {
        let due = sale.departure_on + time::Duration::days(s.grace_days);
        if due >= as_of {
            continue;
        }
        let departed = left
            .get(sale.person.as_str())
            .is_some_and(|days| days.iter().any(|d| *d >= sale.sold_on && *d <= due));
        if !departed {
            owed.entry(&sale.person)
                .or_default()
                .insert(sale.departure_on);
        }
    }
    for (person, days) in owed {
        g.note(
            person,
            Evidence::NeverDeparted {
                departure_days: days.into_iter().collect(),
            },
        );
    }
}

/// Buyers who left this often within the window.
fn round_trips(departures: &[Departure], s: &RingSettings, g: &mut Graph) {
    let mut by: BTreeMap<&str, Vec<Date>> = BTreeMap::new();
    for d in departures {
        by.entry(&d.person).or_default().push(d.departed_on);
    }
    for (person, mut days) in by {
        days.sort_unstable();
        days.dedup();
        let most = days
            .iter()
            .enumerate()
            .map(|(i, start)| {
                days[i..]
                    .iter()
                    .take_while(|d| (**d - *start).whole_days() < s.window_days)
                    .count()
            })
            .max()
            .unwrap_or(0);
        if most >= s.round_trips {
            g.note(
                person,
                Evidence::RoundTrips {
                    departures: most,
                    window_days: s.window_days,
                },
            );
        }
    }
}

/// The connected components of the links, largest first.
fn rings(g: &Graph) -> Vec<Ring> {
    let mut parent: BTreeMap<&str, &str> = BTreeMap::new();
    fn root<'a>(parent: &mut BTreeMap<&'a str, &'a str>, x: &'a str) -> &'a str {
        let mut r = x;
        while let Some(p) = parent.get(r).copied().filter(|p| *p != r) {
            r = p;
        }
        parent.insert(x, r);
        r
    }
    for (a, b) in g.edges.keys() {
        parent.entry(a).or_insert(a);
        parent.entry(b).or_insert(b);
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent.insert(hi, lo);
        }
    }
    let mut groups: BTreeMap<&str, Ring> = BTreeMap::new();
    let people: Vec<&str> = parent.keys().copied().collect();
    for p in people {
        let r = root(&mut parent, p);
        groups
            .entry(r)
            .or_insert_with(|| Ring {
                members: Vec::new(),
                links: Vec::new(),
            })
            .members
            .push(p.to_owned());
    }
    for ((a, b), why) in &g.edges {
        let r = root(&mut parent, a);
        if let Some(ring) = groups.get_mut(r) {
            for w in why {
                ring.links.push((a.clone(), b.clone(), (*w).to_owned()));
            }
        }
    }
    let mut out: Vec<Ring> = groups.into_values().collect();
    out.sort_by(|x, y| {
        y.members
            .len()
            .cmp(&x.members.len())
            .then(x.members.cmp(&y.members))
    });
    out
}

fn at_limit_share(sales: &[Sale], person: &str, s: &RingSettings) -> f64 {
    let lines: Vec<&Line> = sales
        .iter()
        .filter(|x| x.person == person)
        .flat_map(|x| &x.lines)
        .collect();
    if lines.is_empty() {
        return 0.0;
    }
    let at = lines
        .iter()
        .filter(|l| {
            l.limit
                .filter(|m| *m > Decimal::ZERO)
                .is_some_and(|m| f64::try_from(l.quantity / m).unwrap_or(0.0) >= s.limit_share)
        })
        .count();
    at as f64 / lines.len() as f64
}
