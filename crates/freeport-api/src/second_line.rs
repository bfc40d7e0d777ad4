//! Wire types of the second line in operation: the ports, a scan's result, a crossing.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use freeport_core::port::{Channel, Port};

/// A customs channel of a port.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelView {
    /// `<port>-cargo-<nn>` or `<port>-passenger-<nn>`.
    pub id: String,
    /// `cargo` or `passenger`.
    pub kind: String,
    /// H986 scanners on the channel.
    pub scanners: u16,
    /// Declarations the channel can inspect by hand in a day, by the pack.
    pub daily_inspection_capacity: u32,
    /// The emergency mode in force at the channel itself, if any.
    pub mode: Option<ActiveModeView>,
}

/// A port of the pack version in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortView {
    /// The code declarations name in `transport.port`.
    pub code: String,
    pub name: String,
    pub name_zh: String,
    /// `sea` or `air`.
    pub kind: String,
    /// An open port (abroad <-> island).
    pub first_line: bool,
    /// A second-line port (island <-> mainland).
    pub second_line: bool,
    pub channels: Vec<ChannelView>,
    /// What about the port the sources do not confirm: `name`, `channels`,
    /// `daily_inspection_capacity`.
    pub unverified: Vec<String>,
    /// The emergency mode in force, if the port is not in normal operation.
    pub mode: Option<ActiveModeView>,
}

/// An emergency mode in force at a port.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActiveModeView {
    pub mode: String,
    /// For a closed port: where declarations cross instead.
    pub reroute_to: Option<String>,
    /// Why and who: shown to customs only.
    pub reason: Option<String>,
    pub actor: Option<String>,
    pub since_ms: i64,
}

/// A degraded mode the pack documents.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModeView {
    pub code: String,
    pub title: String,
    /// `red_to_manual_inspection`, `release_on_guarantee` or `reroute`.
    pub effect: String,
}

/// Put a port, or one of its cargo channels, in an emergency mode, or return it to normal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortModeRequest {
    /// One of the port's cargo channels, for a mode at that channel alone; absent for the whole
    /// port. A declaration booked through the channel (`transport.channel`) takes the channel's
    /// mode before the port's.
    #[serde(default)]
    pub channel: Option<String>,
    /// A mode of `GET /api/v1/ports` (`modes`), or `normal`.
    pub mode: String,
    /// Why, for the audit log.
    pub reason: String,
    /// For `port_closed`: the second-line port to cross at instead, or for a channel, another
    /// cargo channel of the port.
    #[serde(default)]
    pub reroute_to: Option<String>,
}

/// A declaration decided in an emergency mode, left to regularise.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToRegulariseView {
    pub id: String,
    pub reference: String,
    pub enterprise: String,
    pub status: String,
    pub lane: Option<String>,
}

/// What a change of mode did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModeChangeView {
    pub port: String,
    /// The channel whose mode changed; absent for the whole port.
    pub channel: Option<String>,
    /// The mode now in force, or `normal`.
    pub mode: String,
    pub since_ms: Option<i64>,
    /// On a return to normal: the mode that ended.
    pub ended: Option<ActiveModeView>,
    /// On a return to normal: the declarations decided in the mode, to regularise.
    pub to_regularise: Vec<ToRegulariseView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PortList {
    /// The pack version the ports come from: the one in force today.
    pub pack_version: String,
    pub items: Vec<PortView>,
    /// The degraded modes an administrator may put a port in.
    pub modes: Vec<ModeView>,
}

fn channel_view(c: &Channel) -> ChannelView {
    ChannelView {
        id: c.id.clone(),
        kind: match c.kind {
            freeport_core::port::ChannelKind::Cargo => "cargo",
            freeport_core::port::ChannelKind::Passenger => "passenger",
        }
        .to_owned(),
        scanners: c.scanners,
        daily_inspection_capacity: c.daily_inspection_capacity,
        mode: None,
    }
}

impl From<&Port> for PortView {
    fn from(p: &Port) -> PortView {
        PortView {
            code: p.code.clone(),
            name: p.name.clone(),
            name_zh: p.name_zh.clone(),
            kind: match p.kind {
                freeport_core::port::PortKind::Sea => "sea",
                freeport_core::port::PortKind::Air => "air",
            }
            .to_owned(),
            first_line: p.first_line,
            second_line: p.second_line,
            channels: p.channels.iter().map(channel_view).collect(),
            unverified: p.unverified.clone(),
            mode: None,
        }
    }
}

/// The result of a red-lane declaration's H986 scan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanResultRequest {
    /// Whether the scan image alerted: `true` sends the goods to manual inspection, `false`
    /// releases them (R2.4).
    pub alerted: bool,
    #[serde(default)]
    pub note: String,
    /// The revision the officer saw; a stale revision is a `conflict`.
    #[serde(deserialize_with = "crate::platform::whole::revision")]
    pub revision: i64,
}

