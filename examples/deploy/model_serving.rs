//! # Versioned models, hot swaps and dynamic batching
//!
//! **Question:** How do serving systems version, swap and batch models?
//!
//! **Answer:** Models live in numbered version directories; the server serves the newest good one,
//! loads a new version beside the old, and switches with one atomic pointer swap, so a request in
//! flight finishes on the version it started with and the next one sees the new version. A damaged
//! or mislabelled version is refused and the old one keeps serving; a rollback is a reload that
//! pins an earlier version. Dynamic batching gathers concurrent requests for a few milliseconds
//! into one model call: it pays when the model's per-call cost dominates (big matrices, a GPU), and
//! buys little when HTTP and JSON cost more than the model.
//!
//! **Evidence:** Version 1 serves from models/1/; a third of the way through 12,000 (quick) or
//! 30,000 requests on 32 connections, version 2 is written beside it and a reload swaps it in; two
//! thirds in, a damaged version 3 is refused with 409 and version 2 keeps serving. No request
//! fails, every answer's probabilities are those of the version it names (about a third by 1, two
//! thirds by 2), and no request sent after the swap is answered by version 1; pinning version 1
//! brings its answers back exactly. Batching: the model alone scores 64 rows 6–9× faster as one
//! call than as 64; in the service, batches of up to 64 rows gathered for 1 ms average about 54
//! rows per model call, every answer is its own bird's, and throughput falls to about 0.65–0.8× of
//! unbatched, because HTTP and JSON cost far more than this model.
//!
//! **Run:** `cargo run --example model_serving` (add `-- --quick` for a short run, `-- --serve` to
//! keep its server running for you).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Result;
use harness::prelude::*;
use harness::serve::{http_get, http_post};
use lessons_deploy::{
    LoadReport, ModelServer, PenguinModel, load_test, request_body, scrape, single_row_bodies,
};
use ndarray::{Array2, Axis};
use rand::Rng;
use serde_json::{Value, json};

