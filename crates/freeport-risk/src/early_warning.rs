//! Early warning on flows: a day's count against its own recent history.
//!
//! A day is a spike when it reaches the highest of three bars: a floor (a handful of declarations
//! is never a spike), a multiple of the baseline mean, and the mean plus a number of standard
//! deviations. The three together keep a quiet code (mean near zero) from alerting on its second
//! declaration and a noisy one from alerting on its ordinary peaks.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SpikeThreshold {
    /// Days of history the baseline is computed over.
    pub baseline_days: usize,
    pub sigmas: f64,
    pub min_count: u64,
    pub min_ratio: f64,
}

impl Default for SpikeThreshold {
    fn default() -> Self {
        SpikeThreshold {
            baseline_days: 28,
            sigmas: 3.0,
            min_count: 10,
            min_ratio: 2.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spike {
    pub today: u64,
    pub baseline_mean: f64,
    pub baseline_sd: f64,
    /// The bar `today` reached.
    pub bar: f64,
}

/// `history` is one count per day before today, oldest first, days without any as zeros; only
/// the last `baseline_days` of it are used.
pub fn flow_spike(history: &[u64], today: u64, t: &SpikeThreshold) -> Option<Spike> {
    let base = &history[history.len().saturating_sub(t.baseline_days)..];
    let n = base.len().max(1) as f64;
    let mean = base.iter().map(|&c| c as f64).sum::<f64>() / n;
    let var = base.iter().map(|&c| (c as f64 - mean).powi(2)).sum::<f64>() / n;
    let sd = var.sqrt();
    let bar = (t.min_count as f64)
        .max(mean * t.min_ratio)
        .max(mean + t.sigmas * sd);
    (today as f64 >= bar).then_some(Spike {
        today,
        baseline_mean: mean,
        baseline_sd: sd,
        bar,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_code_needs_the_floor() {
        let t = SpikeThreshold::default();
        assert_eq!(flow_spike(&[0; 28], 9, &t), None);
        let s = flow_spike(&[0; 28], 10, &t).expect("the floor is reached");
        assert_eq!(s.bar, 10.0);
    }

    #[test]
    fn a_steady_flow_alerts_at_twice_its_mean() {
        let t = SpikeThreshold::default();
        let history = [20u64; 28];
        assert_eq!(flow_spike(&history, 39, &t), None);
        assert!(flow_spike(&history, 40, &t).is_some());
    }

    #[test]
    fn a_noisy_flow_alerts_only_beyond_three_deviations() {
        let t = SpikeThreshold::default();
        // Alternating 10 and 50: mean 30, sd 20, so the bar is 90, not 60.
        let history: Vec<u64> = (0..28).map(|i| if i % 2 == 0 { 10 } else { 50 }).collect();
        assert_eq!(flow_spike(&history, 89, &t), None);
        let s = flow_spike(&history, 90, &t).expect("spike");
        assert_eq!((s.baseline_mean, s.baseline_sd, s.bar), (30.0, 20.0, 90.0));
    }

    #[test]
    fn only_the_baseline_window_counts() {
        let t = SpikeThreshold::default();
        // A busy season long ago does not raise today's bar.
        let mut history = vec![1000u64; 100];
        history.extend([5u64; 28]);
        assert!(flow_spike(&history, 12, &t).is_some());
    }
}
