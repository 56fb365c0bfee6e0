//! # Monitoring a model in production
//!
//! **Question:** How do you detect drift and degradation in production?
//!
//! **Answer:** Watch three things. Inputs: compare each window of production features with the
//! training distribution — a two-sample Kolmogorov–Smirnov test gives a p-value with a known
//! false-alarm rate, the population stability index a rule-of-thumb size — and this needs no
//! labels, so it fires first. Outcomes: accuracy on the requests whose true labels have come back,
//! which lags by however long labels take. Service: latency quantiles and error rates from the
//! service's own metrics. Set thresholds from the false-alarm rate you can afford and measure it on
//! data from before any change.
//!
//! **Evidence:** A stream of 14,000 (quick) or 21,000 requests through the service draws birds at
//! random; from request 10,000 (15,000) the bill gauge reads 5 mm long. Per window of 250 requests,
//! a two-sample KS test against the training data flags the first window after the fault (p <
//! 0.001; PSI 1.3–1.8 against at most 0.12 before), and none of the 40 (60) windows before it.
//! Accuracy falls from 99.5 % to about 90 %, but with labels arriving 1,000 requests late the
//! rolling accuracy shows it only 1,500–1,750 requests after the fault. The service's own histogram
//! gives p50 ≈ 5–7 µs and p99 ≈ 80–185 µs of server time, against the clients' p50 ≈ 0.2 ms and p99
//! ≈ 1.1–1.5 ms.
//!
//! **Run:** `cargo run --example model_monitoring` (add `-- --quick` for a short run, `-- --serve`
//! to keep its server running for you).

use std::sync::Mutex;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use anyhow::Context;
use harness::prelude::*;
use harness::serve::http_get;
use lessons_deploy::{ModelServer, PenguinModel, load_test, scrape, single_row_bodies};
use ndarray::Array2;
use rand::Rng;
use serde_json::Value;

/// Requests per monitoring window, and the label delay (in requests).
const WINDOW: usize = 250;
const LABEL_DELAY: usize = 1_000;
/// A window is flagged when some feature's Kolmogorov–Smirnov p-value is below this.
const KS_ALPHA: f64 = 0.001;
/// The calibration fault: from the shift on, bills are measured this much too long (mm).
const BILL_BIAS: f64 = 5.0;

/// The population stability index of `actual` against `reference`, over the reference's decile
/// bins (merged where ties make two edges equal): Σ (a − e) ln(a / e).
fn psi(reference: &[f64], actual: &[f64]) -> f64 {
    let mut sorted = reference.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = (1..10).map(|k| sorted[k * sorted.len() / 10]).collect();
    edges.dedup();
    let shares = |values: &[f64]| -> Vec<f64> {
        let mut counts = vec![0.0; edges.len() + 1];
        for &v in values {
            counts[edges.partition_point(|&e| e <= v)] += 1.0;
        }
        counts
            .iter()
            .map(|c| (c / values.len() as f64).max(1e-4))
            .collect()
    };
    let (e, a) = (shares(reference), shares(actual));
    e.iter().zip(&a).map(|(e, a)| (a - e) * (a / e).ln()).sum()
}

