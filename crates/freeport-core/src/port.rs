//! Ports and channels: where goods cross a line, and how a declaration crossing there is released.
//!
//! A zone's ports are pack data (`ports.toml` of a version): each port's kind, the lines it serves,
//! and its customs channels with their scanners and daily inspection capacity (R2.2). A
//! declaration names the port it crosses at, its mode and means of transport and its transport
//! document, after the WCO Data Model (`docs/reference/declaration-fields.md`). At a second-line
//! port the lane decides how release goes (R2.4): green is released automatically at once,
//! yellow waits for an officer's documentary check, red is scanned first and inspected by hand
//! only when the scan alerts.

use serde::Serialize;

use crate::declaration::Flow;
use crate::error::{FieldError, FieldErrorKind};
use crate::explain::{Detail, Step};
use crate::pack::RuleId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PortKind {
    Sea,
    Air,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Trucks and their cargo.
    Cargo,
    /// Travellers with their luggage and duty-free goods (R5).
    Passenger,
}

/// A customs channel of a port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Channel {
    pub id: String,
    pub kind: ChannelKind,
    /// H986 container/vehicle scanners on the channel.
    pub scanners: u16,
    /// Declarations the channel can inspect by hand in a day.
    pub daily_inspection_capacity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    /// The pack's code for the port (lower-case letters, digits and `-`).
    pub code: String,
    pub name: String,
    pub name_zh: String,
    pub kind: PortKind,
    /// An open port: abroad <-> island.
    pub first_line: bool,
    /// A second-line port: island <-> mainland.
    pub second_line: bool,
    pub channels: Vec<Channel>,
    /// What about the port the sources do not confirm (its name, its channels, its capacity).
    pub unverified: Vec<String>,
}

impl Port {
    pub fn channel(&self, id: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.id == id)
    }

    /// Whether goods of `flow` may cross here.
    pub fn serves(&self, flow: Flow) -> bool {
        match flow {
            Flow::FirstLineImport | Flow::FirstLineExport => self.first_line,
            Flow::SecondLineExit | Flow::SecondLineEntry => self.second_line,
            Flow::IslandTransfer | Flow::Processing => false,
        }
    }
}

/// What an emergency mode does at a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ModeEffect {
    /// No scan: the red lane goes straight to manual inspection.
    RedToManualInspection,
    /// Goods are released on guarantee, the declaration regularised afterwards.
    ReleaseOnGuarantee,
    /// The port is closed: declarations must cross at another port.
    Reroute,
}

impl ModeEffect {
    pub fn parse(text: &str) -> Option<ModeEffect> {
        match text {
            "red_to_manual_inspection" => Some(ModeEffect::RedToManualInspection),
            "release_on_guarantee" => Some(ModeEffect::ReleaseOnGuarantee),
            "reroute" => Some(ModeEffect::Reroute),
            _ => None,
        }
    }
}

/// A documented degraded mode of operation (pack data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmergencyMode {
    pub code: String,
    pub title: String,
    pub effect: ModeEffect,
}

/// A mode in force at a port: which one, and the port to cross at instead when it is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveMode {
    pub mode: String,
    pub reroute_to: Option<String>,
}

/// A version's ports: empty before the zone's ports are in the pack.
#[derive(Debug, Clone, Default)]
pub struct Ports {
    /// The rule that designates the ports (R2.2).
    pub rule: Option<RuleId>,
    /// The rule that governs release at a second-line port (R2.4).
    pub release_rule: Option<RuleId>,
    /// How soon release should follow lodgement (R2.4).
    pub release_targets: Option<crate::time_release::ReleaseTargets>,
    pub ports: Vec<Port>,
    /// The degraded modes a port may be put in.
    pub modes: Vec<EmergencyMode>,
}

impl Ports {
    pub fn port(&self, code: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.code == code)
    }

    pub fn mode(&self, code: &str) -> Option<&EmergencyMode> {
        self.modes.iter().find(|m| m.code == code)
    }
}

/// Mode of transport at the border, with its UN/ECE Recommendation 19 code (WCO DM "mode of
/// transport at border").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportMode {
    Sea,
    Rail,
    Road,
    Air,
    Mail,
    Multimodal,
    FixedInstallation,
    InlandWaterway,
    Unknown,
}