/// Goods crossing at a channel (gate-out).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CrossingRequest {
    /// The declaration the goods cross on, as shown at the channel; absent when none was shown.
    #[serde(default)]
    pub declaration_id: Option<String>,
    /// The means of transport crossing (a truck's plate): 1 to 64 characters.
    pub means: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CrossingView {
    pub id: String,
    pub port: String,
    pub channel: String,
    pub declaration_id: Option<String>,
    pub means: String,
    /// Crossed on a declaration released for this port: the declaration is now `exited`.
    pub cleared: bool,
    /// Why the crossing was not cleared; an `uncleared_crossing` alert was raised.
    pub uncleared_because: Option<String>,
    pub at_ms: i64,
}

/// A declaration admitted to the red lane and still waiting for its scan.
#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingView {
    pub declaration_id: String,
    /// Its risk score, a decimal string.
    pub score: String,
    /// The channel it was booked through, if any.
    pub channel: Option<String>,
}

/// A cargo channel's inspection load on a day: the red lane of the declarations booked through it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelLoadView {
    pub channel: String,
    pub daily_inspection_capacity: i64,
    /// `pack` or `set` (by an administrator).
    pub capacity_source: String,
    pub admitted: i64,
    pub overflow: i64,
    /// The emergency mode in force at the channel, if any: it then lends the port none of its
    /// capacity.
    pub mode: Option<String>,
}

/// A port's inspection load on a day.
#[derive(Debug, Serialize, ToSchema)]
pub struct PortLoadView {
    pub port: String,
    pub day: String,
    /// Declarations the port may admit to the red lane (scan, then inspection if it alerts) in the
    /// day.
    pub daily_inspection_capacity: i64,
    /// `set` (by an administrator, for the whole port) or `channels` (the sum of its cargo
    /// channels' not in an emergency mode).
    pub capacity_source: String,
    pub admitted: i64,
    /// Red-lane declarations that the capacity turned to documentary check (the least risky of the
    /// day's red lane).
    pub overflow: i64,
    pub waiting: Vec<WaitingView>,
    pub channels: Vec<ChannelLoadView>,
}

/// A port's daily inspection capacity.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PortCapacityRequest {
    /// One of the port's cargo channels, to set that channel's capacity; absent to set the whole
    /// port's (which then no longer follows its channels').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// 0 to 100 000 declarations a day.
    #[serde(deserialize_with = "crate::platform::whole::revision")]
    pub daily_inspection_capacity: i64,
}

/// Most declarations a port may be set to inspect in a day.
pub const MAX_DAILY_INSPECTION_CAPACITY: i64 = 100_000;

/// One stage's times, in milliseconds: nearest-rank median and 90th percentile, the mean rounded
/// half up.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageView {
    pub count: u64,
    pub mean_ms: i64,
    pub median_ms: i64,
    pub p90_ms: i64,
    pub max_ms: i64,
}

impl From<freeport_core::time_release::StageFigures> for StageView {
    fn from(s: freeport_core::time_release::StageFigures) -> StageView {
        StageView {
            count: s.count,
            mean_ms: s.mean_ms,
            median_ms: s.median_ms,
            p90_ms: s.p90_ms,
            max_ms: s.max_ms,
        }
    }
}

/// A group's clearance stages.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeReleaseGroupView {
    /// The group's port, channel (`none` before crossing), lane, flow or credit class.
    pub key: String,
    /// Declarations lodged in the period.
    pub lodged: u64,
    /// Lodgement to release.
    pub release: Option<StageView>,
    /// Release to the crossing at the channel.
    pub exit: Option<StageView>,
    /// Lodgement to the crossing.
    pub end_to_end: Option<StageView>,
    /// Releases with a target (green, blue and red lanes not inspected by hand) and how many met
    /// it.
    pub releases_with_target: u64,
    pub releases_within_target: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReleaseTargetsView {
    /// An unflagged (green or blue lane) release (R2.4: about a minute).
    pub unflagged_seconds: u32,
    /// A scanned (red lane) release, manual inspection excluded (R2.4: about two minutes).
    pub scanned_seconds: u32,
}

/// The WCO Time Release Study's figures over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeReleaseView {
    pub from: String,
    pub to: String,
    /// `port`, `channel`, `lane`, `flow` or `credit_class`.
    pub by: String,
    pub targets: Option<ReleaseTargetsView>,
    pub groups: Vec<TimeReleaseGroupView>,
    /// More declarations were lodged in the period than one answer reads; narrow the period.
    pub truncated: bool,
}

/// File a month's consolidated declaration of batch exits.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsolidationRequest {
    /// The month, `YYYY-MM`; it must be over.
    pub month: String,
}

