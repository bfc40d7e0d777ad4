//! The second line in operation: the ports of the pack, a red-lane declaration's scan, and the
//! crossing recorded at a channel (gate-out). Release at the port itself happens as the
//! declaration is decided (`deciding::port_step`).

use freeport_core::lifecycle::DeclarationStatus;
use freeport_core::port::Port;
use freeport_store::{IdempotencyRecord, NewAlert, NewCrossing};
use serde_json::json;

use crate::lifecycle::{Answer, Transitioned, commit, plain, refused, visible_declaration};
use crate::{Actor, AppError, AppResult, Permission, Platform};

/// The ports of the pack version in force today, the degraded modes it documents, and the modes in
/// force.
#[derive(Debug, Clone)]
pub struct PortsToday {
    pub pack_version: String,
    pub ports: Vec<Port>,
    pub modes: Vec<freeport_core::port::EmergencyMode>,
    pub in_force: Vec<freeport_store::PortModeRow>,
}

/// The ports as they stand today.
pub async fn ports_today(platform: &Platform) -> AppResult<PortsToday> {
    let in_force = platform.store.port_modes().await?;
    let version = platform.pack.version_on(platform.today());
    Ok(PortsToday {
        pack_version: version.map(|v| v.id.clone()).unwrap_or_default(),
        ports: version.map(|v| v.ports.ports.clone()).unwrap_or_default(),
        modes: version.map(|v| v.ports.modes.clone()).unwrap_or_default(),
        in_force,
    })
}

/// An officer records a red-lane declaration's H986 scan: a scan that alerts sends the goods to
/// manual inspection, a clear one releases them (R2.4).
pub async fn record_scan(
    platform: &Platform,
    actor: &Actor,
    id: &str,
    alerted: bool,
    revision: i64,
    note: String,
    answer: Answer<'_>,
) -> AppResult<Transitioned> {
    actor.require(Permission::Examine)?;
    let row = visible_declaration(platform, actor, id).await?;
    if row.status != DeclarationStatus::AwaitingScan {
        return Err(refused(row.status, "is not awaiting a scan"));
    }
    let to = DeclarationStatus::after_scan(alerted);
    let note = format!(
        "scan {}{}{note}",
        if alerted { "alerted" } else { "clear" },
        if note.is_empty() { "" } else { ": " }
    );
    let t = plain(platform, actor, &row, row.status, to, revision, note);
    commit(platform, row, t, answer).await
}

/// A crossing at a channel, as recorded.
#[derive(Debug, Clone)]
pub struct Crossed {
    pub crossing: NewCrossing,
    /// The declaration shown, as it was read before the crossing.
    pub declaration: Option<freeport_store::DeclarationRow>,
    /// Why the crossing was not cleared, when it was not.
    pub uncleared_because: Option<String>,
}

/// What a channel reports: goods crossing, with the declaration they cross on (if the driver
/// showed one) and the means of transport.
#[derive(Debug, Clone)]
pub struct CrossingReport {
    pub port: String,
    pub channel: String,
    pub declaration_id: Option<String>,
    pub means: String,
}