impl TransportMode {
    pub const ALL: [TransportMode; 9] = [
        TransportMode::Sea,
        TransportMode::Rail,
        TransportMode::Road,
        TransportMode::Air,
        TransportMode::Mail,
        TransportMode::Multimodal,
        TransportMode::FixedInstallation,
        TransportMode::InlandWaterway,
        TransportMode::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TransportMode::Sea => "sea",
            TransportMode::Rail => "rail",
            TransportMode::Road => "road",
            TransportMode::Air => "air",
            TransportMode::Mail => "mail",
            TransportMode::Multimodal => "multimodal",
            TransportMode::FixedInstallation => "fixed_installation",
            TransportMode::InlandWaterway => "inland_waterway",
            TransportMode::Unknown => "unknown",
        }
    }

    /// The UN/ECE Recommendation 19 (2001) code.
    pub fn rec19_code(self) -> u8 {
        match self {
            TransportMode::Sea => 1,
            TransportMode::Rail => 2,
            TransportMode::Road => 3,
            TransportMode::Air => 4,
            TransportMode::Mail => 5,
            TransportMode::Multimodal => 6,
            TransportMode::FixedInstallation => 7,
            TransportMode::InlandWaterway => 8,
            // Rec. 19 has 0 for "not specified" (and 9 for "not applicable", which a crossing never is).
            TransportMode::Unknown => 0,
        }
    }

    pub fn parse(text: &str) -> Option<TransportMode> {
        TransportMode::ALL.into_iter().find(|m| m.as_str() == text)
    }
}

/// How a declaration crosses: at which port, by which mode and means, under which document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transport {
    /// The port's code in the pack.
    pub port: String,
    pub mode: TransportMode,
    /// The identity of the means of transport crossing: a truck's plate, a vessel, a flight.
    pub means: String,
    /// The transport document's number (bill of lading, waybill), if any.
    pub document: Option<String>,
    /// The cargo channel of the port the truck is booked through, if any: its capacity bounds the
    /// red lane and its emergency mode, if one is in force, applies.
    pub channel: Option<String>,
}

/// The port a declaration of `flow` crosses at, checked against the version's ports: a port the
/// pack does not list, or one that does not serve the flow's line, is an input error naming
/// `transport.port`.
pub fn crossing_port<'p>(
    ports: &'p Ports,
    flow: Flow,
    transport: &Transport,
) -> Result<&'p Port, FieldError> {
    let field = "transport.port";
    let port = ports.port(&transport.port).ok_or_else(|| {
        let known: Vec<&str> = ports.ports.iter().map(|p| p.code.as_str()).collect();
        FieldError::new(
            field,
            FieldErrorKind::Unknown,
            if known.is_empty() {
                "the pack version in force on the declaration's day lists no ports".to_owned()
            } else {
                format!("not a port of the pack: one of {}", known.join(", "))
            },
        )
    })?;
    if !port.serves(flow) {
        return Err(FieldError::new(
            field,
            FieldErrorKind::Inconsistent,
            match flow {
                Flow::IslandTransfer | Flow::Processing => {
                    "goods that stay inside the island cross at no port".to_owned()
                }
                _ => format!("{} does not serve this line", port.name),
            },
        ));
    }
    if let Some(id) = &transport.channel {
        let cargo: Vec<&str> = port
            .channels
            .iter()
            .filter(|c| c.kind == ChannelKind::Cargo)
            .map(|c| c.id.as_str())
            .collect();
        if !cargo.contains(&id.as_str()) {
            return Err(FieldError::new(
                "transport.channel",
                FieldErrorKind::Unknown,
                if cargo.is_empty() {
                    format!("{} has no cargo channel", port.name)
                } else {
                    format!(
                        "not a cargo channel of {}: one of {}",
                        port.name,
                        cargo.join(", ")
                    )
                },
            ));
        }
    }
    Ok(port)
}

