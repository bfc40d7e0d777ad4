//! Time-release figures after the WCO Time Release Study: how long each stage of a clearance took,
//! from lodgement to release and from release to the goods' exit at the channel, grouped by port,
//! channel, lane, flow or credit class.
//!
//! Percentiles are nearest-rank: the p-th percentile of n sorted times is the one at rank
//! ceil(p x n / 100) (1-based), so every figure is a time that was measured; the median is the
//! 50th. The mean is rounded half up to the millisecond. Stages not reached (a declaration not yet
//! released, goods not yet across) are not counted in that stage.

use serde::Serialize;

/// One declaration's clearance, in milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clearance {
    pub port: String,
    /// The channel the goods crossed at, once they did.
    pub channel: Option<String>,
    pub lane: String,
    pub flow: String,
    pub credit_class: String,
    pub lodged_ms: i64,
    pub released_ms: Option<i64>,
    pub exited_ms: Option<i64>,
    /// Released after a manual inspection: its release has no target.
    pub inspected: bool,
}

/// How soon release should follow lodgement (R2.4): about a minute for an unflagged truck, about
/// two for one scanned (manual inspection after an alerting scan not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReleaseTargets {
    pub unflagged_seconds: u32,
    pub scanned_seconds: u32,
}

impl ReleaseTargets {
    /// The target of a clearance's release, if it has one: by lane, and none after an inspection.
    pub fn for_clearance(&self, c: &Clearance) -> Option<i64> {
        if c.inspected {
            return None;
        }
        let seconds = match c.lane.as_str() {
            "green" | "blue" => self.unflagged_seconds,
            "red" => self.scanned_seconds,
            _ => return None,
        };
        Some(i64::from(seconds) * 1000)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Port,
    Channel,
    Lane,
    Flow,
    CreditClass,
}

impl GroupBy {
    pub const ALL: [GroupBy; 5] = [
        GroupBy::Port,
        GroupBy::Channel,
        GroupBy::Lane,
        GroupBy::Flow,
        GroupBy::CreditClass,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Port => "port",
            GroupBy::Channel => "channel",
            GroupBy::Lane => "lane",
            GroupBy::Flow => "flow",
            GroupBy::CreditClass => "credit_class",
        }
    }

    pub fn parse(text: &str) -> Option<GroupBy> {
        GroupBy::ALL.into_iter().find(|g| g.as_str() == text)
    }

    fn key(self, c: &Clearance) -> &str {
        match self {
            GroupBy::Port => &c.port,
            GroupBy::Channel => c.channel.as_deref().unwrap_or("none"),
            GroupBy::Lane => &c.lane,
            GroupBy::Flow => &c.flow,
            GroupBy::CreditClass => &c.credit_class,
        }
    }
}

/// One stage's times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StageFigures {
    pub count: u64,
    pub mean_ms: i64,
    pub median_ms: i64,
    pub p90_ms: i64,
    pub max_ms: i64,
}

/// A group's stages: lodgement to release, release to exit, lodgement to exit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupFigures {
    pub key: String,
    pub lodged: u64,
    pub release: Option<StageFigures>,
    pub exit: Option<StageFigures>,
    pub end_to_end: Option<StageFigures>,
    /// Releases that have a target (R2.4), and how many of them met it.
    pub releases_with_target: u64,
    pub releases_within_target: u64,
}

/// The stage figures of `times` (milliseconds), or none when no clearance reached the stage.
pub fn stage(mut times: Vec<i64>) -> Option<StageFigures> {
    if times.is_empty() {
        return None;
    }
    times.sort_unstable();
    let n = times.len();
    let rank = |p: usize| times[(p * n).div_ceil(100).max(1) - 1];
    let sum: i128 = times.iter().map(|&t| i128::from(t)).sum();
    let n128 = i128::try_from(n).unwrap_or(i128::MAX);
    // Half up: (2 sum + n) / 2n, exact in integers for non-negative sums.
    let mean = (2 * sum + n128).div_euclid(2 * n128);
    Some(StageFigures {
        count: n as u64,
        mean_ms: i64::try_from(mean).unwrap_or(i64::MAX),
        median_ms: rank(50),
        p90_ms: rank(90),
        max_ms: times[n - 1],
    })
}