/// Records goods crossing at a port's channel (gate-out). On a declaration released for this port
/// the crossing closes it (`exited`); goods crossing without one are recorded all the same (they
/// have crossed) and raise an `uncleared_crossing` alert naming why.
pub async fn record_crossing(
    platform: &Platform,
    actor: &Actor,
    report: CrossingReport,
    answer: impl FnOnce(&Crossed) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<Crossed> {
    actor.require(Permission::Examine)?;
    let today = platform.today();
    let (port, _) = known_channel(platform, &report.port, &report.channel)?;
    let declaration = match &report.declaration_id {
        Some(id) => match visible_declaration(platform, actor, id).await {
            Ok(row) => Some(row),
            Err(AppError::NotFound(_)) => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let uncleared_because = match (&report.declaration_id, &declaration) {
        (None, _) => Some("no declaration was shown".to_owned()),
        (Some(id), None) => Some(format!("declaration {id} does not exist")),
        (Some(_), Some(row)) if row.port.as_deref() != Some(port.code.as_str()) => Some(format!(
            "the declaration crosses at {}, not here",
            row.port.as_deref().unwrap_or("no port")
        )),
        (Some(_), Some(row)) if !row.status.may_cross() => {
            Some(format!("the declaration is {}, not released", row.status))
        }
        _ => None,
    };
    let id = uuid::Uuid::now_v7().to_string();
    let now_ms = platform.now_ms();
    let alert = uncleared_because.as_ref().map(|why| NewAlert {
        id: uuid::Uuid::now_v7().to_string(),
        dedupe_key: format!("uncleared_crossing:{id}"),
        kind: "uncleared_crossing".to_owned(),
        subject: format!(
            "goods crossed at {} without a released declaration",
            report.channel
        ),
        enterprise: declaration.as_ref().map(|r| r.enterprise.clone()),
        declaration_id: declaration.as_ref().map(|r| r.id.clone()),
        person_code: None,
        raised_on: today.to_string(),
        details_json: json!({
            "port": port.code,
            "channel": report.channel,
            "means": report.means,
            "declaration": report.declaration_id,
            "why": why,
        })
        .to_string(),
    });
    let mut crossed = Crossed {
        crossing: NewCrossing {
            id,
            port: port.code.clone(),
            channel: report.channel,
            declaration_id: declaration.as_ref().map(|r| r.id.clone()),
            cleared_revision: declaration
                .as_ref()
                .filter(|_| uncleared_because.is_none())
                .map(|r| r.revision),
            means: report.means,
            actor: actor.user_id.clone(),
            alert,
            idempotency: None,
            now_ms,
        },
        declaration,
        uncleared_because,
    };
    crossed.crossing.idempotency = answer(&crossed)?;
    platform.store.record_crossing(&crossed.crossing).await?;
    Ok(crossed)
}

/// Records a crossing; when the declaration shown changed meanwhile (another crossing closed it
/// first), the crossing is read again, and is then recorded as uncleared with its alert: goods that
/// crossed are never lost.
pub async fn record_crossing_surely(
    platform: &Platform,
    actor: &Actor,
    report: CrossingReport,
    mut answer: impl FnMut(&Crossed) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<Crossed> {
    match record_crossing(platform, actor, report.clone(), &mut answer).await {
        Err(AppError::Store(freeport_store::StoreError::Conflict(_))) => {
            record_crossing(platform, actor, report, &mut answer).await
        }
        other => other,
    }
}

/// A port's inspection load on a day, with its cargo channels'.
#[derive(Debug, Clone)]
pub struct PortLoadFigures {
    pub port: String,
    pub day: String,
    pub capacity: i64,
    /// `set` (by an administrator for the whole port) or `channels` (the sum of its working cargo
    /// channels').
    pub capacity_source: &'static str,
    pub admitted: i64,
    /// Red-lane declarations that capacity turned to documentary check.
    pub overflow: i64,
    /// Admitted declarations still waiting for their scan, oldest first, with their scores and
    /// booked channels.
    pub waiting: Vec<(String, rust_decimal::Decimal, Option<String>)>,
    pub channels: Vec<ChannelLoad>,
}

/// A cargo channel's inspection load on a day: the red lane of the declarations booked through it.
#[derive(Debug, Clone)]
pub struct ChannelLoad {
    pub channel: String,
    pub capacity: i64,
    /// `pack` or `set` (by an administrator).
    pub capacity_source: &'static str,
    pub admitted: i64,
    pub overflow: i64,
    /// The emergency mode in force at the channel, if any: it then lends the port no capacity.
    pub mode: Option<String>,
}

/// A port of the pack version in force today, or `NotFound`.
pub(crate) fn known_port<'p>(platform: &'p Platform, code: &str) -> AppResult<&'p Port> {
    platform
        .pack
        .version_on(platform.today())
        .and_then(|v| v.ports.port(code))
        .ok_or_else(|| AppError::NotFound(format!("no port {code:?}")))
}

/// A channel of a port in force today, or `NotFound`.
pub(crate) fn known_channel<'p>(
    platform: &'p Platform,
    port: &str,
    channel: &str,
) -> AppResult<(&'p Port, &'p freeport_core::port::Channel)> {
    let p = known_port(platform, port)?;
    let c = p
        .channel(channel)
        .ok_or_else(|| AppError::NotFound(format!("{} has no channel {channel:?}", p.name)))?;
    Ok((p, c))
}

/// `port`'s inspection load on `day` (the zone's today when absent), channel by channel: customs
/// only.
pub async fn port_load(
    platform: &Platform,
    actor: &Actor,
    port: &str,
    day: Option<time::Date>,
) -> AppResult<PortLoadFigures> {
    actor.require(Permission::ReadPortLoad)?;
    let p = known_port(platform, port)?;
    let day = day.unwrap_or_else(|| platform.today()).to_string();
    let row = day_of(platform, p, &day).await?;
    let modes = crate::deciding::active_modes(&row);
    let source = |place: &str, unset: &'static str| {
        if row.capacity_set.contains_key(place) {
            "set"
        } else {
            unset
        }
    };
    let channels = p
        .channels
        .iter()
        .filter(|c| c.kind == freeport_core::port::ChannelKind::Cargo)
        .map(|c| {
            let (admitted, overflow) = row.channels.get(&c.id).copied().unwrap_or_default();
            ChannelLoad {
                channel: c.id.clone(),
                capacity: freeport_core::port::channel_capacity(c, &row.capacity_set),
                capacity_source: source(&c.id, "pack"),
                admitted,
                overflow,
                mode: row.modes.get(&c.id).map(|m| m.mode.clone()),
            }
        })
        .collect();
    Ok(PortLoadFigures {
        port: p.code.clone(),
        capacity: freeport_core::port::port_capacity(p, &row.capacity_set, &modes),
        capacity_source: source(&p.code, "channels"),
        day,
        admitted: row.admitted,
        overflow: row.overflow,
        waiting: row
            .waiting
            .into_iter()
            .map(|q| {
                (
                    q.declaration_id,
                    rust_decimal::Decimal::new(q.score_milli, 3),
                    q.channel,
                )
            })
            .collect(),
        channels,
    })
}

