//! Each role's home: what the user works on first. Customs sees the open alerts and the ports'
//! modes; an enterprise its declarations; an operator its shops' sales today; a carrier how it
//! reports departures.

use askama::Template;
use askama_web::WebTemplate;
use axum::response::{IntoResponse, Response};
use freeport_app::AppResult;
use freeport_core::quota_ledger::SaleState;
use freeport_risk::governance::AlertState;

use crate::pages::Frame;
use crate::{Console, Viewer};

/// Rows a home lists at most.
const ROWS: i64 = 50;

pub(crate) struct AlertLine {
    raised_on: String,
    kind: String,
    subject: String,
}

pub(crate) struct PortLine {
    code: String,
    name: String,
    mode: Option<String>,
    since: String,
}

/// A mode an administrator may choose, labelled in the page's language.
pub(crate) struct ModeChoice {
    code: String,
    label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "monitoring.html")]
struct Monitoring {
    frame: Frame,
    open_alerts: i64,
    alerts: Vec<AlertLine>,
    ports: Vec<PortLine>,
    /// The administrator's form to change a port's mode; none for a role without the right.
    modes: Option<Vec<ModeChoice>>,
    /// What the last change said, when it was refused.
    problem: Option<String>,
}

fn day_of_ms(ms: i64) -> String {
    freeport_app::clock::zone_day(ms).to_string()
}

/// A mode's label: the console's words for the Hainan pack's modes, else the pack's title.
fn mode_label(lang: crate::i18n::Lang, code: &str, title: &str) -> String {
    match lang.t(&format!("mode_{code}")) {
        "??" => title.to_owned(),
        label => label.to_owned(),
    }
}

pub(crate) async fn monitoring(
    console: &Console,
    v: &Viewer,
    frame: Frame,
    problem: Option<String>,
) -> AppResult<Response> {
    let p = &console.platform;
    let open = freeport_app::alerts::alerts(p, &v.actor, Some(AlertState::Open), "", ROWS).await?;
    let today = freeport_app::second_line::ports_today(p).await?;
    let zh = frame.lang == crate::i18n::Lang::Zh;
    let ports = today
        .ports
        .iter()
        .filter(|port| port.second_line)
        .map(|port| {
            let mode = today.in_force.iter().find(|m| m.port == port.code);
            PortLine {
                code: port.code.clone(),
                name: if zh {
                    port.name_zh.clone()
                } else {
                    port.name.clone()
                },
                mode: mode.map(|m| {
                    let title = today
                        .modes
                        .iter()
                        .find(|x| x.code == m.mode)
                        .map_or(m.mode.as_str(), |x| x.title.as_str());
                    mode_label(frame.lang, &m.mode, title)
                }),
                since: mode.map(|m| day_of_ms(m.since_ms)).unwrap_or_default(),
            }
        })
        .collect();
    let modes = v
        .actor
        .require(freeport_app::Permission::SetPortMode)
        .is_ok()
        .then(|| {
            today
                .modes
                .iter()
                .map(|m| ModeChoice {
                    code: m.code.clone(),
                    label: mode_label(frame.lang, &m.code, &m.title),
                })
                .collect()
        });
    Ok(Monitoring {
        modes,
        problem,
        frame,
        open_alerts: i64::try_from(open.len()).unwrap_or(i64::MAX),
        alerts: open
            .into_iter()
            .rev()
            .map(|a| AlertLine {
                raised_on: a.raised_on,
                kind: a.kind,
                subject: a.subject,
            })
            .collect(),
        ports,
    }
    .into_response())
}

pub(crate) struct DeclarationLine {
    reference: String,
    flow: String,
    declared_on: String,
    status: String,
    lane: String,
    payable_fen: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "enterprise.html")]
struct Enterprise {
    frame: Frame,
    declarations: Vec<DeclarationLine>,
}

pub(crate) async fn enterprise(console: &Console, v: &Viewer, frame: Frame) -> AppResult<Response> {
    let rows =
        freeport_app::declarations::declarations(&console.platform, &v.actor, "", ROWS).await?;
    Ok(Enterprise {
        frame,
        declarations: rows
            .into_iter()
            .map(|d| DeclarationLine {
                reference: d.reference,
                flow: d.flow,
                declared_on: d.declared_on,
                status: d.status.as_str().to_owned(),
                lane: d.lane.unwrap_or_default(),
                payable_fen: d.payable_total_fen,
            })
            .collect(),
    }
    .into_response())
}

pub(crate) struct ShopLine {
    name: String,
    location: String,
    committed: i64,
    net_fen: i64,
    pending: i64,
    refused: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "shops.html")]
struct Shops {
    frame: Frame,
    today: String,
    shops: Vec<ShopLine>,
}

pub(crate) async fn shops(console: &Console, v: &Viewer, frame: Frame) -> AppResult<Response> {
    let p = &console.platform;
    let today = p.today();
    let mut lines = Vec::new();
    for shop in freeport_app::duty_free::shops(p, &v.actor, "", ROWS).await? {
        let days =
            freeport_app::duty_free::daily_sales(p, &v.actor, &shop.id, (today, today)).await?;
        let mut line = ShopLine {
            name: shop.name,
            location: shop.location,
            committed: 0,
            net_fen: 0,
            pending: 0,
            refused: 0,
        };
        for d in days {
            match d.state {
                SaleState::Committed => {
                    line.committed += d.count;
                    line.net_fen += d.total_fen - d.returned_fen;
                }
                SaleState::Pending => line.pending += d.count,
                SaleState::Refused => line.refused += d.count,
                SaleState::Voided | SaleState::Expired => {}
            }
        }
        lines.push(line);
    }
    Ok(Shops {
        frame,
        today: today.to_string(),
        shops: lines,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "departures.html")]
struct Departures {
    frame: Frame,
}

pub(crate) fn departures(frame: Frame) -> AppResult<Response> {
    Ok(Departures { frame }.into_response())
}

/// A piece as an officer or its shop's operator sees it by number (R4.9).
pub(crate) struct Traced {
    state_key: &'static str,
    person_code: String,
    shop: String,
    sale_id: String,
    line: i64,
    sold_on: String,
    departure: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "item.html")]
