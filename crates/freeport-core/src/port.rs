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
    /// What the port's cargo channels can inspect by hand in a day, together.
    pub fn daily_inspection_capacity(&self) -> i64 {
        self.channels
            .iter()
            .filter(|c| c.kind == ChannelKind::Cargo)
            .map(|c| i64::from(c.daily_inspection_capacity))
            .sum()
    }

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
    let in_force = modes
        .get(&port.code)
        .and_then(|active| Some((active, v.ports.mode(&active.mode)?)));
    if let Some((active, mode)) = in_force {
        if mode.effect == ModeEffect::Reroute {
            return Err(FieldError::new(
                "transport.port",
                FieldErrorKind::Inconsistent,
                format!(
                    "{} is closed ({}): cross at {}",
                    port.name,
                    mode.title,
                    active.reroute_to.as_deref().unwrap_or("another port")
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
/// Among waiting declarations of equal score the latest admitted gives way first.
pub fn admit(day: &PortDay, score: rust_decimal::Decimal) -> Admission {
    if day.admitted < day.capacity {
        return Admission::Admit;
    }
    let weakest = day
        .waiting
        .iter()
        .enumerate()
        .min_by(|(i, a), (j, b)| a.score.cmp(&b.score).then(j.cmp(i)));
    match weakest {
        Some((_, w)) if score > w.score => Admission::Displace(w.declaration_id.clone()),
        _ => Admission::Overflow,
    }
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
        assert_eq!(admit(&open, d(1)), Admission::Admit);
        let full = PortDay {
            capacity: 2,
            admitted: 2,
            waiting: vec![waiting("a", 10), waiting("b", 30), waiting("c", 10)],
        };
        // The least risky gives way, the latest of equals first; an equal score does not displace.
        assert_eq!(admit(&full, d(20)), Admission::Displace("c".into()));
        assert_eq!(admit(&full, d(10)), Admission::Overflow);
        // Admitted ones already scanned are not waiting: nothing to displace.
        let scanned = PortDay {
            capacity: 2,
            admitted: 2,
            waiting: vec![],
        };
        assert_eq!(admit(&scanned, d(99)), Admission::Overflow);
        let closed = PortDay::default();
        assert_eq!(admit(&closed, d(99)), Admission::Overflow);
    }
}