/// A port's day as the store holds it, with its channels'.
pub(crate) async fn day_of(
    platform: &Platform,
    p: &Port,
    day: &str,
) -> AppResult<freeport_store::PortDayRow> {
    let channels: Vec<&str> = p.channels.iter().map(|c| c.id.as_str()).collect();
    Ok(platform.store.port_day(&p.code, &channels, day).await?)
}

/// Where an administrator sets a capacity or a mode: a port, or one of its cargo channels (named
/// in the request's `channel`).
fn place<'p>(platform: &'p Platform, port: &str, channel: Option<&str>) -> AppResult<Place<'p>> {
    use freeport_core::{FieldError, FieldErrorKind};
    let p = known_port(platform, port)?;
    let Some(id) = channel else {
        return Ok(Place {
            port: p,
            channel: None,
        });
    };
    match p.channel(id) {
        Some(c) if c.kind == freeport_core::port::ChannelKind::Cargo => Ok(Place {
            port: p,
            channel: Some(c),
        }),
        _ => Err(FieldError::new(
            "channel",
            FieldErrorKind::Unknown,
            format!("not a cargo channel of {}", p.name),
        )
        .into()),
    }
}

/// A port, or one of its channels.
#[derive(Debug, Clone, Copy)]
struct Place<'p> {
    port: &'p Port,
    channel: Option<&'p freeport_core::port::Channel>,
}

