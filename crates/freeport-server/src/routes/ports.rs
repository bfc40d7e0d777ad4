//! The second line in operation: the ports, a red-lane declaration's scan, crossings at a
//! channel.

use freeport_api::second_line::{
    ActiveModeView, CalibrationView, ChannelLoadView, CrossingRequest, CrossingView,
    MAX_DAILY_INSPECTION_CAPACITY, ModeChangeView, ModeView, PortCapacityRequest, PortList,
    PortLoadView, PortModeRequest, PortView, ReleaseTargetsView, ScanResultRequest, StageView,
    ThresholdsView, TimeReleaseGroupView, TimeReleaseView, ToRegulariseView, WaitingView,
};

use super::lifecycle::{answer, answered};
use super::*;

/// The ports and customs channels of the pack version in force today (R2.2), with what the
/// sources leave unconfirmed.
#[utoipa::path(
    get,
    path = "/api/v1/ports",
    tag = "ports",
    responses((status = 200, body = PortList), (status = 401, description = "not authenticated", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn list_ports(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<PortList>> {
    let today = freeport_app::second_line::ports_today(&state).await?;
    // Who put a port in a mode, and why, is for customs.
    let customs = caller.actor().sees_every_enterprise();
    Ok(Json(PortList {
        pack_version: today.pack_version,
        items: today
            .ports
            .iter()
            .map(|p| {
                let at = |place: &str| {
                    today
                        .in_force
                        .iter()
                        .find(|m| m.port == place)
                        .map(|m| ActiveModeView {
                            reason: customs.then(|| m.reason.clone()),
                            actor: customs.then(|| m.actor.clone()),
                            ..mode_view(m)
                        })
                };
                let mut view = PortView::from(p);
                view.mode = at(&p.code);
                for c in &mut view.channels {
                    c.mode = at(&c.id);
                }
                view
            })
            .collect(),
        modes: today
            .modes
            .iter()
            .map(|m| ModeView {
                code: m.code.clone(),
                title: m.title.clone(),
                effect: freeport_app::wire_name(m.effect),
            })
            .collect(),
    }))
}

fn mode_view(m: &freeport_store::PortModeRow) -> ActiveModeView {
    ActiveModeView {
        mode: m.mode.clone(),
        reroute_to: m.reroute_to.clone(),
        reason: Some(m.reason.clone()),
        actor: Some(m.actor.clone()),
        since_ms: m.since_ms,
    }
}

fn mode_change_view(c: &freeport_app::second_line::ModeChange) -> ModeChangeView {
    ModeChangeView {
        port: c.port.clone(),
        channel: c.channel.clone(),
        mode: c
            .now
            .as_ref()
            .map_or_else(|| "normal".to_owned(), |m| m.mode.clone()),
        since_ms: c.now.as_ref().map(|m| m.since_ms),
        ended: c.ended.as_ref().map(mode_view),
        to_regularise: c
            .to_regularise
            .iter()
            .map(|d| ToRegulariseView {
                id: d.id.clone(),
                reference: d.reference.clone(),
                enterprise: d.enterprise.clone(),
                status: d.status.as_str().to_owned(),
                lane: d.lane.clone(),
            })
            .collect(),
    }
}

/// Put a port in one of the pack's emergency modes, or return it to normal (administrators). Who,
/// why and when go to the audit log; declarations decided meanwhile carry the mode in their
/// explanation, and returning to normal lists them for regularisation.
#[utoipa::path(
    put,
    path = "/api/v1/ports/{port}/mode",
    tag = "ports",
    request_body = PortModeRequest,
    params(("port" = String, Path, description = "the port's code"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = ModeChangeView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such port", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, the port already in normal operation, or its mode changed meanwhile", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn set_port_mode(
    State(state): State<AppState>,
    caller: Caller,
    Path(port): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    let path = format!("PUT /api/v1/ports/{port}/mode");
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::SetPortMode,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: PortModeRequest = parse_body(payload)?;
            let request = freeport_app::second_line::ModeRequest {
                port: &port,
                channel: b.channel.as_deref(),
                mode: &b.mode,
                reason: &b.reason,
                reroute_to: b.reroute_to,
            };
            let change = freeport_app::second_line::set_mode(st, &c.actor(), request, |change| {
                kept(&idem, StatusCode::OK, to_json(&mode_change_view(change)))
            })
            .await?;
            Ok((StatusCode::OK, to_json(&mode_change_view(&change))?))
        },
    )
    .await
}

/// Record a red-lane declaration's H986 scan: an alert sends the goods to manual inspection, a
/// clear scan releases them (R2.4).
#[utoipa::path(
    post,
    path = "/api/v1/declarations/{id}/scan-result",
    tag = "ports",
    request_body = ScanResultRequest,
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = DeclarationView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such resource, or another tenant's", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, stale revision or invalid transition", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn scan_result(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    let path = format!("POST /api/v1/declarations/{id}/scan-result");
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Examine,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: ScanResultRequest = parse_body(payload)?;
            let t = freeport_app::second_line::record_scan(
                st,
                &c.actor(),
                &id,
                b.alerted,
                b.revision,
                b.note,
                answer(&idem),
            )
            .await?;
            answered(&t)
        },
    )
    .await
}

