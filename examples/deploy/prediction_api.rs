//! # Serving a model behind an HTTP API
//!
//! **Question:** How do you serve a model behind an HTTP API?
//!
//! **Answer:** Load the model once at start-up, refuse to start if it is damaged, and put a typed
//! handler in front of it. The handler validates every request against the model's feature schema
//! and answers bad input with a 4xx whose message names the field — 400 for malformed JSON, 413 for
//! a body or batch over the limit, 422 for a missing, extra, mistyped or unknown value — never a
//! 500 or a crash. Health and metrics endpoints (request counts by status, a latency histogram, the
//! model version) make the service operable, and a load test with many concurrent connections shows
//! its latency percentiles and that nothing fails under pressure.
//!
//! **Evidence:** The workspace's model-server binary starts as its own process on 127.0.0.1 and
//! serves the penguin pipeline. All 83 held-out birds in one request come back with the local
//! model's classes and probabilities within 1.1e-16 (JSON's shortest decimals). Twelve bad inputs
//! get the stated status with a message naming the field: a missing, extra, mistyped, null or
//! out-of-range feature, an unknown island, a non-object row and no rows get 422; malformed JSON
//! 400; 257 rows or a 100 KB body 413 — and the service stays healthy. Under load, 64 kept-alive
//! connections send 10,000 (quick) or 40,000 single-bird requests: none fails, each gets the class
//! the local model gives, about 26,000–34,000 requests/s with p50 ≈ 2 ms and p99 ≈ 4–6 ms on two
//! cores shared with the clients, and /metrics counts every success once.
//!
//! **Run:** `cargo run --example prediction_api` (add `-- --quick` for a short run, `-- --serve` to
//! keep its server running for you).

use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use anyhow::Context;
use harness::prelude::*;
use harness::serve::{http_get, http_post};
use lessons_deploy::{
    ModelServer, PenguinModel, load_test, request_body, row_json, scrape, single_row_bodies,
};
use rand::Rng;
use serde_json::{Value, json};