/// The port a declaration crosses at, explained (R2.2); in an emergency mode, the mode explained
/// under the release rule (R2.4) it changes, or, for a closed port, the declaration refused naming
/// the port to cross at instead.
pub fn crossing_steps<'p>(
    v: &'p crate::pack::PackVersion,
    flow: Flow,
    t: &Transport,
    modes: &std::collections::BTreeMap<String, ActiveMode>,
) -> Result<Vec<Step<'p>>, FieldError> {
    let port = crossing_port(&v.ports, flow, t)?;
    let mut steps = Vec::new();
    let in_force = mode_in_force(&v.ports, port, t.channel.as_deref(), modes);
    if let Some(InForce {
        place,
        active,
        mode,
    }) = in_force
    {
        if mode.effect == ModeEffect::Reroute {
            let (field, closed, elsewhere) = match t.channel.as_deref() {
                Some(channel) if place == channel => (
                    "transport.channel",
                    format!("channel {channel} of {}", port.name),
                    "another channel",
                ),
                _ => ("transport.port", port.name.clone(), "another port"),
            };
            return Err(FieldError::new(
                field,
                FieldErrorKind::Inconsistent,
                format!(
                    "{closed} is closed ({}): cross at {}",
                    mode.title,
                    active.reroute_to.as_deref().unwrap_or(elsewhere)
                ),
            ));
        }
        if let Some(rule) = &v.ports.release_rule {
            steps.push(Step {
                rule: v.rule(rule),
                detail: Detail::ListEntry {
                    finding: "the port is in an emergency mode",
                    entry: &mode.title,
                },
            });
        }
    }
    if let Some(rule) = &v.ports.rule {
        steps.push(Step {
            rule: v.rule(rule),
            detail: Detail::ListEntry {
                finding: "the goods cross at this designated port",
                entry: &port.name,
            },
        });
    }
    Ok(steps)
}

/// An emergency mode in force where a declaration crosses: at its booked channel, or else at its
/// port. A channel's own mode is the nearer, so it wins over the port's.
#[derive(Debug, Clone, Copy)]
pub struct InForce<'p, 'm> {
    /// The port's code or the channel's id the mode was set on.
    pub place: &'m str,
    pub active: &'m ActiveMode,
    pub mode: &'p EmergencyMode,
}

pub fn mode_in_force<'p, 'm>(
    ports: &'p Ports,
    port: &'m Port,
    channel: Option<&'m str>,
    modes: &'m std::collections::BTreeMap<String, ActiveMode>,
) -> Option<InForce<'p, 'm>> {
    channel
        .into_iter()
        .chain(std::iter::once(port.code.as_str()))
        .find_map(|place| {
            let active = modes.get(place)?;
            Some(InForce {
                place,
                active,
                mode: ports.mode(&active.mode)?,
            })
        })
}

/// How release goes at a second-line port, by lane (R2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Release {
    /// Green: released automatically, at once.
    Automatic,
    /// Yellow: an officer checks the documents, then releases or holds.
    DocumentCheck,
    /// Red: an H986 scan first; manual inspection only when the scan alerts.
    Scan,
    /// Held: not released until the case is resolved.
    Hold,
}

/// A port's inspection load on one day: what it may inspect, what it has admitted, and the
/// admitted declarations still waiting for their scan (which a riskier one may displace).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortDay {
    pub capacity: u32,
    pub admitted: u32,
    /// Oldest first.
    pub waiting: Vec<Waiting>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub declaration_id: String,
    pub score: rust_decimal::Decimal,
    /// The channel it was booked through, if any.
    pub channel: Option<String>,
}

/// A booked channel's own load on the day (its waiting declarations are among the port's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelDay<'a> {
    pub id: &'a str,
    pub capacity: u32,
    pub admitted: u32,
}

/// What capacity does with a declaration risk sent to the red lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Within the day's capacity: scanned and, if the scan alerts, inspected.
    Admit,
    /// The day is full, but this one is riskier than the least risky still waiting: it takes that
    /// one's place, and that one goes to documentary check.
    Displace(String),
    /// The day is full of riskier ones: documentary check, counted as overflow.
    Overflow,
}