/// A quantile from a Prometheus histogram's cumulative buckets, interpolated inside the bucket
/// as `histogram_quantile` does.
fn histogram_quantile(metrics: &str, name: &str, q: f64) -> f64 {
    let buckets: Vec<(f64, f64)> = metrics
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(&format!("{name}_bucket{{le=\""))?;
            let (le, count) = rest.split_once("\"} ")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, count.parse().ok()?))
        })
        .collect();
    let total = buckets.last().map_or(0.0, |b| b.1);
    let rank = q * total;
    let mut below = (0.0, 0.0);
    for &(le, count) in &buckets {
        if count >= rank {
            if le.is_infinite() {
                return below.0;
            }
            return below.0 + (le - below.0) * (rank - below.1) / (count - below.1).max(1.0);
        }
        below = (le, count);
    }
    f64::NAN
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // Step 1: the model in production, and the reference it is watched against: the training
    // rows' distribution of each measurement.
    let model = PenguinModel::fit("1", lesson.seed(), 1.0)?;
    let path = lesson.out_file("models/penguins.wbm");
    model.save(&path)?;
    let server = ModelServer::start(&["--model", &path.to_string_lossy()])?;
    let url = server.url().to_string();
    lesson.record_endpoint(&url)?;
    let features = model.artefact().metadata().features().to_vec();
    let numeric = 4; // bill length, bill depth, flipper length, body mass come first
    let reference: Vec<Vec<f64>> = (0..numeric)
        .map(|j| {
            model
                .train_x()
                .column(j)
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .collect()
        })
        .collect();

    // Step 2: the traffic. Birds are drawn at random from every complete bird in the data set;
    // at a known request the bill-measuring device goes out of calibration and reads 5 mm long.
    // Each request's true species is learnt only LABEL_DELAY requests later.
    let penguins = datasets::penguins()?;
    let complete: Vec<usize> = (0..penguins.features.nrows())
        .filter(|&i| penguins.features.row(i).iter().all(|v| v.is_finite()))
        .collect();
    let before = lesson.pick(60, 40) * WINDOW;
    let requests = before + lesson.pick(24, 16) * WINDOW;
    let mut rng = lesson.rng(1);
    let mut stream = Array2::zeros((requests, features.len()));
    let mut truth = Vec::with_capacity(requests);
    for t in 0..requests {
        let bird = complete[rng.gen_range(0..complete.len())];
        stream.row_mut(t).assign(&penguins.features.row(bird));
        if t >= before {
            stream[[t, 0]] += BILL_BIAS;
        }
        truth.push(penguins.target[bird]);
    }
    let bodies = single_row_bodies(&features, &stream);
    let classes = model.artefact().metadata().classes().to_vec();
    let predicted = Mutex::new(vec![usize::MAX; requests]);
    let report = load_test(
        &url,
        "/predict",
        8,
        requests,
        Duration::from_secs(60),
        &AtomicUsize::new(0),
        |t| &bodies[t],
        |t, _, answer| {
            let class = serde_json::from_str::<Value>(answer.body())
                .ok()
                .and_then(|v| {
                    classes
                        .iter()
                        .position(|c| v["predictions"][0]["class"] == c.as_str())
                });
            if let Some(class) = class {
                predicted.lock().unwrap_or_else(|p| p.into_inner())[t] = class;
            }
            answer.status() == 200 && class.is_some()
        },
    );
    ensure!(report.failed() == 0, "{} requests failed", report.failed());
    let predicted = predicted.into_inner().unwrap_or_else(|p| p.into_inner());
    println!(
        "{requests} requests through the service ({:.0}/s); the calibration fault starts at request {before}",
        report.throughput()
    );

    // Step 3: input drift, window by window. For each numeric feature: the KS test against the
    // reference (flag at p < 0.001) and the PSI (the industry's rule of thumb: > 0.25 is a major
    // shift). Inputs need no labels, so this can fire as soon as a window is full.
    let windows = requests / WINDOW;
    let mut smallest_p = Vec::with_capacity(windows);
    let mut largest_psi = Vec::with_capacity(windows);
    for w in 0..windows {
        let rows = stream.slice(ndarray::s![w * WINDOW..(w + 1) * WINDOW, ..]);
        let (mut p_min, mut psi_max) = (1.0f64, 0.0f64);
        for (j, reference) in reference.iter().enumerate() {
            let window: Vec<f64> = rows.column(j).to_vec();
            // The two-sample KS test (scipy's ks_2samp): the largest gap between the window's and
            // the reference's distribution functions, and how often a gap that large arises
            // between two samples of one distribution.
            let test = toolkit::metrics::ks_two_sample(reference, &window)?;
            p_min = p_min.min(test.p_value);
            psi_max = psi_max.max(psi(reference, &window));
        }
        smallest_p.push(p_min);
        largest_psi.push(psi_max);
    }
    let first_after = before / WINDOW;
    let false_alarms = smallest_p[..first_after]
        .iter()
        .filter(|&&p| p < KS_ALPHA)
        .count();
    let false_alarm_rate = false_alarms as f64 / first_after as f64;
    let detected = (first_after..windows).find(|&w| smallest_p[w] < KS_ALPHA);
    let delay = detected.map(|w| (w + 1) * WINDOW - before);
    println!(
        "  drift: {false_alarms} of {first_after} windows flagged before the fault ({:.1} %); first flag after it: {}",
        100.0 * false_alarm_rate,
        delay.map_or("none".into(), |d| format!(
            "{d} requests later (window {})",
            detected.unwrap_or(0)
        ))
    );
    println!(
        "  PSI: at most {:.3} before the fault, {:.3} in the first window after it",
        largest_psi[..first_after]
            .iter()
            .fold(0.0f64, |a, &b| a.max(b)),
        largest_psi[first_after]
    );
    lesson.metric("false_alarm_rate", false_alarm_rate);
    lesson.metric(
        "detection_delay_requests",
        delay.map_or(f64::NAN, |d| d as f64),
    );
    lesson.claim(
        "drift is flagged soon after the shift and rarely before",
        delay.is_some_and(|d| d <= WINDOW) && false_alarm_rate <= 0.05,
        format!(
            "flagged {} requests after the fault (bound: one window, {WINDOW}); {false_alarms} false alarms in {first_after} windows before it (bound 5 %)",
            delay.map_or("never".into(), |d| d.to_string())
        ),
        &[("false_alarm_rate", false_alarm_rate), ("windows_before", first_after as f64)],
    );

    // Step 4: the accuracy, as a monitor can know it: over the last 1,000 requests whose labels
    // have arrived, which lag LABEL_DELAY requests behind the traffic.
    let span = 1_000;
    let baseline = (0..before).filter(|&t| predicted[t] == truth[t]).count() as f64 / before as f64;
    let rolling: Vec<(usize, f64)> = (LABEL_DELAY + span..=requests)
        .step_by(WINDOW)
        .map(|now| {
            let labelled = now - LABEL_DELAY;
            let right = (labelled - span..labelled)
                .filter(|&t| predicted[t] == truth[t])
                .count();
            (now, right as f64 / span as f64)
        })
        .collect();
    let accuracy_alarm = rolling
        .iter()
        .find(|(now, acc)| *now > before && *acc < baseline - 0.05)
        .map(|(now, _)| now - before);
    let after = (before..requests)
        .filter(|&t| predicted[t] == truth[t])
        .count() as f64
        / (requests - before) as f64;
    println!(
        "  accuracy: {:.1} % before the fault, {:.1} % after; the delayed-label monitor sees the drop {} requests after it",
        100.0 * baseline,
        100.0 * after,
        accuracy_alarm.map_or("never".into(), |d| d.to_string())
    );
    lesson.claim(
        "input drift is seen before the delayed labels show the damage",
        baseline - after > 0.05
            && matches!((delay, accuracy_alarm), (Some(d), Some(a)) if d < a && a >= LABEL_DELAY),
        format!(
            "accuracy fell from {:.1} % to {:.1} %; the drift test fired after {} requests, the accuracy monitor after {} (its labels lag {LABEL_DELAY})",
            100.0 * baseline,
            100.0 * after,
            delay.map_or("never".into(), |d| d.to_string()),
            accuracy_alarm.map_or("never".into(), |d| d.to_string())
        ),
        &[("accuracy_before", baseline), ("accuracy_after", after)],
    );

    // Step 5: latency, as the service itself reports it: quantiles estimated from its histogram
    // (the server's own time, without the client's), beside what the clients measured.
    let metrics = http_get(&format!("{url}/metrics"))?;
    let name = "workbook_predict_duration_seconds";
    let (p50, p99) = (
        histogram_quantile(metrics.body(), name, 0.5),
        histogram_quantile(metrics.body(), name, 0.99),
    );
    let count =
        scrape(metrics.body(), &format!("{name}_count")).context("the histogram's count")?;
    println!(
        "  latency: the server's histogram says p50 {:.0} µs, p99 {:.0} µs over {count} requests; the clients measured p50 {:.0} µs, p99 {:.0} µs (with queueing and the client's own time)",
        p50 * 1e6,
        p99 * 1e6,
        report.quantile(0.5).as_secs_f64() * 1e6,
        report.quantile(0.99).as_secs_f64() * 1e6
    );
    lesson.metric("server_p50_microseconds", p50 * 1e6);
    lesson.metric("server_p99_microseconds", p99 * 1e6);
    ensure!(
        count as usize == requests,
        "the service counted {count} predictions for {requests}"
    );

    // The figure: the drift test's evidence per window and the delayed accuracy, with the fault.
    let fault = before as f64;
    let evidence: Vec<(f64, f64)> = smallest_p
        .iter()
        .enumerate()
        .map(|(w, p)| (((w + 1) * WINDOW) as f64, -p.max(1e-300).log10()))
        .collect();
    let top = evidence.iter().map(|p| p.1).fold(0.0, f64::max);
    let accuracy_points: Vec<(f64, f64)> = rolling
        .iter()
        .map(|&(now, acc)| (now as f64, 100.0 * acc))
        .collect();
    figure!(lesson, "drift", plot::SIZE, |root| {
        let panels = root.split_evenly((1, 2));
        plot::LineChart::new(
            "Input drift: KS test per window",
            "requests",
            "−log10 p (smallest over features)",
        )
        .series("KS evidence", evidence.clone())
        .series(
            "flag threshold (p = 0.001)",
            vec![(0.0, 3.0), (requests as f64, 3.0)],
        )
        .series("calibration fault", vec![(fault, 0.0), (fault, top)])
        .draw(&panels[0])?;
        plot::LineChart::new(
            "Accuracy with labels 1,000 requests late",
            "requests",
            "accuracy of the last 1,000 labelled (%)",
        )
        .series("rolling accuracy", accuracy_points.clone())
        .series("calibration fault", vec![(fault, 80.0), (fault, 100.0)])
        .draw(&panels[1])?;
    })?;

    drop(server);
    lesson.finish()?;
    Ok(())
}
