//! A seeded island of duty-free buyers with proxy-buying rings of known shapes injected, to measure
//! the detector on: ordinary travellers (families sharing an address, now and then a device;
//! legitimate tour groups on one flight; frequent flyers; departure records that go missing), and
//! rings that share a phone or a payment account, buyers one collector takes delivery for, recruited
//! tour groups with near-identical baskets at the limits, and buyers who never depart. The same
//! seed gives the same island.

use std::collections::BTreeMap;

use freeport_core::buyer_links::LinkKind;
use rust_decimal::Decimal;
use serde::Serialize;
use time::Date;

use super::{Departure, Line, Sale};

/// What a generated buyer truly is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    Ordinary,
    SharedLink,
    Collector,
    TourBaskets,
    NeverDeparts,
}

impl Shape {
    pub const INJECTED: [Shape; 4] = [
        Shape::SharedLink,
        Shape::Collector,
        Shape::TourBaskets,
        Shape::NeverDeparts,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Shape::Ordinary => "ordinary",
            Shape::SharedLink => "shared_link",
            Shape::Collector => "collector",
            Shape::TourBaskets => "tour_baskets",
            Shape::NeverDeparts => "never_departed",
        }
    }
}

/// How big an island: ordinary buyers, and rings (or never-departing buyers) of each shape.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub ordinary: usize,
    pub rings_per_shape: usize,
}

pub struct Island {
    pub sales: Vec<Sale>,
    pub departures: Vec<Departure>,
    pub truth: BTreeMap<String, Shape>,
    /// The day the detector looks from: a month after the last sale.
    pub as_of: Date,
}

/// SplitMix64: small, seedable, the same everywhere.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// In `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Percent of ring members who evade the shape's mark: a real ring is not uniform, and a detector
/// that catches every generated member would say more about the generator than about rings.
const EVADES: u64 = 5;

/// The categories and their per-departure limits (R4.4: cosmetics 30, phones 4, alcohol 1 500 ml).
const CATEGORIES: [(&str, Option<u64>); 6] = [
    ("cosmetics", Some(30)),
    ("mobile_phones", Some(4)),
    ("alcohol", Some(1500)),
    ("watches", None),
    ("handbags", None),
    ("jewellery", None),
];

fn line(category: usize, quantity: u64) -> Line {
    let (name, limit) = CATEGORIES[category];
    Line {
        category: name.to_owned(),
        quantity: Decimal::from(quantity),
        limit: limit.map(Decimal::from),
    }
}

struct Builder {
    draw: Draw,
    start: Date,
    island: Island,
    next_sale: usize,
}

impl Builder {
    fn day(&mut self) -> Date {
        self.start + time::Duration::days(i64::try_from(self.draw.range(0, 58)).unwrap_or(0))
    }

    fn own_links(&mut self, person: &str) -> BTreeMap<LinkKind, String> {
        [
            (LinkKind::Phone, format!("phone-{person}")),
            (LinkKind::PaymentAccount, format!("pay-{person}")),
            (LinkKind::Device, format!("device-{person}")),
            (LinkKind::DeliveryAddress, format!("home-{person}")),
        ]
        .into()
    }

    /// A sale for `person`, made and leaving as `trip` says (sale day, departure day, means).
    fn sale(
        &mut self,
        person: &str,
        (sold_on, departure_on, means): (Date, Date, &str),
        lines: Vec<Line>,
        links: BTreeMap<LinkKind, String>,
        collector: Option<String>,
    ) {
        self.next_sale += 1;
        self.island.sales.push(Sale {
            id: format!("S{:07}", self.next_sale),
            person: person.to_owned(),
            sold_on,
            departure_on,
            lines,
            links,
            collector,
            departure_means: Some(means.to_owned()),
        });
    }

    fn depart(&mut self, person: &str, day: Date, means: &str) {
        self.island.departures.push(Departure {
            person: person.to_owned(),
            departed_on: day,
            means: means.to_owned(),
        });
    }