/// Inspection capacity bounds the red lane (R2.4 with the port's capacity): the riskiest go first.
/// A declaration booked through a channel needs room at the channel as well as at the port; when
/// the channel is full it can only take the place of one waiting at that channel, when the port is
/// full, of any waiting at the port. Among waiting declarations of equal score the latest admitted
/// gives way first.
pub fn admit(
    day: &PortDay,
    channel: Option<&ChannelDay<'_>>,
    score: rust_decimal::Decimal,
) -> Admission {
    let channel_full = channel.filter(|c| c.admitted >= c.capacity);
    if day.admitted < day.capacity && channel_full.is_none() {
        return Admission::Admit;
    }
    let weakest = day
        .waiting
        .iter()
        .enumerate()
        .filter(|(_, w)| channel_full.is_none_or(|c| w.channel.as_deref() == Some(c.id)))
        .min_by(|(i, a), (j, b)| a.score.cmp(&b.score).then(j.cmp(i)));
    match weakest {
        Some((_, w)) if score > w.score => Admission::Displace(w.declaration_id.clone()),
        _ => Admission::Overflow,
    }
}

/// What a port can inspect in a day: the administrator's figure for the whole port if one is set,
/// else the sum of its cargo channels', each the administrator's figure for the channel or the
/// pack's. A channel in an emergency mode lends the port none of its capacity: its scanners are
/// down, its systems are down or it is closed.
pub fn port_capacity(
    port: &Port,
    set: &std::collections::BTreeMap<String, i64>,
    modes: &std::collections::BTreeMap<String, ActiveMode>,
) -> i64 {
    if let Some(c) = set.get(&port.code) {
        return *c;
    }
    port.channels
        .iter()
        .filter(|c| c.kind == ChannelKind::Cargo && !modes.contains_key(&c.id))
        .map(|c| channel_capacity(c, set))
        .sum()
}

