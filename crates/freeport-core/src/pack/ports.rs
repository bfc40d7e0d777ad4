//! `ports.toml`: a version's ports and their customs channels.
//!
//! Channels are listed per port by kind and number (`cargo_channels = 8`) rather than one by one:
//! the sources give counts, not channel names. Each channel is named `<port>-<kind>-<nn>`.

use serde::Deserialize;

use super::PackError;
use crate::port::{Channel, ChannelKind, Port, PortKind};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPorts {
    rule: String,
    release_rule: String,
    release_targets: RawTargets,
    port: Vec<RawPort>,
    #[serde(default)]
    mode: Vec<RawMode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMode {
    code: String,
    title: String,
    effect: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTargets {
    unflagged_seconds: u32,
    scanned_seconds: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPort {
    code: String,
    name: String,
    name_zh: String,
    kind: String,
    lines: Vec<String>,
    #[serde(default)]
    cargo_channels: u16,
    #[serde(default)]
    passenger_channels: u16,
    scanners_per_channel: u16,
    daily_inspection_capacity_per_channel: u32,
    #[serde(default)]
    unverified: Vec<String>,
}

/// The ports of a `ports.toml`, with the names of the rules that designate them and govern
/// release there (resolved against the version's rules by the caller).
pub(super) struct ParsedPorts {
    pub rule: String,
    pub release_rule: String,
    pub release_targets: crate::time_release::ReleaseTargets,
    pub ports: Vec<Port>,
    pub modes: Vec<crate::port::EmergencyMode>,
}

pub(super) fn parse_ports(file: &str, text: &str) -> Result<ParsedPorts, PackError> {
    let raw: RawPorts = toml::from_str(text).map_err(|e| PackError::new(file, e.to_string()))?;
    let mut ports: Vec<Port> = Vec::with_capacity(raw.port.len());
    for p in raw.port {
        if ports.iter().any(|q| q.code == p.code) {
            return Err(PackError::new(
                file,
                format!("port {} is listed twice", p.code),
            ));
        }
        ports.push(parse_port(file, p)?);
    }
    // A channel's mode and capacity are kept under its id as a port's under its code: the two
    // must never meet.
    for p in &ports {
        if let Some(c) = ports
            .iter()
            .flat_map(|q| &q.channels)
            .find(|c| c.id == p.code)
        {
            return Err(PackError::new(
                file,
                format!("port code {} is also the id of a channel", c.id),
            ));
        }
    }
    let modes = parse_modes(file, raw.mode)?;
    Ok(ParsedPorts {
        rule: raw.rule,
        release_rule: raw.release_rule,
        release_targets: crate::time_release::ReleaseTargets {
            unflagged_seconds: raw.release_targets.unflagged_seconds,
            scanned_seconds: raw.release_targets.scanned_seconds,
        },
        ports,
        modes,
    })
}

fn parse_port(file: &str, p: RawPort) -> Result<Port, PackError> {
    if p.code.is_empty()
        || p.code.len() > 32
        || !p
            .code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(PackError::new(
            file,
            format!(
                "port code {:?}: 1 to 32 lower-case letters, digits or -",
                p.code
            ),
        ));
    }
    let kind = match p.kind.as_str() {
        "sea" => PortKind::Sea,
        "air" => PortKind::Air,
        other => {
            return Err(PackError::new(
                file,
                format!("port {}: kind {other:?} is not sea or air", p.code),
            ));
        }
    };
    let (mut first_line, mut second_line) = (false, false);
    for line in &p.lines {
        match line.as_str() {
            "first" => first_line = true,
            "second" => second_line = true,
            other => {
                return Err(PackError::new(
                    file,
                    format!("port {}: line {other:?} is not first or second", p.code),
                ));
            }
        }
    }
    let mut channels = Vec::new();
    for (kind, count, word) in [
        (ChannelKind::Cargo, p.cargo_channels, "cargo"),
        (ChannelKind::Passenger, p.passenger_channels, "passenger"),
    ] {
        for n in 1..=count {
            channels.push(Channel {
                id: format!("{}-{word}-{n:02}", p.code),
                kind,
                scanners: p.scanners_per_channel,
                daily_inspection_capacity: p.daily_inspection_capacity_per_channel,
            });
        }
    }
    Ok(Port {
        code: p.code,
        name: p.name,
        name_zh: p.name_zh,
        kind,
        first_line,
        second_line,
        channels,
        unverified: p.unverified,
    })
}

fn parse_modes(
    file: &str,
    raw: Vec<RawMode>,
) -> Result<Vec<crate::port::EmergencyMode>, PackError> {
    let mut modes: Vec<crate::port::EmergencyMode> = Vec::new();
    for m in raw {
        let effect = crate::port::ModeEffect::parse(&m.effect).ok_or_else(|| {
            PackError::new(
                file,
                format!(
                    "mode {}: effect {:?} is not red_to_manual_inspection, release_on_guarantee or reroute",
                    m.code, m.effect
                ),
            )
        })?;
        if m.code == "normal" || modes.iter().any(|x| x.code == m.code) {
            return Err(PackError::new(
                file,
                format!("mode {:?} is reserved or listed twice", m.code),
            ));
        }
        modes.push(crate::port::EmergencyMode {
            code: m.code,
            title: m.title,
            effect,
        });
    }
    Ok(modes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_named_by_port_kind_and_number() {
        let parsed = parse_ports(
            "ports.toml",
            r#"rule = "R2.2"
release_rule = "R2.4"
release_targets = { unflagged_seconds = 60, scanned_seconds = 120 }
[[port]]
code = "xinhai"
name = "Haikou Xinhai Port"
name_zh = "新海港"
kind = "sea"
lines = ["second"]
cargo_channels = 2
passenger_channels = 1
scanners_per_channel = 1
daily_inspection_capacity_per_channel = 40
"#,
        )
        .expect("parses");
        let ids: Vec<&str> = parsed.ports[0]
            .channels
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(
            ids,
            ["xinhai-cargo-01", "xinhai-cargo-02", "xinhai-passenger-01"]
        );
        assert!(parsed.ports[0].second_line && !parsed.ports[0].first_line);
    }

    #[test]
    fn a_bad_kind_or_line_or_a_repeated_code_is_refused_by_name() {
        let port = |code: &str, kind: &str, line: &str| {
            format!(
                "[[port]]\ncode = \"{code}\"\nname = \"n\"\nname_zh = \"n\"\nkind = \"{kind}\"\nlines = [\"{line}\"]\nscanners_per_channel = 1\ndaily_inspection_capacity_per_channel = 1\n"
            )
        };
        let head = "rule = \"R2.2\"\nrelease_rule = \"R2.4\"\nrelease_targets = { unflagged_seconds = 60, scanned_seconds = 120 }\n";
        for (text, expected) in [
            (format!("{head}{}", port("a", "rail", "second")), "kind"),
            (format!("{head}{}", port("a", "sea", "third")), "line"),
            (format!("{head}{}", port("A", "sea", "second")), "port code"),
            (
                format!(
                    "{head}{}{}",
                    port("a", "sea", "second"),
                    port("a", "air", "first")
                ),
                "twice",
            ),
        ] {
            let e = parse_ports("ports.toml", &text).err().expect("refused");
            assert!(e.reason.contains(expected), "{}", e.reason);
        }
    }
}
