//! What a phase measured, merged from the device workers and goose, printed with the goals.

use crate::worker::WorkerReport;

/// Every request kind under this at p99, at 10x the peak.
pub const GOAL_P99_MS: f64 = 50.0;
/// One approval's event at every live connection within this.
pub const GOAL_FANOUT_MS: u64 = 2_000;
/// The server's resident set stays under this.
pub const GOAL_RSS_MIB: f64 = 1024.0;

/// The device workers' reports of one phase, merged into one.
impl WorkerReport {
    pub fn merge(&mut self, report: WorkerReport) {
        for (kind, mut values) in report.latencies_us {
            self.latencies_us
                .entry(kind)
                .or_default()
                .append(&mut values);
        }
        for (version, arrival) in report.versions {
            let merged = self.versions.entry(version).or_default();
            merged.first_ms = if merged.count == 0 {
                arrival.first_ms
            } else {
                merged.first_ms.min(arrival.first_ms)
            };
            merged.count += arrival.count;
            merged.last_ms = merged.last_ms.max(arrival.last_ms);
        }
        self.signed_out += report.signed_out;
        for (what, n) in report.errors {
            *self.errors.entry(what).or_default() += n;
        }
        self.reconnects += report.reconnects;
        self.live += report.live;
        for (version, devices) in report.newest {
            *self.newest.entry(version).or_default() += devices;
        }
    }

    /// Of the live devices not signed out: how many were told of `version` (or a newer one),
    /// and how many there are.
    pub fn told_of(&self, version: i64) -> (u32, u32) {
        let told = self.newest.range(version..).map(|(_, n)| n).sum();
        (told, self.newest.values().sum())
    }

    /// (kind, count, p50 ms, p99 ms) per kind.
    pub fn percentiles(&mut self) -> Vec<(String, usize, f64, f64)> {
        self.latencies_us
            .iter_mut()
            .map(|(kind, values)| {
                values.sort_unstable();
                (
                    kind.clone(),
                    values.len(),
                    percentile(values, 0.5),
                    percentile(values, 0.99),
                )
            })
            .collect()
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

/// One row of the latency table.
pub struct Row {
    pub kind: String,
    pub count: usize,
    pub failed: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

pub fn print_rows(rows: &[Row], scale: f64) {
    println!(
        "  {:<32} {:>8} {:>7} {:>9} {:>9}   goal p99 < {GOAL_P99_MS} ms",
        "request kind", "count", "failed", "p50 ms", "p99 ms"
    );
    for row in rows {
        let verdict = if scale < 10.0 || row.kind.starts_with('(') {
            ""
        } else if row.p99_ms < GOAL_P99_MS && row.failed == 0 {
            "met"
        } else {
            "NOT met"
        };
        println!(
            "  {:<32} {:>8} {:>7} {:>9.1} {:>9.1}   {verdict}",
            row.kind, row.count, row.failed, row.p50_ms, row.p99_ms
        );
    }
}

pub fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_approval_is_counted_device_by_device_across_workers() {
        let worker = |newest: &[(i64, u32)]| WorkerReport {
            newest: newest.iter().copied().collect(),
            ..Default::default()
        };
        let mut merged = WorkerReport::default();
        merged.merge(worker(&[(3, 10), (5, 990)]));
        merged.merge(worker(&[(5, 1_000)]));
        assert_eq!(merged.told_of(5), (1_990, 2_000), "ten devices missed it");
        assert_eq!(
            merged.told_of(3),
            (2_000, 2_000),
            "a newer version implies the older"
        );
        merged.merge(worker(&[(i64::MIN, 1)]));
        assert_eq!(merged.told_of(3), (2_000, 2_001), "one never connected");
    }
}