const CONNECTIONS: usize = 32;
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// The version an answer names and whether its probabilities are that version's for `bird`
/// (within 4 ulp of 1: JSON's shortest decimal text and serde_json's default parser).
fn answered_by(answer: &str, bird: usize, versions: &[(&str, &Array2<f64>)]) -> Option<String> {
    let value: Value = serde_json::from_str(answer).ok()?;
    let version = value["model_version"].as_str()?.to_string();
    let (_, expected) = versions.iter().find(|(v, _)| *v == version)?;
    let served = value["predictions"][0]["probabilities"].as_object()?;
    let agrees = served.values().zip(expected.row(bird)).all(|(p, &e)| {
        p.as_f64()
            .is_some_and(|p| (p - e).abs() <= 4.0 * f64::EPSILON)
    });
    (agrees && served.len() == expected.ncols()).then_some(version)
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // Step 1: two versions of the penguin model, as a serving system lays them out: a directory
    // per version number. Version 2 is regularised far less, so its probabilities differ from
    // version 1's on every bird and an answer shows which version computed it.
    let v1 = PenguinModel::fit("1", lesson.seed(), 1.0)?;
    let v2 = PenguinModel::fit("2", lesson.seed(), 0.01)?;
    let (p1, p2) = (
        v1.artefact().probabilities(v1.test_x())?,
        v2.artefact().probabilities(v1.test_x())?,
    );
    let smallest_difference = (0..p1.nrows())
        .map(|i| {
            (0..p1.ncols())
                .map(|j| (p1[[i, j]] - p2[[i, j]]).abs())
                .fold(0.0, f64::max)
        })
        .fold(f64::INFINITY, f64::min);
    println!(
        "versions 1 and 2 differ on every test bird by at least {smallest_difference:.1e} in some probability"
    );
    ensure!(
        smallest_difference > 1e-9,
        "the two versions must be told apart by their answers"
    );
    // The serving directory starts empty: versions left by an earlier run in the same output
    // folder would be served as the newest.
    let models = lesson.out_file("models");
    match std::fs::remove_dir_all(&models) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    v1.save(&models.join("1/model.wbm"))?;
    let dir = models.to_string_lossy().into_owned();
    let server = ModelServer::start(&["--model-dir", &dir])?;
    let url = server.url().to_string();
    lesson.record_endpoint(&url)?;
    let health: Value = serde_json::from_str(http_get(&format!("{url}/health"))?.body())?;
    println!(
        "model-server on {url} serves version {}",
        health["model_version"]
    );

    // Step 2: the hot swap, under load. 32 clients send single-bird requests; a third of the
    // way in, version 2 is written next to version 1 and the service is told to reload; two
    // thirds in, a damaged version 3 appears and the reload is refused. Every answer is checked
    // against the probabilities of the version it names, and every request sent after the swap
    // was acknowledged must be answered by version 2.
    let features = v1.artefact().metadata().features().to_vec();
    let birds_n = v1.test_x().nrows();
    let requests = lesson.pick(30_000, 12_000);
    let mut rng = lesson.rng(1);
    let birds: Vec<usize> = (0..requests).map(|_| rng.gen_range(0..birds_n)).collect();
    let bodies = single_row_bodies(&features, v1.test_x());
    let versions = [("1", &p1), ("2", &p2)];
    let issued = AtomicUsize::new(0);
    let swapped_at: OnceLock<Instant> = OnceLock::new();
    let (mismatched, stale) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let timeline = Mutex::new(Vec::with_capacity(requests));
    let started = Instant::now();
    let (report, swap, refused) =
        std::thread::scope(|scope| -> Result<(LoadReport, Value, (u16, Value))> {
            let load = scope.spawn(|| {
                load_test(
                    &url,
                    "/predict",
                    CONNECTIONS,
                    requests,
                    TIME_LIMIT,
                    &issued,
                    |i| &bodies[birds[i]],
                    |i, sent, answer| {
                        if answer.status() != 200 {
                            return false;
                        }
                        match answered_by(answer.body(), birds[i], &versions) {
                            Some(version) => {
                                if swapped_at.get().is_some_and(|&at| sent > at) && version != "2" {
                                    stale.fetch_add(1, Ordering::Relaxed);
                                }
                                timeline
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .push((sent.duration_since(started), version == "2"));
                            }
                            None => {
                                mismatched.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        true
                    },
                )
            });
            let wait_for = |share: usize| {
                while issued.load(Ordering::Relaxed) < requests * share / 3 && !load.is_finished() {
                    std::thread::sleep(Duration::from_millis(1));
                }
            };
            wait_for(1);
            v2.save(&models.join("2/model.wbm"))?;
            let swap = http_post(&format!("{url}/admin/reload"), b"")?;
            let _ = swapped_at.set(Instant::now());
            wait_for(2);
            let mut damaged = v2
                .artefact()
                .to_bytes(toolkit::artefact::Encoding::Binary)?;
            let last = damaged.len() - 1;
            damaged[last] ^= 0x40;
            std::fs::create_dir_all(models.join("3"))?;
            harness::catalogue::write_atomically(&models.join("3/model.wbm"), &damaged)?;
            let refusal = http_post(&format!("{url}/admin/reload"), b"")?;
            let report = load
                .join()
                .map_err(|_| anyhow::anyhow!("the load thread panicked"))?;
            Ok((
                report,
                serde_json::from_str(swap.body())?,
                (refusal.status(), serde_json::from_str(refusal.body())?),
            ))
        })?;
    let timeline = timeline.into_inner().unwrap_or_else(|p| p.into_inner());
    let by_two = timeline.iter().filter(|(_, two)| *two).count();
    let (mismatched, stale) = (mismatched.into_inner(), stale.into_inner());
    println!(
        "  swap: {} → {}; damaged version 3: {} \"{}\"",
        swap["previous_version"],
        swap["model_version"],
        refused.0,
        refused.1["error"].as_str().unwrap_or_default()
    );
    println!(
        "  {} requests in {:.2} s: {} answered by version 1, {by_two} by version 2, {} failed, {mismatched} not the named version's answer, {stale} stale after the swap",
        report.answered(),
        report.elapsed().as_secs_f64(),
        timeline.len() - by_two,
        report.failed()
    );
    lesson.claim(
        "no request fails during a swap, and a damaged version is refused",
        report.failed() == 0
            && report.answered() == requests
            && swap["model_version"] == "2"
            && refused.0 == 409
            && http_get(&format!("{url}/health"))?.body().contains("\"model_version\":\"2\""),
        format!(
            "{}/{requests} answered 200 across the swap from 1 to 2; version 3 got {} and version 2 kept serving",
            report.answered() - report.failed(),
            refused.0
        ),
        &[("failed", report.failed() as f64)],
    );
    lesson.claim(
        "every answer comes from exactly one version",
        mismatched == 0 && stale == 0 && by_two > 0 && by_two < timeline.len(),
        format!(
            "{} answers each equal to the probabilities of the version they name ({} by 1, {by_two} by 2); none sent after the swap came from version 1",
            timeline.len(),
            timeline.len() - by_two
        ),
        &[("mismatched", mismatched as f64), ("stale", stale as f64)],
    );

    // Step 3: a rollback is a reload that pins the earlier version; its answers come back exactly.
    let pinned = http_post(&format!("{url}/admin/reload"), br#"{"version": "1"}"#)?;
    let all = http_post(
        &format!("{url}/predict"),
        &request_body(&features, v1.test_x()),
    )?;
    let rolled: Value = serde_json::from_str(all.body())?;
    let back_to_one = (0..birds_n).all(|i| {
        let one = json!({ "model_version": rolled["model_version"], "predictions": [rolled["predictions"][i]] });
        answered_by(&one.to_string(), i, &versions).as_deref() == Some("1")
    });
    println!(
        "  pinned version 1: {} — all {birds_n} birds answered as version 1: {back_to_one}",
        pinned.status()
    );
    lesson.claim(
        "pinning an earlier version restores its answers",
        pinned.status() == 200 && back_to_one,
        format!("after {{\"version\": \"1\"}} all {birds_n} held-out birds get version 1's probabilities again"),
        &[("rows", birds_n as f64)],
    );
    drop(server);

    // Step 4: dynamic batching. First the model alone: 64 birds scored one call each, against
    // one call for all 64. Each call has a fixed cost (allocating, transforming, the softmax's
    // set-up) that a batch pays once.
    let batch: Array2<f64> = v1.test_x().select(Axis(0), &birds[..64.min(requests)]);
    let runs = lesson.pick(200, 50);
    let singly = best_of(runs, || {
        batch
            .axis_iter(Axis(0))
            .map(|row| {
                v1.artefact()
                    .probabilities(&row.insert_axis(Axis(0)).to_owned())
            })
            .collect::<Result<Vec<_>, _>>()
    });
    let together = best_of(runs, || v1.artefact().probabilities(&batch));
    let model_gain = singly.secs() / together.secs();
    println!(
        "  the model alone: 64 rows one at a time {:.1} µs, as one batch {:.1} µs — {model_gain:.1}× the rows per second",
        singly.secs() * 1e6,
        together.secs() * 1e6
    );
    lesson.metric("model_batch_gain", model_gain);

    // Then the service: the same load with batching off and on (up to 64 rows, waiting at most
    // 1 ms). Answers must be the same rows' answers, and the server's histogram shows how many
    // rows each model call really got.
    let load_requests = lesson.pick(20_000, 6_000);
    let mut throughputs = Vec::new();
    let mut mean_batch = 0.0;
    let mut wrong = 0;
    for batching in [false, true] {
        let mut args = vec!["--model-dir", dir.as_str()];
        if batching {
            args.extend(["--batch-rows", "64", "--batch-wait-ms", "1"]);
        }
        // Version 3 is damaged: serve from version 2, the newest good one, by removing it.
        let _ = std::fs::remove_dir_all(models.join("3"));
        let server = ModelServer::start(&args)?;
        let surl = server.url().to_string();
        let report = load_test(
            &surl,
            "/predict",
            64,
            load_requests,
            TIME_LIMIT,
            &AtomicUsize::new(0),
            |i| &bodies[birds[i % requests]],
            |i, _, answer| {
                answer.status() == 200
                    && answered_by(answer.body(), birds[i % requests], &versions).as_deref()
                        == Some("2")
            },
        );
        wrong += report.failed();
        let metrics = http_get(&format!("{surl}/metrics"))?;
        if batching {
            let sample = |series| scrape(metrics.body(), series).unwrap_or(f64::NAN);
            mean_batch = sample("workbook_batch_rows_sum") / sample("workbook_batch_rows_count");
        }
        println!(
            "  service, batching {}: {:.0} requests/s, p50 {:.0} µs, p99 {:.0} µs{}",
            if batching { "on " } else { "off" },
            report.throughput(),
            report.quantile(0.5).as_secs_f64() * 1e6,
            report.quantile(0.99).as_secs_f64() * 1e6,
            if batching {
                format!(", {mean_batch:.1} rows per model call")
            } else {
                String::new()
            }
        );
        throughputs.push(report.throughput());
    }
    let service_gain = throughputs[1] / throughputs[0];
    lesson.metric("service_batch_gain", service_gain);
    lesson.metric("mean_batch_rows", mean_batch);
    lesson.claim(
        "batching multiplies the model's throughput and gives each request its own rows",
        model_gain >= 4.0 && mean_batch > 2.0 && wrong == 0,
        format!(
            "the model scores {model_gain:.1}× the rows per second in batches of 64; under 64 connections the service ran {mean_batch:.1} rows per call and every answer was its own bird's"
        ),
        &[("model_gain", model_gain), ("mean_batch", mean_batch)],
    );

    // The figure: who answered over time (the swap is where the colours change), and what
    // batching buys the model and the service.
    let bucket = 0.025;
    let end = timeline
        .iter()
        .map(|(t, _)| t.as_secs_f64())
        .fold(0.0, f64::max);
    let buckets = (end / bucket) as usize + 1;
    let mut counts = vec![[0usize; 2]; buckets];
    for (t, two) in &timeline {
        counts[(t.as_secs_f64() / bucket) as usize][usize::from(*two)] += 1;
    }
    let series = |k: usize| -> Vec<(f64, f64)> {
        counts
            .iter()
            .enumerate()
            .map(|(i, c)| ((i as f64 + 0.5) * bucket * 1e3, c[k] as f64 / bucket))
            .collect()
    };
    figure!(lesson, "hot_swap", plot::SIZE, |root| {
        let panels = root.split_evenly((1, 2));
        plot::LineChart::new(
            "Answers per second by model version",
            "time since the load started (ms)",
            "answers per second",
        )
        .series("version 1", series(0))
        .series("version 2", series(1))
        .draw(&panels[0])?;
        plot::BarChart::new("Batching: gain in rows per second", "× the unbatched rate")
            .bar("model alone", model_gain)
            .bar("service (HTTP)", service_gain)
            .draw(&panels[1])?;
    })?;

    lesson.finish()?;
    Ok(())
}