impl Place<'_> {
    /// The key its capacity and mode are kept under.
    fn key(&self) -> &str {
        self.channel.map_or(&self.port.code, |c| &c.id)
    }

    fn name(&self) -> String {
        match self.channel {
            Some(c) => format!("channel {} of {}", c.id, self.port.name),
            None => self.port.name.clone(),
        }
    }
}

/// An administrator sets the daily inspection capacity of a port, or of one of its cargo channels,
/// replacing the pack's (whose figures are placeholders the sources do not give). Audited.
pub async fn set_capacity(
    platform: &Platform,
    actor: &Actor,
    (port, channel): (&str, Option<&str>),
    capacity: u32,
    idempotency: Option<IdempotencyRecord>,
) -> AppResult<()> {
    actor.require(Permission::SetPortCapacity)?;
    let at = place(platform, port, channel)?;
    platform
        .store
        .set_port_capacity(
            at.key(),
            i64::from(capacity),
            &actor.user_id,
            platform.now_ms(),
            idempotency.as_ref(),
        )
        .await?;
    Ok(())
}

/// The time-release figures of a period.
#[derive(Debug, Clone)]
pub struct TimeRelease {
    pub from: time::Date,
    pub to: time::Date,
    pub by: freeport_core::time_release::GroupBy,
    pub targets: Option<freeport_core::time_release::ReleaseTargets>,
    pub groups: Vec<freeport_core::time_release::GroupFigures>,
    /// Declarations lodged in the period beyond what one answer reads (0 when all were read).
    pub truncated: bool,
}

/// Declarations one time-release answer reads at most.
pub const TIME_RELEASE_LIMIT: i64 = 200_000;

/// How long clearance took at the ports, per stage, for declarations lodged from `from` to `to`
/// (zone days, inclusive), grouped by `by`, against the pack's release targets (R2.4): customs
/// only.
pub async fn time_release(
    platform: &Platform,
    actor: &Actor,
    (from, to): (time::Date, time::Date),
    by: freeport_core::time_release::GroupBy,
) -> AppResult<TimeRelease> {
    use freeport_core::time_release::{Clearance, figures};
    actor.require(Permission::ReadPortLoad)?;
    let start = crate::clock::zone_day_start_ms(from);
    let end = crate::clock::zone_day_start_ms(to.next_day().unwrap_or(to));
    let rows = platform
        .store
        .clearances(start, end, TIME_RELEASE_LIMIT + 1)
        .await?;
    let truncated = rows.len() as i64 > TIME_RELEASE_LIMIT;
    let clearances: Vec<Clearance> = rows
        .into_iter()
        .take(TIME_RELEASE_LIMIT as usize)
        .map(|r| Clearance {
            port: r.port,
            channel: r.channel,
            lane: r.lane.unwrap_or_else(|| "none".to_owned()),
            flow: r.flow,
            credit_class: r.credit_class.unwrap_or_else(|| "none".to_owned()),
            lodged_ms: r.lodged_ms,
            released_ms: r.released_ms,
            exited_ms: r.exited_ms,
            inspected: r.inspected,
        })
        .collect();
    let targets = platform
        .pack
        .version_on(to)
        .and_then(|v| v.ports.release_targets);
    Ok(TimeRelease {
        from,
        to,
        by,
        groups: figures(&clearances, by, targets.as_ref()),
        targets,
        truncated,
    })
}

/// What setting a port's (or a channel's) mode did: the mode now in force (or normal), and on a
/// return to normal the mode that ended with the declarations decided in it, to be regularised.
#[derive(Debug, Clone)]
pub struct ModeChange {
    pub port: String,
    pub channel: Option<String>,
    pub now: Option<freeport_store::PortModeRow>,
    pub ended: Option<freeport_store::PortModeRow>,
    pub to_regularise: Vec<freeport_store::DeclarationRow>,
}

