//! The detector's files, so it can be run on data it has never seen (`freeport duty-free detect`).
//!
//! The formats are documented in `docs/reference/proxy-buying.md`. `sales.csv`, one row per sale
//! line, the sale's columns repeated on each of its lines:
//!
//! | column | meaning |
//! |---|---|
//! | `sale_id` | the sale |
//! | `person` | the buyer's person code (any opaque token) |
//! | `sold_on`, `departure_on` | `YYYY-MM-DD`: the sale's day, the departure day the buyer declared |
//! | `departure_means` | the flight, train or ship declared (may be empty) |
//! | `collector` | who took delivery when not the buyer (may be empty) |
//! | `phone`, `payment_account`, `delivery_address`, `device` | link codes or any opaque tokens (may be empty) |
//! | `category`, `quantity`, `limit` | the line: category, quantity in its limit unit, and the category's per-departure limit (empty when none) |
//!
//! `departures.csv`: `person`, `departed_on` (`YYYY-MM-DD`), `means`.

use std::collections::BTreeMap;

use freeport_core::buyer_links::LinkKind;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Departure, Line, Sale};

#[derive(Debug, thiserror::Error)]
#[error("{file} line {line}: {reason}")]
pub struct FileError {
    pub file: &'static str,
    pub line: usize,
    pub reason: String,
}

#[derive(Deserialize, Serialize)]
struct SaleRow {
    sale_id: String,
    person: String,
    sold_on: String,
    departure_on: String,
    departure_means: String,
    collector: String,
    phone: String,
    payment_account: String,
    delivery_address: String,
    device: String,
    category: String,
    quantity: String,
    limit: String,
}

#[derive(Deserialize, Serialize)]
struct DepartureRow {
    person: String,
    departed_on: String,
    means: String,
}

fn day(file: &'static str, line: usize, text: &str) -> Result<time::Date, FileError> {
    freeport_core::calendar::parse_day("day", text).map_err(|_| FileError {
        file,
        line,
        reason: format!("{text:?} is not a YYYY-MM-DD day"),
    })
}

fn decimal(file: &'static str, line: usize, text: &str) -> Result<Decimal, FileError> {
    text.parse().map_err(|_| FileError {
        file,
        line,
        reason: format!("{text:?} is not a decimal number"),
    })
}

/// Sales from `sales.csv`, lines gathered under their sale in file order.
pub fn read_sales(text: &str) -> Result<Vec<Sale>, FileError> {
    const FILE: &str = "sales.csv";
    let mut out: Vec<Sale> = Vec::new();
    let mut at: BTreeMap<String, usize> = BTreeMap::new();
    for (i, row) in csv::Reader::from_reader(text.as_bytes())
        .deserialize::<SaleRow>()
        .enumerate()
    {
        let line = i + 2;
        let r = row.map_err(|e| FileError {
            file: FILE,
            line,
            reason: e.to_string(),
        })?;
        let item = Line {
            category: r.category.clone(),
            quantity: decimal(FILE, line, &r.quantity)?,
            limit: (!r.limit.is_empty())
                .then(|| decimal(FILE, line, &r.limit))
                .transpose()?,
        };
        if let Some(k) = at.get(&r.sale_id) {
            out[*k].lines.push(item);
            continue;
        }
        let opt = |t: &str| (!t.is_empty()).then(|| t.to_owned());
        let links = [
            (LinkKind::Phone, &r.phone),
            (LinkKind::PaymentAccount, &r.payment_account),
            (LinkKind::DeliveryAddress, &r.delivery_address),
            (LinkKind::Device, &r.device),
        ]
        .into_iter()
        .filter(|(_, t)| !t.is_empty())
        .map(|(k, t)| (k, t.clone()))
        .collect();
        at.insert(r.sale_id.clone(), out.len());
        out.push(Sale {
            id: r.sale_id,
            sold_on: day(FILE, line, &r.sold_on)?,
            departure_on: day(FILE, line, &r.departure_on)?,
            person: r.person,
            lines: vec![item],
            links,
            collector: opt(&r.collector),
            departure_means: opt(&r.departure_means),
        });
    }
    Ok(out)
}

pub fn read_departures(text: &str) -> Result<Vec<Departure>, FileError> {
    const FILE: &str = "departures.csv";
    csv::Reader::from_reader(text.as_bytes())
        .deserialize::<DepartureRow>()
        .enumerate()
        .map(|(i, row)| {
            let r = row.map_err(|e| FileError {
                file: FILE,
                line: i + 2,
                reason: e.to_string(),
            })?;
            Ok(Departure {
                departed_on: day(FILE, i + 2, &r.departed_on)?,
                person: r.person,
                means: r.means,
            })
        })
        .collect()
}

pub fn write_sales(sales: &[Sale]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for s in sales {
        let link = |k: LinkKind| s.links.get(&k).cloned().unwrap_or_default();
        for l in &s.lines {
            let _ = w.serialize(SaleRow {
                sale_id: s.id.clone(),
                person: s.person.clone(),
                sold_on: s.sold_on.to_string(),
                departure_on: s.departure_on.to_string(),
                departure_means: s.departure_means.clone().unwrap_or_default(),
                collector: s.collector.clone().unwrap_or_default(),
                phone: link(LinkKind::Phone),
                payment_account: link(LinkKind::PaymentAccount),
                delivery_address: link(LinkKind::DeliveryAddress),
                device: link(LinkKind::Device),
                category: l.category.clone(),
                quantity: l.quantity.to_string(),
                limit: l.limit.map(|m| m.to_string()).unwrap_or_default(),
            });
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

pub fn write_departures(departures: &[Departure]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for d in departures {
        let _ = w.serialize(DepartureRow {
            person: d.person.clone(),
            departed_on: d.departed_on.to_string(),
            means: d.means.clone(),
        });
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