/// A channel's daily capacity: the administrator's figure, or the pack's.
pub fn channel_capacity(channel: &Channel, set: &std::collections::BTreeMap<String, i64>) -> i64 {
    set.get(&channel.id)
        .copied()
        .unwrap_or_else(|| i64::from(channel.daily_inspection_capacity))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports() -> Ports {
        Ports {
            rule: None,
            release_rule: None,
            release_targets: None,
            modes: vec![],
            ports: vec![Port {
                code: "xinhai".into(),
                name: "Haikou Xinhai Port".into(),
                name_zh: "新海港".into(),
                kind: PortKind::Sea,
                first_line: false,
                second_line: true,
                channels: vec![],
                unverified: vec![],
            }],
        }
    }

    fn transport(port: &str) -> Transport {
        Transport {
            port: port.into(),
            mode: TransportMode::Sea,
            means: "琼A12345".into(),
            document: None,
            channel: None,
        }
    }

    #[test]
    fn a_second_line_port_takes_second_line_goods_only() {
        let p = ports();
        assert!(crossing_port(&p, Flow::SecondLineExit, &transport("xinhai")).is_ok());
        let first =
            crossing_port(&p, Flow::FirstLineImport, &transport("xinhai")).expect_err("refused");
        assert_eq!(
            (first.field.as_str(), first.kind),
            ("transport.port", FieldErrorKind::Inconsistent)
        );
        let inside =
            crossing_port(&p, Flow::IslandTransfer, &transport("xinhai")).expect_err("refused");
        assert_eq!(inside.kind, FieldErrorKind::Inconsistent);
        let unknown =
            crossing_port(&p, Flow::SecondLineExit, &transport("atlantis")).expect_err("refused");
        assert_eq!(unknown.kind, FieldErrorKind::Unknown);
        assert!(unknown.reason.contains("xinhai"), "{}", unknown.reason);
    }

    #[test]
    fn modes_read_back_and_carry_their_recommendation_19_codes() {
        for m in TransportMode::ALL {
            assert_eq!(TransportMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(TransportMode::Road.rec19_code(), 3);
        assert_eq!(TransportMode::Air.rec19_code(), 4);
        assert_eq!(TransportMode::Unknown.rec19_code(), 0);
        assert_eq!(TransportMode::parse("truck"), None);
    }

    fn waiting(id: &str, score: i64) -> Waiting {
        Waiting {
            declaration_id: id.into(),
            score: rust_decimal::Decimal::from(score),
            channel: None,
        }
    }

    #[test]
    fn capacity_admits_the_riskiest_and_overflows_the_rest() {
        let d = |n: i64| rust_decimal::Decimal::from(n);
        let open = PortDay {
            capacity: 2,
            admitted: 1,
            waiting: vec![waiting("a", 10)],
        };
        assert_eq!(admit(&open, None, d(1)), Admission::Admit);
        let full = PortDay {
            capacity: 2,
            admitted: 2,
            waiting: vec![waiting("a", 10), waiting("b", 30), waiting("c", 10)],
        };
        // The least risky gives way, the latest of equals first; an equal score does not displace.
        assert_eq!(admit(&full, None, d(20)), Admission::Displace("c".into()));
        assert_eq!(admit(&full, None, d(10)), Admission::Overflow);
        // Admitted ones already scanned are not waiting: nothing to displace.
        let scanned = PortDay {
            capacity: 2,
            admitted: 2,
            waiting: vec![],
        };
        assert_eq!(admit(&scanned, None, d(99)), Admission::Overflow);
        let closed = PortDay::default();
        assert_eq!(admit(&closed, None, d(99)), Admission::Overflow);
    }

    fn booked(id: &str, score: i64, channel: &str) -> Waiting {
        Waiting {
            channel: Some(channel.into()),
            ..waiting(id, score)
        }
    }

    #[test]
    fn a_booked_channel_bounds_its_own_red_lane_within_the_port() {
        let d = |n: i64| rust_decimal::Decimal::from(n);
        let day = PortDay {
            capacity: 4,
            admitted: 3,
            waiting: vec![
                booked("a", 5, "c1"),
                booked("b", 50, "c2"),
                waiting("c", 40),
            ],
        };
        let full = ChannelDay {
            id: "c2",
            capacity: 1,
            admitted: 1,
        };
        let room = ChannelDay {
            id: "c1",
            capacity: 2,
            admitted: 1,
        };
        // The port has room but c2 does not: only a declaration waiting at c2 can give way.
        assert_eq!(
            admit(&day, Some(&full), d(60)),
            Admission::Displace("b".into())
        );
        assert_eq!(admit(&day, Some(&full), d(45)), Admission::Overflow);
        assert_eq!(admit(&day, Some(&room), d(1)), Admission::Admit);
        // The port full, a channel with room: the least risky anywhere at the port gives way.
        let port_full = PortDay {
            admitted: 4,
            ..day.clone()
        };
        assert_eq!(
            admit(&port_full, Some(&room), d(6)),
            Admission::Displace("a".into())
        );
        assert_eq!(
            admit(&port_full, None, d(6)),
            Admission::Displace("a".into())
        );
    }

    #[test]
    fn the_port_capacity_sums_its_working_cargo_channels_unless_set_for_the_port() {
        let channel = |id: &str, kind, cap| Channel {
            id: id.into(),
            kind,
            scanners: 1,
            daily_inspection_capacity: cap,
        };
        let port = Port {
            channels: vec![
                channel("x-cargo-01", ChannelKind::Cargo, 40),
                channel("x-cargo-02", ChannelKind::Cargo, 40),
                channel("x-passenger-01", ChannelKind::Passenger, 40),
            ],
            ..ports().ports[0].clone()
        };
        let (unset, normal) = (Default::default(), Default::default());
        assert_eq!(port_capacity(&port, &unset, &normal), 80);
        let set: std::collections::BTreeMap<String, i64> = [("x-cargo-02".to_owned(), 10)].into();
        assert_eq!(port_capacity(&port, &set, &normal), 50);
        let down: std::collections::BTreeMap<String, ActiveMode> = [(
            "x-cargo-01".to_owned(),
            ActiveMode {
                mode: "scanners-down".into(),
                reroute_to: None,
            },
        )]
        .into();
        assert_eq!(port_capacity(&port, &set, &down), 10);
        let whole: std::collections::BTreeMap<String, i64> = [("xinhai".to_owned(), 7)].into();
        assert_eq!(port_capacity(&port, &whole, &down), 7);
    }
}