/// What an administrator asks of a port's mode.
#[derive(Debug, Clone)]
pub struct ModeRequest<'a> {
    pub port: &'a str,
    /// One of the port's cargo channels, for a mode at that channel alone.
    pub channel: Option<&'a str>,
    /// One of the pack's modes, or `normal`.
    pub mode: &'a str,
    pub reason: &'a str,
    /// Where to cross instead of a closed port (another second-line port) or a closed channel
    /// (another cargo channel of the port).
    pub reroute_to: Option<String>,
}

/// An administrator puts a port, or one of its cargo channels, in one of the pack's emergency
/// modes, or returns it to normal (`"normal"`), with a reason; each change is audited with who,
/// why and when. A closed port or channel names where to cross instead (`reroute_to`).
pub async fn set_mode(
    platform: &Platform,
    actor: &Actor,
    request: ModeRequest<'_>,
    answer: impl FnOnce(&ModeChange) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<ModeChange> {
    use freeport_core::{FieldError, FieldErrorKind};
    actor.require(Permission::SetPortMode)?;
    let at = place(platform, request.port, request.channel)?;
    let reason = request.reason.trim();
    if reason.is_empty() {
        return Err(FieldError::new("reason", FieldErrorKind::Missing, "say why").into());
    }
    let now_ms = platform.now_ms();
    if request.mode == "normal" {
        return return_to_normal(platform, actor, at, reason, answer).await;
    }
    if let Some(current) = platform.store.port_mode(at.key()).await? {
        // One mode at a time: ending one lists what it left to regularise.
        return Err(AppError::InvalidTransition(format!(
            "{} is in {} since {}: return it to normal first",
            at.name(),
            current.mode,
            current.since_ms
        )));
    }
    let version = platform
        .pack
        .version_on(platform.today())
        .ok_or_else(|| AppError::NotFound("no such port".into()))?;
    let m = version.ports.mode(request.mode).ok_or_else(|| {
        let names: Vec<&str> = version
            .ports
            .modes
            .iter()
            .map(|m| m.code.as_str())
            .collect();
        FieldError::new(
            "mode",
            FieldErrorKind::Unknown,
            format!("normal or one of {}", names.join(", ")),
        )
    })?;
    let reroute_to = checked_reroute(platform, at, m.effect, request.reroute_to)?;
    let row = freeport_store::PortModeRow {
        port: at.key().to_owned(),
        mode: m.code.clone(),
        reroute_to,
        reason: reason.to_owned(),
        actor: actor.user_id.clone(),
        since_ms: now_ms,
    };
    let change = ModeChange {
        port: at.port.code.clone(),
        channel: at.channel.map(|c| c.id.clone()),
        now: Some(row),
        ended: None,
        to_regularise: Vec::new(),
    };
    let record = answer(&change)?;
    if let Some(row) = &change.now {
        platform.store.set_port_mode(row, record.as_ref()).await?;
    }
    Ok(change)
}

/// Returns a port or a channel to normal: the mode in force ends, and the declarations decided in
/// it are listed for regularisation, with the audit entry.
async fn return_to_normal(
    platform: &Platform,
    actor: &Actor,
    at: Place<'_>,
    reason: &str,
    answer: impl FnOnce(&ModeChange) -> AppResult<Option<IdempotencyRecord>>,
) -> AppResult<ModeChange> {
    let ended = platform.store.port_mode(at.key()).await?.ok_or_else(|| {
        AppError::InvalidTransition(format!("{} is in normal operation", at.name()))
    })?;
    let to_regularise = platform.store.decided_in_mode(&ended).await?;
    let ids: Vec<String> = to_regularise.iter().map(|d| d.id.clone()).collect();
    let change = ModeChange {
        port: at.port.code.clone(),
        channel: at.channel.map(|c| c.id.clone()),
        now: None,
        ended: Some(ended.clone()),
        to_regularise,
    };
    let record = answer(&change)?;
    platform
        .store
        .end_port_mode(
            &ended,
            &ids,
            &actor.user_id,
            reason,
            platform.now_ms(),
            record.as_ref(),
        )
        .await?;
    Ok(change)
}

/// Where a closed place sends declarations: for a port, another second-line port; for a channel,
/// another cargo channel of the same port. Required for a rerouting mode and refused for any other.
fn checked_reroute(
    platform: &Platform,
    at: Place<'_>,
    effect: freeport_core::port::ModeEffect,
    reroute_to: Option<String>,
) -> AppResult<Option<String>> {
    use freeport_core::port::{ChannelKind, ModeEffect};
    use freeport_core::{FieldError, FieldErrorKind};
    let field = "reroute_to";
    match (effect, reroute_to) {
        (ModeEffect::Reroute, Some(to)) => {
            let (known, open) = match at.channel {
                Some(c) => {
                    let other = at.port.channel(&to);
                    (
                        other.is_some(),
                        other.is_some_and(|o| o.kind == ChannelKind::Cargo && o.id != c.id),
                    )
                }
                None => match known_port(platform, &to) {
                    Ok(other) => (true, other.code != at.port.code && other.second_line),
                    Err(_) => (false, false),
                },
            };
            let what = if at.channel.is_some() {
                "another cargo channel of the port"
            } else {
                "another second-line port"
            };
            match (known, open) {
                (false, _) => Err(FieldError::new(field, FieldErrorKind::Unknown, what).into()),
                (true, false) => {
                    Err(FieldError::new(field, FieldErrorKind::Inconsistent, what).into())
                }
                (true, true) => Ok(Some(to)),
            }
        }
        (ModeEffect::Reroute, None) => Err(FieldError::new(
            field,
            FieldErrorKind::Missing,
            "a closed port or channel names where to cross instead",
        )
        .into()),
        (_, Some(_)) => Err(FieldError::new(
            field,
            FieldErrorKind::Inconsistent,
            "only a closed port or channel reroutes",
        )
        .into()),
        (_, None) => Ok(None),
    }
}

/// A port's lanes calibrated on its history against its capacity (`lanes::calibrate_for_capacity`):
/// the declarations lodged at the port from `from` to `to` (declaration days), their scores by
/// credit class and how many risk sent to red. Customs only.
pub async fn calibration(
    platform: &Platform,
    actor: &Actor,
    port: &str,
    (from, to): (time::Date, time::Date),
) -> AppResult<freeport_risk::lanes::CapacityCalibration> {
    use freeport_risk::rules::Lane;
    actor.require(Permission::ReadPortLoad)?;
    let p = known_port(platform, port)?;
    let history = platform
        .store
        .assessed_declarations(
            &from.to_string(),
            &to.to_string(),
            crate::rule_sets::HISTORY_LIMIT,
        )
        .await?;
    let mut scores: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    let mut selected_red = 0;
    for h in history.iter().filter(|h| {
        h.risk
            .facts
            .first()
            .and_then(|f| f.port.as_deref())
            .is_some_and(|code| code == p.code)
    }) {
        let score = f64::try_from(h.risk.score).unwrap_or(0.0);
        scores
            .entry(h.risk.credit_class.clone())
            .or_default()
            .push(score);
        if h.risk.lane == Lane::Red {
            selected_red += 1;
        }
    }
    let row = day_of(platform, p, &platform.today().to_string()).await?;
    let modes = crate::deciding::active_modes(&row);
    let capacity = freeport_core::port::port_capacity(p, &row.capacity_set, &modes);
    let days = u32::try_from((to - from).whole_days() + 1).unwrap_or(1);
    Ok(freeport_risk::lanes::calibrate_for_capacity(
        &platform.risk.policy,
        &scores,
        selected_red,
        days,
        u32::try_from(capacity).unwrap_or(u32::MAX),
    ))
}