    /// An ordinary basket: one to three categories, modest quantities.
    fn ordinary_basket(&mut self) -> Vec<Line> {
        let n = self.draw.range(1, 3);
        let mut lines: Vec<Line> = Vec::new();
        for _ in 0..n {
            let c = usize::try_from(self.draw.range(0, 5)).unwrap_or(0);
            if lines.iter().any(|l| l.category == CATEGORIES[c].0) {
                continue;
            }
            let q = match CATEGORIES[c].1 {
                Some(limit) => self.draw.range(1, limit.min(30)),
                None => self.draw.range(1, 2),
            };
            lines.push(line(c, q));
        }
        lines
    }

    /// A reseller's basket: cosmetics and phones at or just under their limits.
    fn resale_basket(&mut self) -> Vec<Line> {
        vec![line(0, self.draw.range(28, 30)), line(1, 4)]
    }

    fn ordinary(&mut self, n: usize) {
        let mut i = 0;
        while i < n {
            // A fifth come as families sharing an address; one family in twenty shares a device too.
            let family = if self.draw.chance(20) {
                self.draw.range(2, 4) as usize
            } else {
                1
            };
            let shared_device = family > 1 && self.draw.chance(5);
            let home = format!("home-family-{i}");
            for member in 0..family.min(n - i) {
                let person = format!("P{:06}", i + member);
                let mut links = self.own_links(&person);
                if family > 1 {
                    links.insert(LinkKind::DeliveryAddress, home.clone());
                    if shared_device {
                        links.insert(LinkKind::Device, format!("device-family-{i}"));
                    }
                }
                self.island.truth.insert(person.clone(), Shape::Ordinary);
                self.ordinary_trips(&person, links);
            }
            i += family;
        }
    }

    fn ordinary_trips(&mut self, person: &str, links: BTreeMap<LinkKind, String>) {
        // One trip in most cases; a frequent flyer now and then.
        let trips = if self.draw.chance(2) {
            self.draw.range(3, 4)
        } else {
            self.draw.range(1, 2)
        };
        let first = self.day();
        for t in 0..trips {
            let sold_on = first + time::Duration::days(i64::try_from(t * 8).unwrap_or(0));
            let departure_on =
                sold_on + time::Duration::days(i64::try_from(self.draw.range(0, 5)).unwrap_or(0));
            // Ordinary tour groups: many on a few flights, with baskets of their own.
            let means = format!("HU{:04}", self.draw.range(1, 400));
            let basket = self.ordinary_basket();
            self.sale(
                person,
                (sold_on, departure_on, &means),
                basket,
                links.clone(),
                None,
            );
            // A departure record goes missing now and then.
            if !self.draw.chance(2) {
                self.depart(person, departure_on, &means);
            }
        }
    }

    /// A trip: a sale day, a departure `lo..=hi` days later, and a flight.
    fn trip(&mut self, lo: u64, hi: u64) -> (Date, Date, String) {
        let sold_on = self.day();
        // A fixed gap draws nothing, so that an island's draws stay what they were.
        let gap = if lo == hi {
            lo
        } else {
            self.draw.range(lo, hi)
        };
        let days = i64::try_from(gap).unwrap_or(0);
        let means = format!("HU{:04}", self.draw.range(1, 400));
        (sold_on, sold_on + time::Duration::days(days), means)
    }

    /// A ring member's purchase: the buyer's shape, the sale and, unless it never departs, the
    /// departure.
    fn member(&mut self, person: &str, shape: Shape, trip: (Date, Date, String), p: Purchase) {
        self.island.truth.insert(person.to_owned(), shape);
        let (sold_on, departure_on, means) = trip;
        self.sale(
            person,
            (sold_on, departure_on, &means),
            p.basket,
            p.links,
            p.collector,
        );
        if shape != Shape::NeverDeparts {
            self.depart(person, departure_on, &means);
        }
    }