fn crossing_view(c: &freeport_app::second_line::Crossed) -> CrossingView {
    let x = &c.crossing;
    CrossingView {
        id: x.id.clone(),
        port: x.port.clone(),
        channel: x.channel.clone(),
        declaration_id: x.declaration_id.clone(),
        means: x.means.clone(),
        cleared: x.cleared_revision.is_some(),
        uncleared_because: c.uncleared_because.clone(),
        at_ms: x.now_ms,
    }
}

/// Record goods crossing at a port's channel (gate-out). On a declaration released for this port
/// the crossing closes it (`exited`); goods crossing without one are recorded all the same and
/// raise an `uncleared_crossing` alert.
#[utoipa::path(
    post,
    path = "/api/v1/ports/{port}/channels/{channel}/crossings",
    tag = "ports",
    request_body = CrossingRequest,
    params(("port" = String, Path, description = "the port's code"), ("channel" = String, Path, description = "the channel's id"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 201, body = CrossingView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such port or channel", body = ErrorEnvelope), (status = 409, description = "idempotency key reused, or the declaration changed meanwhile", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn record_crossing(
    State(state): State<AppState>,
    caller: Caller,
    Path((port, channel)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    let path = format!("POST /api/v1/ports/{port}/channels/{channel}/crossings");
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::Examine,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: CrossingRequest = parse_body(payload)?;
            let means = b.means.trim();
            if means.is_empty() || means.chars().count() > 64 || means.chars().any(char::is_control)
            {
                return Err(FieldError::new(
                    "means",
                    FieldErrorKind::OutOfRange,
                    "1 to 64 characters, no control characters",
                )
                .into());
            }
            let report = freeport_app::second_line::CrossingReport {
                port,
                channel,
                declaration_id: b.declaration_id,
                means: means.to_owned(),
            };
            let crossed = freeport_app::second_line::record_crossing_surely(
                st,
                &c.actor(),
                report,
                |crossed| kept(&idem, StatusCode::CREATED, to_json(&crossing_view(crossed))),
            )
            .await?;
            if let (Some(_), Some(d)) = (crossed.crossing.cleared_revision, &crossed.declaration) {
                crate::observe::exited_at_port(
                    &crossed.crossing.port,
                    d.lane.as_deref().unwrap_or("none"),
                    d.created_at_ms,
                    crossed.crossing.now_ms,
                );
            }
            Ok((StatusCode::CREATED, to_json(&crossing_view(&crossed))?))
        },
    )
    .await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct LoadDay {
    /// The day, `YYYY-MM-DD` in the zone's time; today when absent.
    #[serde(default)]
    day: Option<String>,
}

/// A port's inspection load on a day: capacity, admitted, the overflow turned to documentary
/// check, and the red lane's queue waiting for its scan.
#[utoipa::path(
    get,
    path = "/api/v1/ports/{port}/load",
    tag = "ports",
    params(("port" = String, Path, description = "the port's code"), LoadDay),
    responses((status = 200, body = PortLoadView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such port", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn port_load(
    State(state): State<AppState>,
    caller: Caller,
    Path(port): Path<String>,
    Query(q): Query<LoadDay>,
) -> ApiResult<Json<PortLoadView>> {
    let day = q.day.as_deref().map(|t| parse_day("day", t)).transpose()?;
    let l = freeport_app::second_line::port_load(&state, &caller.actor(), &port, day).await?;
    Ok(Json(PortLoadView {
        port: l.port,
        day: l.day,
        daily_inspection_capacity: l.capacity,
        capacity_source: l.capacity_source.to_owned(),
        admitted: l.admitted,
        overflow: l.overflow,
        waiting: l
            .waiting
            .into_iter()
            .map(|(declaration_id, score, channel)| WaitingView {
                declaration_id,
                score: score.to_string(),
                channel,
            })
            .collect(),
        channels: l
            .channels
            .into_iter()
            .map(|c| ChannelLoadView {
                channel: c.channel,
                daily_inspection_capacity: c.capacity,
                capacity_source: c.capacity_source.to_owned(),
                admitted: c.admitted,
                overflow: c.overflow,
                mode: c.mode,
            })
            .collect(),
    }))
}

/// Set a port's daily inspection capacity (administrators), replacing the pack's placeholder.
#[utoipa::path(
    put,
    path = "/api/v1/ports/{port}/capacity",
    tag = "ports",
    request_body = PortCapacityRequest,
    params(("port" = String, Path, description = "the port's code"), ("Idempotency-Key" = String, Header, description = "1 to 200 visible ASCII characters; a retry with the same key and body replays the result")),
    responses((status = 200, body = PortCapacityRequest), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such port", body = ErrorEnvelope), (status = 409, description = "idempotency key reused", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn set_port_capacity(
    State(state): State<AppState>,
    caller: Caller,
    Path(port): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (st, c, payload) = (&state, &caller, &body);
    let path = format!("PUT /api/v1/ports/{port}/capacity");
    idempotent(
        &state,
        &caller,
        freeport_app::Permission::SetPortCapacity,
        &headers,
        &path,
        &body,
        async move |idem| {
            let b: PortCapacityRequest = parse_body(payload)?;
            let capacity = u32::try_from(b.daily_inspection_capacity)
                .ok()
                .filter(|c| i64::from(*c) <= MAX_DAILY_INSPECTION_CAPACITY);
            let Some(capacity) = capacity else {
                return Err(FieldError::new(
                    "daily_inspection_capacity",
                    FieldErrorKind::OutOfRange,
                    format!("0 to {MAX_DAILY_INSPECTION_CAPACITY}"),
                )
                .into());
            };
            let answer = to_json(&b)?;
            let record = idem.record(StatusCode::OK, &answer);
            freeport_app::second_line::set_capacity(
                st,
                &c.actor(),
                (&port, b.channel.as_deref()),
                capacity,
                Some(record),
            )
            .await?;
            Ok((StatusCode::OK, answer))
        },
    )
    .await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct TimeReleaseQuery {
    /// The first zone day of the period, `YYYY-MM-DD`.
    from: String,
    /// The last zone day of the period, `YYYY-MM-DD`, at most 366 days after `from`.
    to: String,
    /// `port` (default), `channel`, `lane`, `flow` or `credit_class`.
    #[serde(default)]
    by: Option<String>,
}

/// How long clearance takes at the ports (WCO Time Release Study): per group, lodgement to release,
/// release to exit and end to end, as count, mean, median, 90th percentile and maximum, with the
/// releases that met R2.4's targets.
#[utoipa::path(
    get,
    path = "/api/v1/time-release",
    tag = "ports",
    params(TimeReleaseQuery),
    responses((status = 200, body = TimeReleaseView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn time_release(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<TimeReleaseQuery>,
) -> ApiResult<Json<TimeReleaseView>> {
    use freeport_core::time_release::GroupBy;
    let (from, to) = within_a_year(&q.from, &q.to)?;
    let by = match q.by.as_deref() {
        None => GroupBy::Port,
        Some(text) => GroupBy::parse(text).ok_or_else(|| {
            FieldError::new(
                "by",
                FieldErrorKind::Unknown,
                "port, channel, lane, flow or credit_class",
            )
        })?,
    };
    let t =
        freeport_app::second_line::time_release(&state, &caller.actor(), (from, to), by).await?;
    Ok(Json(TimeReleaseView {
        from: t.from.to_string(),
        to: t.to.to_string(),
        by: t.by.as_str().to_owned(),
        targets: t.targets.map(|x| ReleaseTargetsView {
            unflagged_seconds: x.unflagged_seconds,
            scanned_seconds: x.scanned_seconds,
        }),
        groups: t
            .groups
            .into_iter()
            .map(|g| TimeReleaseGroupView {
                key: g.key,
                lodged: g.lodged,
                release: g.release.map(StageView::from),
                exit: g.exit.map(StageView::from),
                end_to_end: g.end_to_end.map(StageView::from),
                releases_with_target: g.releases_with_target,
                releases_within_target: g.releases_within_target,
            })
            .collect(),
        truncated: t.truncated,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(super) struct CalibrationPeriod {
    /// The first declaration day of the history, `YYYY-MM-DD`.
    from: String,
    /// The last declaration day of the history, `YYYY-MM-DD`, at most 366 days after `from`.
    to: String,
}

fn thresholds_view(t: &freeport_risk::lanes::Thresholds) -> ThresholdsView {
    let finite = |v: f64| v.is_finite().then_some(v);
    ThresholdsView {
        red: finite(t.red),
        yellow: finite(t.yellow),
        blue: finite(t.blue),
    }
}

/// A port's lanes calibrated on its history against its inspection capacity: the red share the
/// capacity allows, the share risk chose, the expected overflow, and the score thresholds that fit
/// the capacity, by credit class (decision support for the lane settings; lanes in force are not
/// changed).
#[utoipa::path(
    get,
    path = "/api/v1/ports/{port}/calibration",
    tag = "ports",
    params(("port" = String, Path, description = "the port's code"), CalibrationPeriod),
    responses((status = 200, body = CalibrationView), (status = 401, description = "not authenticated", body = ErrorEnvelope), (status = 403, description = "role not allowed", body = ErrorEnvelope), (status = 404, description = "no such port", body = ErrorEnvelope), (status = 422, description = "invalid input", body = ErrorEnvelope)),
    security(("bearer" = []), ("session_cookie" = [])),
)]
pub(super) async fn port_calibration(
    State(state): State<AppState>,
    caller: Caller,
    Path(port): Path<String>,
    Query(q): Query<CalibrationPeriod>,
) -> ApiResult<Json<CalibrationView>> {
    let (from, to) = within_a_year(&q.from, &q.to)?;
    let c =
        freeport_app::second_line::calibration(&state, &caller.actor(), &port, (from, to)).await?;
    Ok(Json(CalibrationView {
        port,
        from: from.to_string(),
        to: to.to_string(),
        declarations: c.declarations,
        mean_per_day: c.mean_per_day,
        daily_inspection_capacity: c.capacity_per_day,
        capacity_share: c.capacity_share,
        policy_red_share: c.policy_red_share,
        selected_red_share: c.selected_red_share,
        expected_overflow_per_day: c.expected_overflow_per_day,
        red_share_used: c.red_share_used,
        thresholds_by_class: c
            .calibration
            .by_class
            .iter()
            .map(|(class, t)| (class.clone(), thresholds_view(t)))
            .collect(),
        thresholds_otherwise: thresholds_view(&c.calibration.fallback),
    }))
}

/// A period of zone days from `from` to `to`, at most 366 days long.
pub(super) fn within_a_year(from: &str, to: &str) -> ApiResult<(time::Date, time::Date)> {
    let (from, to) = super::rule_sets::period_of(from, to)?;
    if (to - from).whole_days() > 366 {
        return Err(FieldError::new(
            "to",
            FieldErrorKind::OutOfRange,
            "at most 366 days after `from`",
        )
        .into());
    }
    Ok((from, to))
}