struct ItemPage {
    frame: Frame,
    code: String,
    found: Option<Traced>,
    problem: Option<&'static str>,
}

fn state_key(state: freeport_core::trace::ItemState) -> &'static str {
    use freeport_core::trace::ItemState::*;
    match state {
        Reserved => "item_reserved",
        Sold => "item_sold",
        HandedOver => "item_handed_over",
        Departed => "item_departed",
        Returned => "item_returned",
    }
}

/// The item-trace page: empty, or the piece `code` names. A number nobody may see here (another
/// operator's, or none) reads as not found, as in the API.
pub(crate) async fn item(
    console: &Console,
    v: &Viewer,
    frame: Frame,
    code: Option<String>,
) -> AppResult<Response> {
    let code = code.unwrap_or_default().trim().to_owned();
    let (found, problem) = if code.is_empty() {
        (None, None)
    } else {
        match freeport_app::trace::item(&console.platform, &v.actor, &code).await {
            Ok(t) => (
                Some(Traced {
                    state_key: state_key(t.item.state),
                    person_code: t.record.person_code.clone(),
                    shop: t.sale.shop.clone(),
                    sale_id: t.sale.id.clone(),
                    line: t.item.line,
                    sold_on: t.sale.sold_on.clone(),
                    departure: t.departure.map(|d| {
                        format!(
                            "{} {} · {} · {}",
                            d.kind.as_str(),
                            d.means,
                            d.port,
                            d.departure_on
                        )
                    }),
                }),
                None,
            ),
            Err(freeport_app::AppError::NotFound(_)) => (None, Some("no_item")),
            Err(e) => return Err(e),
        }
    };
    let status = if problem.is_some() {
        axum::http::StatusCode::NOT_FOUND
    } else {
        axum::http::StatusCode::OK
    };
    Ok((
        status,
        ItemPage {
            frame,
            code,
            found,
            problem,
        },
    )
        .into_response())
}

/// What a traveller may still buy, as the till or customs reads it.
pub(crate) struct AllowanceLines {
    year: i32,
    annual_fen: i64,
    spent_fen: i64,
    reserved_fen: i64,
    remaining_fen: i64,
    resident_remaining_fen: Option<i64>,
    departure_on_record: bool,
    banned_until: Option<String>,
    dishonest_until: Option<String>,
    /// (category, limit, taken, remaining), in the category's limit unit.
    categories: Vec<(String, String, String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "allowance.html")]
struct AllowancePage {
    frame: Frame,
    departure_on: String,
    found: Option<AllowanceLines>,
    problem: Option<String>,
}

/// A document and a departure day, as the page's form gives them.
pub(crate) struct AllowanceAsk {
    pub(crate) kind: String,
    pub(crate) number: String,
    pub(crate) issuing_country: String,
    pub(crate) departure_on: String,
}

fn lines_of(a: freeport_app::duty_free::Allowance) -> AllowanceLines {
    use freeport_core::money::Cny;
    let dec = |d: rust_decimal::Decimal| d.normalize().to_string();
    AllowanceLines {
        year: a.year,
        annual_fen: a.annual_quota.fen(),
        spent_fen: a.spent.fen(),
        reserved_fen: a.reserved.fen(),
        remaining_fen: (a.annual_quota - a.spent - a.reserved).max(Cny::ZERO).fen(),
        resident_remaining_fen: a
            .resident_quota
            .map(|(annual, spent, reserved)| (annual - spent - reserved).max(Cny::ZERO).fen()),
        departure_on_record: a.departure_on_record.unwrap_or(false),
        banned_until: a.banned_until,
        dishonest_until: a.dishonest_until,
        categories: a
            .categories
            .into_iter()
            .map(|(c, limit, taken)| {
                let left = (limit - taken).max(rust_decimal::Decimal::ZERO);
                (c, dec(limit), dec(taken), dec(left))
            })
            .collect(),
    }
}

/// The allowance page: empty, or a traveller's quotas for a departure. Bad input shows the page
/// again with the reason, as the API names it.
pub(crate) async fn allowance(
    console: &Console,
    v: &Viewer,
    frame: Frame,
    ask: Option<AllowanceAsk>,
) -> AppResult<Response> {
    let Some(ask) = ask else {
        let page = AllowancePage {
            departure_on: console.platform.today().to_string(),
            frame,
            found: None,
            problem: None,
        };
        return Ok(page.into_response());
    };
    let parsed = freeport_core::identity::PersonDocument::parse(
        &ask.kind,
        ask.number.trim(),
        Some(ask.issuing_country.trim()).filter(|c| !c.is_empty()),
    )
    .and_then(|d| {
        freeport_core::calendar::parse_day("departure_on", &ask.departure_on).map(|day| (d, day))
    });
    let (found, problem) = match parsed {
        Err(e) => (None, Some(e.to_string())),
        Ok((document, day)) => {
            match freeport_app::duty_free::allowance(&console.platform, &v.actor, &document, day)
                .await
            {
                Ok(a) => (Some(lines_of(a)), None),
                Err(freeport_app::AppError::Invalid(e)) => (None, Some(e.to_string())),
                Err(e) => return Err(e),
            }
        }
    };
    let status = if problem.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let page = AllowancePage {
        frame,
        departure_on: ask.departure_on,
        found,
        problem,
    };
    Ok((status, page).into_response())
}