/// A month's consolidated declaration (R2.5).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsolidationView {
    pub id: String,
    pub enterprise: String,
    pub month: String,
    pub filed_on: String,
    /// The pack's day of the following month.
    pub due_on: String,
    /// Filed after `due_on`: the enterprise's batch exit is suspended.
    pub late: bool,
    pub shipments: i64,
    /// Taxes payable, in yuan: the shipments' assessed taxes added up, the minimum-tax rule applied
    /// once to the consolidated declaration.
    pub tariff: String,
    pub consumption_tax: String,
    pub vat: String,
    pub total: String,
    pub pack_version: String,
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuspensionView {
    pub reason: String,
    pub actor: String,
    pub since_ms: i64,
}

/// An enterprise's batch exit as it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchExitView {
    pub enterprise: String,
    pub suspended: Option<SuspensionView>,
    /// Months with batch exits not yet consolidated, `YYYY-MM`.
    pub unconsolidated: Vec<String>,
    pub consolidations: Vec<ConsolidationView>,
}

/// Reinstate a suspended batch exit on the enterprise's application.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReinstatementRequest {
    pub reason: String,
}

/// An article a passenger carries.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarriedRequest {
    /// A duty-free category of the pack (`cosmetics`, `watches`, …).
    pub category: String,
    /// The unit price in yuan, as on the receipt or assessed: a decimal string.
    pub unit_price: String,
    /// How many are carried: a decimal string.
    pub quantity: String,
}

/// A passenger at a second-line channel (R5).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassengerRequest {
    pub document: crate::platform::BuyerDocument,
    /// The day the passenger leaves the island (the departure the purchases were made for).
    pub departure_on: String,
    /// 0 to 100 articles.
    pub carried: Vec<CarriedRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckedLineView {
    pub category: String,
    pub carried: String,
    /// What the purchase records cover of it (at most the per-departure limit).
    pub covered: String,
    pub excess: String,
    /// The excess's value in yuan, rounded half up to the fen.
    pub taxed_value: String,
    /// Inbound-articles tax class (1, 2 or 3) and its rate in percent.
    pub class: u8,
    pub rate_percent: String,
    pub tax: String,
}

/// A passenger checked.
#[derive(Debug, Serialize, ToSchema)]
pub struct PassengerCheckView {
    pub id: String,
    pub port: String,
    pub channel: String,
    /// The person's second-line class (R6.2): `white_list`, `key_concern` or `unclassified`.
    pub class: String,
    /// Sent to inspection: a key-concern person always; anyone else when the check found an excess.
    pub inspect: bool,
    pub lines: Vec<CheckedLineView>,
    /// The inbound-articles tax due, in yuan.
    pub tax: String,
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
}

/// Put an operator or a person on a second-line list, or off every list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListingRequest {
    /// `white_list`, `key_concern` or `none`.
    pub list: String,
    pub reason: String,
}

/// Put a person (by identity document) on a second-line list, or off every list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IndividualListingRequest {
    pub document: crate::platform::BuyerDocument,
    /// `white_list`, `key_concern` or `none`.
    pub list: String,
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ListingView {
    /// `white_list`, `key_concern`, or `none`.
    pub list: String,
}

/// An operator's second-line credit (R6.2) and what it comes from.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecondLineCreditView {
    pub enterprise: String,
    /// `advanced_certified`, `white_list`, `key_concern` or `unclassified`.
    pub class: String,
    /// The enterprise's national credit class today (R6.1).
    pub national_class: String,
    /// The list customs put it on, if any.
    pub list: Option<String>,
    pub listed_because: Option<String>,
    pub listed_by: Option<String>,
    pub listed_since_ms: Option<i64>,
    /// What the class allows at the second line.
    pub batch_exit: bool,
}

/// Score thresholds of one credit class: at or above `red`, red; then yellow, blue, green. `null`
/// where the history holds no score to place the threshold at.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThresholdsView {
    pub red: Option<f64>,
    pub yellow: Option<f64>,
    pub blue: Option<f64>,
}

/// A port's lanes calibrated on its history against its inspection capacity.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalibrationView {
    pub port: String,
    pub from: String,
    pub to: String,
    pub declarations: usize,
    pub mean_per_day: f64,
    pub daily_inspection_capacity: u32,
    /// The red share the capacity allows on an average day (at most 1).
    pub capacity_share: f64,
    /// The red share the lane policy expects of a general enterprise.
    pub policy_red_share: f64,
    /// The red share risk chose on the history.
    pub selected_red_share: f64,
    /// Red-lane declarations a day beyond the capacity at that share.
    pub expected_overflow_per_day: f64,
    /// The red share the thresholds below fill: the smaller of the policy's and the capacity's.
    pub red_share_used: f64,
    /// By credit class, and for a class not in the history.
    pub thresholds_by_class: std::collections::BTreeMap<String, ThresholdsView>,
    pub thresholds_otherwise: ThresholdsView,
}