    fn shared_link_rings(&mut self, rings: usize) {
        for r in 0..rings {
            let size = self.draw.range(4, 8);
            let (kind, token) = if r % 2 == 0 {
                (LinkKind::Phone, format!("phone-ring-{r}"))
            } else {
                (LinkKind::PaymentAccount, format!("pay-ring-{r}"))
            };
            for m in 0..size {
                let person = format!("R{r:03}-{m}");
                let mut links = self.own_links(&person);
                // Now and then a member keeps a phone and an account of their own and shares only
                // the ring's device: a soft link alone, which the detector does not follow.
                if self.draw.chance(EVADES) {
                    links.insert(LinkKind::Device, format!("device-ring-{r}"));
                } else {
                    links.insert(kind, token.clone());
                }
                let trip = self.trip(1, 1);
                let basket = self.resale_basket();
                self.member(
                    &person,
                    Shape::SharedLink,
                    trip,
                    Purchase {
                        basket,
                        links,
                        collector: None,
                    },
                );
            }
        }
    }

    fn collector_rings(&mut self, rings: usize) {
        for r in 0..rings {
            let collector = format!("C{r:03}");
            self.island
                .truth
                .insert(collector.clone(), Shape::Collector);
            for m in 0..self.draw.range(5, 10) {
                let person = format!("C{r:03}-{m}");
                let links = self.own_links(&person);
                let trip = self.trip(0, 3);
                let basket = self.resale_basket();
                // Now and then a buyer collects the goods in person, the collector out of sight.
                let collector = (!self.draw.chance(EVADES)).then(|| collector.clone());
                self.member(
                    &person,
                    Shape::Collector,
                    trip,
                    Purchase {
                        basket,
                        links,
                        collector,
                    },
                );
            }
        }
    }

    fn tour_groups(&mut self, groups: usize) {
        for r in 0..groups {
            let sold_on = self.day();
            let departure_on = sold_on + time::Duration::days(2);
            let means = format!("TOUR{r:03}");
            for m in 0..self.draw.range(5, 10) {
                let person = format!("T{r:03}-{m}");
                let links = self.own_links(&person);
                // Now and then a recruit is told to buy something else.
                let basket = if self.draw.chance(EVADES) {
                    self.ordinary_basket()
                } else {
                    self.resale_basket()
                };
                let trip = (sold_on, departure_on, means.clone());
                self.member(
                    &person,
                    Shape::TourBaskets,
                    trip,
                    Purchase {
                        basket,
                        links,
                        collector: None,
                    },
                );
            }
        }
    }

    fn never_departing(&mut self, n: usize) {
        for k in 0..n {
            let person = format!("N{k:04}");
            let links = self.own_links(&person);
            let trip = self.trip(0, 5);
            let basket = self.resale_basket();
            self.member(
                &person,
                Shape::NeverDeparts,
                trip,
                Purchase {
                    basket,
                    links,
                    collector: None,
                },
            );
        }
    }
}

/// What a generated buyer buys, with what, and who collects it.
struct Purchase {
    basket: Vec<Line>,
    links: BTreeMap<LinkKind, String>,
    collector: Option<String>,
}

/// The island of `seed` at `scale`: two months of sales from 1 January 2026.
pub fn island(seed: u64, scale: Scale) -> Island {
    let start = time::macros::date!(2026 - 01 - 01);
    let mut b = Builder {
        draw: Draw(seed),
        start,
        island: Island {
            sales: Vec::new(),
            departures: Vec::new(),
            truth: BTreeMap::new(),
            as_of: time::macros::date!(2026 - 03 - 31),
        },
        next_sale: 0,
    };
    b.ordinary(scale.ordinary);
    b.shared_link_rings(scale.rings_per_shape);
    b.collector_rings(scale.rings_per_shape);
    b.tour_groups(scale.rings_per_shape);
    b.never_departing(scale.rings_per_shape * 5);
    b.island
}