/// The figures of `clearances` grouped by `by`, groups in key order, releases measured against
/// `targets`.
pub fn figures(
    clearances: &[Clearance],
    by: GroupBy,
    targets: Option<&ReleaseTargets>,
) -> Vec<GroupFigures> {
    let mut groups: std::collections::BTreeMap<&str, Vec<&Clearance>> = Default::default();
    for c in clearances {
        groups.entry(by.key(c)).or_default().push(c);
    }
    groups
        .into_iter()
        .map(|(key, members)| {
            let release = members
                .iter()
                .filter_map(|c| Some(c.released_ms? - c.lodged_ms))
                .collect();
            let exit = members
                .iter()
                .filter_map(|c| Some(c.exited_ms? - c.released_ms?))
                .collect();
            let end_to_end = members
                .iter()
                .filter_map(|c| Some(c.exited_ms? - c.lodged_ms))
                .collect();
            let measured: Vec<(i64, i64)> = members
                .iter()
                .filter_map(|c| Some((c.released_ms? - c.lodged_ms, targets?.for_clearance(c)?)))
                .collect();
            GroupFigures {
                releases_with_target: measured.len() as u64,
                releases_within_target: measured.iter().filter(|(t, target)| t <= target).count()
                    as u64,
                key: key.to_owned(),
                lodged: members.len() as u64,
                release: stage(release),
                exit: stage(exit),
                end_to_end: stage(end_to_end),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank_and_the_mean_rounds_half_up() {
        let s = stage(vec![300, 100, 200, 400]).expect("four times");
        assert_eq!(
            (s.count, s.mean_ms, s.median_ms, s.p90_ms, s.max_ms),
            (4, 250, 200, 400, 400)
        );
        // 1 + 2 = 3 over 2 = 1.5: half up to 2.
        assert_eq!(stage(vec![1, 2]).map(|s| s.mean_ms), Some(2));
        let one = stage(vec![7]).expect("one");
        assert_eq!((one.median_ms, one.p90_ms), (7, 7));
        assert_eq!(stage(vec![]), None);
        // Ten times 1..=10: the 90th percentile is the 9th, the median the 5th.
        let ten = stage((1..=10).collect()).expect("ten");
        assert_eq!((ten.median_ms, ten.p90_ms), (5, 9));
    }

    #[test]
    fn stages_not_reached_are_not_counted() {
        let c = |lane: &str, released: Option<i64>, exited: Option<i64>| Clearance {
            port: "xinhai".into(),
            channel: exited.map(|_| "xinhai-cargo-01".into()),
            lane: lane.into(),
            flow: "second_line_exit".into(),
            credit_class: "general".into(),
            lodged_ms: 1_000,
            released_ms: released,
            exited_ms: exited,
            inspected: false,
        };
        let all = [
            c("green", Some(1_000), Some(61_000)),
            c("red", Some(91_000), None),
            c("red", None, None),
        ];
        let targets = ReleaseTargets {
            unflagged_seconds: 60,
            scanned_seconds: 120,
        };
        let by_lane = figures(&all, GroupBy::Lane, Some(&targets));
        assert_eq!(by_lane.len(), 2);
        let red = &by_lane[1];
        assert_eq!((red.key.as_str(), red.lodged), ("red", 2));
        assert_eq!(red.release.map(|s| s.count), Some(1));
        assert_eq!(red.exit, None);
        assert_eq!(
            (red.releases_with_target, red.releases_within_target),
            (1, 1)
        );
        let green = &by_lane[0];
        assert_eq!(green.end_to_end.map(|s| s.mean_ms), Some(60_000));
        assert_eq!(
            (green.releases_with_target, green.releases_within_target),
            (1, 1)
        );
        let by_channel = figures(&all, GroupBy::Channel, None);
        assert_eq!(
            by_channel
                .iter()
                .map(|g| g.key.as_str())
                .collect::<Vec<_>>(),
            ["none", "xinhai-cargo-01"]
        );
    }
}