/// The load test: this many requests over this many kept-alive connections, within this time.
const CONNECTIONS: usize = 64;
const TIME_LIMIT: Duration = Duration::from_secs(60);

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // Step 1: the model to serve — the penguin pipeline, saved as the artefact file the service
    // reads. The service is the workspace's `model-server` binary, started as its own process on
    // a loopback port, exactly as a person would run it.
    let penguins = PenguinModel::fit("1", lesson.seed(), 1.0)?;
    let model_path = lesson.out_file("models/penguins.wbm");
    penguins.save(&model_path)?;
    lesson.record(ArtefactKind::Model, &model_path)?;
    let path_text = model_path.to_string_lossy().into_owned();
    let mut server = ModelServer::start(&["--model", &path_text])?;
    let url = server.url().to_string();
    lesson.record_endpoint(&url)?;
    let features = penguins.artefact().metadata().features().to_vec();
    let classes = penguins.artefact().metadata().classes().to_vec();
    println!("model-server is listening on {url}, serving model version 1");

    // Step 2: the service answers as the model does. All held-out birds go in one request; the
    // classes must be the local model's, and the probabilities equal up to JSON's decimal
    // printing (serde_json prints the shortest text that reads back to the same f64, and its
    // default parser may land one unit in the last place away).
    let local = penguins.artefact().probabilities(penguins.test_x())?;
    let answer = http_post(
        &format!("{url}/predict"),
        &request_body(&features, penguins.test_x()),
    )?;
    let body: Value = serde_json::from_str(answer.body())?;
    let predictions = body["predictions"]
        .as_array()
        .context("a predictions array")?;
    let mut same_class = 0;
    let mut largest_gap = 0.0f64;
    let best_classes = toolkit::argmax_rows(&local);
    for ((row, prediction), &best) in local.rows().into_iter().zip(predictions).zip(&best_classes) {
        same_class += usize::from(prediction["class"] == classes[best].as_str());
        for (class, &p) in classes.iter().zip(row.iter()) {
            let served = prediction["probabilities"][class.as_str()]
                .as_f64()
                .unwrap_or(f64::NAN);
            largest_gap = largest_gap.max((served - p).abs());
        }
    }
    println!(
        "  {} birds in one request: status {}, {same_class} classes as the local model, largest probability gap {largest_gap:.1e}",
        local.nrows(),
        answer.status()
    );
    lesson.claim(
        "the service answers exactly as the model it loaded",
        answer.status() == 200
            && predictions.len() == local.nrows()
            && same_class == local.nrows()
            && largest_gap <= 4.0 * f64::EPSILON,
        format!(
            "{same_class}/{} classes equal, probabilities within {largest_gap:.1e} (at most 4 ulp of 1)",
            local.nrows()
        ),
        &[("rows", local.nrows() as f64), ("largest_gap", largest_gap)],
    );

    // Step 3: bad input gets a 4xx that names the problem, never a crash. Each case states the
    // status it deserves and the field the message must name.
    let good = row_json(&features, penguins.test_x().row(0));
    let with = |field: &str, value: Value| {
        let mut row = good.clone();
        row[field] = value;
        json!({ "rows": [row] }).to_string()
    };
    let mut without_mass = good.clone();
    if let Some(fields) = without_mass.as_object_mut() {
        fields.remove("body_mass_g");
    }
    let too_many: Vec<Value> = (0..257).map(|_| good.clone()).collect();
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "a feature missing",
            json!({ "rows": [without_mass] }).to_string(),
            422,
            "rows[0].body_mass_g",
        ),
        (
            "an extra feature",
            with("wingspan_mm", json!(210.0)),
            422,
            "rows[0].wingspan_mm",
        ),
        (
            "a number as text",
            with("bill_length_mm", json!("39.1")),
            422,
            "rows[0].bill_length_mm",
        ),
        (
            "a null number",
            with("flipper_length_mm", Value::Null),
            422,
            "rows[0].flipper_length_mm",
        ),
        (
            "an unknown island",
            with("island", json!("Atlantis")),
            422,
            "rows[0].island",
        ),
        (
            "a category as a number",
            with("sex", json!(1)),
            422,
            "rows[0].sex",
        ),
        (
            "a mass of 1e300 g (out of range)",
            with("body_mass_g", json!(1e300)),
            422,
            "rows[0].body_mass_g",
        ),
        (
            "a row that is not an object",
            r#"{"rows": [[39.1, 18.7]]}"#.into(),
            422,
            "rows[0]",
        ),
        ("no rows", r#"{"rows": []}"#.into(), 422, "rows"),
        (
            "malformed JSON",
            r#"{"rows": [{"bill_length_mm": 39.1,"#.into(),
            400,
            "",
        ),
        (
            "257 rows (the limit is 256)",
            json!({ "rows": too_many }).to_string(),
            413,
            "",
        ),
        (
            "a 100 KB body (the limit is 64 KiB)",
            " ".repeat(100_000),
            413,
            "",
        ),
    ];
    let mut as_stated = 0;
    for (what, body, status, field) in &cases {
        let answer = http_post(&format!("{url}/predict"), body.as_bytes())?;
        let message: Value = serde_json::from_str(answer.body()).unwrap_or(Value::Null);
        let named = field.is_empty() || message["field"] == *field;
        let ok = answer.status() == *status && named && message["error"].is_string();
        as_stated += usize::from(ok);
        println!(
            "  {what:<36} → {} {}",
            answer.status(),
            message["error"].as_str().unwrap_or("(no message)")
        );
    }
    let health = http_get(&format!("{url}/health"))?;
    let alive = server.running() && health.status() == 200;
    lesson.claim(
        "every bad input gets its 4xx and a message naming the field",
        as_stated == cases.len() && alive,
        format!(
            "{as_stated} of {} cases answered with the stated status and field; the service is still healthy",
            cases.len()
        ),
        &[("cases", cases.len() as f64)],
    );

    // Step 4: the load test. 64 clients, each on one kept-alive connection, send single-bird
    // requests as fast as answers come back; every answer must be a 200 with the class the local
    // model gives that bird. Latency is measured by the client, from send to whole answer.
    let requests = lesson.pick(40_000, 10_000);
    let mut rng = lesson.rng(1);
    let birds: Vec<usize> = (0..requests)
        .map(|_| rng.gen_range(0..penguins.test_x().nrows()))
        .collect();
    let bodies = single_row_bodies(&features, penguins.test_x());
    let expected: Vec<&str> = penguins
        .artefact()
        .predict(penguins.test_x())?
        .iter()
        .map(|&c| classes[c].as_str())
        .collect();
    let report = load_test(
        &url,
        "/predict",
        CONNECTIONS,
        requests,
        TIME_LIMIT,
        &AtomicUsize::new(0),
        |i| &bodies[birds[i]],
        |i, _, answer| {
            answer.status() == 200
                && serde_json::from_str::<Value>(answer.body())
                    .is_ok_and(|v| v["predictions"][0]["class"] == expected[birds[i]])
        },
    );
    let (elapsed, failed, answered) = (report.elapsed(), report.failed(), report.answered());
    let (p50, p99) = (report.quantile(0.50), report.quantile(0.99));
    let throughput = report.throughput();
    println!(
        "load test: {answered} requests over {CONNECTIONS} connections in {:.2} s — {throughput:.0} requests/s, p50 {:.0} µs, p99 {:.0} µs, {failed} failed",
        elapsed.as_secs_f64(),
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
    lesson.metric("requests_per_second", throughput);
    lesson.metric("p50_microseconds", p50.as_secs_f64() * 1e6);
    lesson.metric("p99_microseconds", p99.as_secs_f64() * 1e6);

    // Step 5: the service's own count agrees: /metrics must show every answered request once —
    // the load test's, the first request's — and the bad inputs under their statuses.
    let metrics = http_get(&format!("{url}/metrics"))?;
    let counted = |status: &str| {
        let series = format!("workbook_requests_total{{route=\"/predict\",status=\"{status}\"}}");
        scrape(metrics.body(), &series).unwrap_or(0.0)
    };
    let served_ok = counted("200");
    println!(
        "  /metrics: {served_ok} predictions answered 200, {} answered 422, {} answered 413, {} answered 400",
        counted("422"),
        counted("413"),
        counted("400")
    );
    lesson.claim(
        "no request fails under load, and the service counts each once",
        failed == 0
            && answered == requests
            && elapsed < TIME_LIMIT
            && served_ok == (requests + 1) as f64,
        format!(
            "{answered}/{requests} answered right within {:.1} s (limit {} s); /metrics counts {served_ok} successes for {} sent",
            elapsed.as_secs_f64(),
            TIME_LIMIT.as_secs(),
            requests + 1
        ),
        &[("failed", failed as f64), ("requests", requests as f64)],
    );

    // The figure: where the requests' latencies fall, with the median and the 99th percentile.
    let micros: Vec<f64> = report
        .latencies()
        .iter()
        .map(|d| d.as_secs_f64() * 1e6)
        .collect();
    let top = micros[answered * 999 / 1000].max(1.0);
    let bins = 40;
    let width = top / bins as f64;
    let mut counts = vec![0usize; bins];
    for &m in micros.iter().filter(|&&m| m < top) {
        counts[((m / width) as usize).min(bins - 1)] += 1;
    }
    let share: Vec<(f64, f64)> = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| ((i as f64 + 0.5) * width, 100.0 * c as f64 / answered as f64))
        .collect();
    let peak = share.iter().map(|p| p.1).fold(0.0, f64::max);
    let marker = |at: Duration| {
        let x = at.as_secs_f64() * 1e6;
        vec![(x, 0.0), (x, peak)]
    };
    figure!(lesson, "latency", plot::SIZE, |root| {
        plot::LineChart::new(
            &format!("Latency of {answered} requests at {CONNECTIONS} concurrent connections"),
            "latency (µs, client side; the slowest 0.1 % not drawn)",
            "requests (%)",
        )
        .series("share of requests", share.clone())
        .series(
            format!("median {:.0} µs", p50.as_secs_f64() * 1e6),
            marker(p50),
        )
        .series(
            format!("99th percentile {:.0} µs", p99.as_secs_f64() * 1e6),
            marker(p99),
        )
        .draw(&root)?;
    })?;

    drop(server);
    lesson.finish()?;
    Ok(())
}
