//! The service's metrics in Prometheus' text format: requests by route and status, a latency
//! histogram, rows predicted per model version, batch sizes, and the version being served.
//!
//! Counters are atomics (the histogram) or a short mutex-guarded map (the labelled counts), so
//! recording costs well under a microsecond next to a request's tens.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds (Prometheus' `le`).
pub const LATENCY_BUCKETS: [f64; 15] = [
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 1.0,
];

/// Upper bounds of the batch-size buckets, in rows.
pub const BATCH_BUCKETS: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

struct Histogram<const N: usize> {
    bounds: [f64; N],
    /// One count per bound, then the overflow (`+Inf`) count.
    counts: Vec<AtomicU64>,
    sum_micros: AtomicU64,
}

impl<const N: usize> Histogram<N> {
    fn new(bounds: [f64; N]) -> Self {
        Histogram {
            bounds,
            counts: (0..=N).map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
        }
    }

    fn observe(&self, value: f64) {
        let at = self.bounds.iter().position(|&b| value <= b).unwrap_or(N);
        self.counts[at].fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((value * 1e6).round() as u64, Ordering::Relaxed);
    }

    fn render(&self, name: &str, help: &str, out: &mut String) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, count) in self.counts.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let le = self
                .bounds
                .get(i)
                .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {cumulative}");
    }
}

/// Everything the service counts.
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    predicted_rows: Mutex<BTreeMap<String, u64>>,
    latency: Histogram<15>,
    batch_rows: Histogram<8>,
    reloads_refused: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: Mutex::new(BTreeMap::new()),
            predicted_rows: Mutex::new(BTreeMap::new()),
            latency: Histogram::new(LATENCY_BUCKETS),
            batch_rows: Histogram::new(BATCH_BUCKETS),
            reloads_refused: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// One answered request: its route (one of the service's, or `other`), status and latency.
    pub fn record_request(&self, route: &'static str, status: u16, latency: Duration) {
        *lock(&self.requests).entry((route, status)).or_default() += 1;
        if route == "/predict" {
            self.latency.observe(latency.as_secs_f64());
        }
    }

    /// Rows answered by one model version.
    pub fn record_prediction(&self, version: &str, rows: usize) {
        let mut predicted = lock(&self.predicted_rows);
        match predicted.get_mut(version) {
            Some(count) => *count += rows as u64,
            None => {
                predicted.insert(version.to_string(), rows as u64);
            }
        }
    }

    /// The rows of one batch the model ran on.
    pub fn record_batch(&self, rows: usize) {
        self.batch_rows.observe(rows as f64);
    }

    pub fn record_refused_reload(&self) {
        self.reloads_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// The text a Prometheus server scrapes.
    pub fn render(&self, serving_version: &str) -> String {
        let mut out = String::new();
        out.push_str("# HELP workbook_requests_total Requests answered, by route and status.\n# TYPE workbook_requests_total counter\n");
        for ((route, status), count) in lock(&self.requests).iter() {
            let _ = writeln!(
                out,
                "workbook_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
            );
        }
        self.latency.render(
            "workbook_predict_duration_seconds",
            "Time from a /predict request's arrival to its answer.",
            &mut out,
        );
        self.batch_rows.render(
            "workbook_batch_rows",
            "Rows in each batch the model ran on.",
            &mut out,
        );
        out.push_str("# HELP workbook_predicted_rows_total Rows answered, by model version.\n# TYPE workbook_predicted_rows_total counter\n");
        for (version, count) in lock(&self.predicted_rows).iter() {
            let _ = writeln!(
                out,
                "workbook_predicted_rows_total{{version=\"{}\"}} {count}",
                escape(version)
            );
        }
        let _ = writeln!(
            out,
            "# HELP workbook_reloads_refused_total Reloads refused (the previous model kept serving).\n# TYPE workbook_reloads_refused_total counter\nworkbook_reloads_refused_total {}",
            self.reloads_refused.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP workbook_model_info The model version being served.\n# TYPE workbook_model_info gauge\nworkbook_model_info{{version=\"{}\"}} 1",
            escape(serving_version)
        );
        out
    }
}

/// A label value with Prometheus' escapes.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_counted_once() {
        let metrics = Metrics::default();
        for micros in [50, 300, 300, 2_000_000] {
            metrics.record_request("/predict", 200, Duration::from_micros(micros));
        }
        metrics.record_request("/health", 200, Duration::from_micros(10));
        let text = metrics.render("3");
        assert!(text.contains("workbook_predict_duration_seconds_bucket{le=\"0.00005\"} 1\n"));
        assert!(text.contains("workbook_predict_duration_seconds_bucket{le=\"0.0005\"} 3\n"));
        assert!(text.contains("workbook_predict_duration_seconds_bucket{le=\"1\"} 3\n"));
        assert!(text.contains("workbook_predict_duration_seconds_bucket{le=\"+Inf\"} 4\n"));
        assert!(text.contains("workbook_predict_duration_seconds_count 4\n"));
        assert!(text.contains("workbook_requests_total{route=\"/predict\",status=\"200\"} 4\n"));
        assert!(text.contains("workbook_model_info{version=\"3\"} 1\n"));
    }
}
