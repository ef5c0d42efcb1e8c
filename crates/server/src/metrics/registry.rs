//! Counters and histograms with labels, written in Prometheus' text exposition format (0.0.4).
//! Small on purpose: a few atomics per series, a read lock to find one, no allocation once a
//! series exists.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Upper bounds of the latency buckets, seconds: from a cached answer to a slow export.
pub const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A histogram over [`LATENCY_BUCKETS`]; the sum is kept in nanoseconds (an integer adds
/// atomically).
#[derive(Debug, Default)]
pub struct Histogram {
    /// Per bucket (not cumulative), then the overflow past the last bound.
    counts: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, elapsed: std::time::Duration) {
        let secs = elapsed.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|&bound| secs <= bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_nanos.fetch_add(
            elapsed.as_nanos().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
    }
}

/// One metric's series, by label values (in the order of `labels`).
pub struct Family<M> {
    pub name: &'static str,
    pub help: &'static str,
    pub labels: &'static [&'static str],
    /// By a hash of the label values; equal hashes share a slot.
    series: RwLock<HashMap<u64, Vec<Series<M>>>>,
}

/// Label values and their metric.
type Series<M> = (Vec<String>, Arc<M>);

fn hash_of(values: &[&str]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    values.hash(&mut hasher);
    hasher.finish()
}

fn same(key: &[String], values: &[&str]) -> bool {
    key.iter().map(String::as_str).eq(values.iter().copied())
}

impl<M: Default> Family<M> {
    pub fn new(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Self {
        Family {
            name,
            help,
            labels,
            series: RwLock::default(),
        }
    }

    /// The series of these label values, made on first use.
    pub fn with(&self, values: &[&str]) -> Arc<M> {
        debug_assert_eq!(values.len(), self.labels.len(), "{}", self.name);
        let hash = hash_of(values);
        {
            let series = self.series.read().unwrap_or_else(|e| e.into_inner());
            let found = series
                .get(&hash)
                .and_then(|slot| slot.iter().find(|(key, _)| same(key, values)));
            if let Some((_, metric)) = found {
                return metric.clone();
            }
        }
        let mut series = self.series.write().unwrap_or_else(|e| e.into_inner());
        let slot = series.entry(hash).or_default();
        if let Some((_, metric)) = slot.iter().find(|(key, _)| same(key, values)) {
            return metric.clone();
        }
        let metric = Arc::new(M::default());
        slot.push((
            values.iter().map(|v| (*v).to_owned()).collect(),
            metric.clone(),
        ));
        metric
    }

    /// Every series, sorted by label values (a stable page).
    fn sorted(&self) -> Vec<Series<M>> {
        let series = self.series.read().unwrap_or_else(|e| e.into_inner());
        let mut all: Vec<_> = series
            .values()
            .flatten()
            .map(|(k, m)| (k.clone(), m.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

/// `{a="x",b="y"}` (empty without labels), with `extra` appended (a histogram's `le`).
fn label_set(names: &[&str], values: &[String], extra: Option<(&str, &str)>) -> String {
    let pairs: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(n, v)| (*n, v.as_str()))
        .chain(extra)
        .map(|(n, v)| format!("{n}=\"{}\"", escape(v)))
        .collect();
    if pairs.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", pairs.join(","))
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

pub fn write_counters(out: &mut String, family: &Family<Counter>) {
    header(out, family.name, family.help, "counter");
    for (values, counter) in family.sorted() {
        let labels = label_set(family.labels, &values, None);
        let _ = writeln!(out, "{}{labels} {}", family.name, counter.get());
    }
}

pub fn write_histograms(out: &mut String, family: &Family<Histogram>) {
    header(out, family.name, family.help, "histogram");
    for (values, histogram) in family.sorted() {
        let mut cumulative = 0;
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            cumulative += histogram.counts[i].load(Ordering::Relaxed);
            let le = bound.to_string();
            let labels = label_set(family.labels, &values, Some(("le", &le)));
            let _ = writeln!(out, "{}_bucket{labels} {cumulative}", family.name);
        }
        cumulative += histogram.counts[LATENCY_BUCKETS.len()].load(Ordering::Relaxed);
        let labels = label_set(family.labels, &values, Some(("le", "+Inf")));
        let _ = writeln!(out, "{}_bucket{labels} {cumulative}", family.name);
        let labels = label_set(family.labels, &values, None);
        let sum = histogram.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{}_sum{labels} {sum}", family.name);
        let _ = writeln!(out, "{}_count{labels} {cumulative}", family.name);
    }
}

/// A gauge read when scraped: one line per label values given.
pub fn write_gauge(
    out: &mut String,
    name: &str,
    help: &str,
    labels: &[&str],
    values: &[(Vec<String>, f64)],
) {
    header(out, name, help, "gauge");
    for (label_values, value) in values {
        let labels = label_set(labels, label_values, None);
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_histogram_is_cumulative_and_escapes_its_labels() {
        let family: Family<Histogram> = Family::new("t_seconds", "Help.", &["route"]);
        family.with(&["/a\"b"]).observe(Duration::from_micros(300));
        family.with(&["/a\"b"]).observe(Duration::from_millis(30));
        family.with(&["/a\"b"]).observe(Duration::from_secs(60));
        let mut out = String::new();
        write_histograms(&mut out, &family);
        assert!(out.contains("t_seconds_bucket{route=\"/a\\\"b\",le=\"0.0005\"} 1\n"));
        assert!(out.contains("t_seconds_bucket{route=\"/a\\\"b\",le=\"0.05\"} 2\n"));
        assert!(out.contains("t_seconds_bucket{route=\"/a\\\"b\",le=\"10\"} 2\n"));
        assert!(out.contains("t_seconds_bucket{route=\"/a\\\"b\",le=\"+Inf\"} 3\n"));
        assert!(out.contains("t_seconds_count{route=\"/a\\\"b\"} 3\n"));
        assert!(
            out.contains("t_seconds_sum{route=\"/a\\\"b\"} 60.0303\n"),
            "{out}"
        );
    }

    #[test]
    fn one_series_per_label_values() {
        let family: Family<Counter> = Family::new("t_total", "Help.", &["a", "b"]);
        family.with(&["x", "y"]).inc();
        family.with(&["x", "y"]).add(2);
        family.with(&["x", "z"]).inc();
        let mut out = String::new();
        write_counters(&mut out, &family);
        assert_eq!(
            out,
            "# HELP t_total Help.\n# TYPE t_total counter\n\
             t_total{a=\"x\",b=\"y\"} 3\nt_total{a=\"x\",b=\"z\"} 1\n"
        );
    }
}
