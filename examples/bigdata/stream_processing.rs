//! # Stream processing
//!
//! **Question:** How do windows and watermarks work on event streams?
//!
//! **Answer:** Events carry the time they happened (event time), and they arrive out of order.
//! Windows group them by event time: tumbling windows tile time, sliding windows overlap. A
//! watermark is the stream's promise that nothing older than it is still coming, usually the latest
//! event time seen minus a bound; when it passes a window's end, the window is closed and its
//! result emitted. An event that arrives behind the watermark is late, and the policy must say what
//! happens to it: dropped (Spark), or sent to a side output and counted (Flink), never lost
//! silently. The bound trades latency for completeness.
//!
//! **Evidence:** 30,000 simulated events over 300 s of event time, 79 % of them arriving after an
//! event that happened later. With a watermark 1 s behind the latest event time, 10 s tumbling
//! windows count 29,227 events on time and send 773 late events to the side output: exactly the
//! events that arrived after the watermark had passed their window's end, as worked out without
//! timely, and with them added back every window equals its batch count. Sliding windows of 30 s
//! every 10 s give 31 windows and 1,218 late (event, window) pairs, identical on one worker and on
//! two processes exchanging window assignments over loopback TCP. One timely worker handles about
//! 700,000 events a second here.
//!
//! **Run:** `cargo run --example stream_processing` (add `-- --quick` for a short run).

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use anyhow::Context;
use harness::prelude::*;
use harness::serve::{loopback_listener, spawn, workspace_binary};
use lessons_bigdata::event_windows::{
    ARRIVALS, Event, LAG_MS, TICK_MS, Tick, WindowCounts, Windows, count_windows, simulate, ticks,
};
use plotters::prelude::*;

/// The answer worked out directly from the events, without a dataflow: each event's window
/// counts it if the event arrived before the watermark passed the window's end, and otherwise
/// lists it as late. Also every event's windows regardless of lateness (the batch answer).
fn by_definition(ticks: &[Tick], windows: Windows) -> (WindowCounts, BTreeMap<u64, u64>) {
    let mut answer = WindowCounts::default();
    let mut batch = BTreeMap::new();
    let mut watermark = 0;
    for tick in ticks {
        for event in &tick.events {
            for start in windows.starts(event.event_ms) {
                *batch.entry(start).or_insert(0) += 1;
                if watermark >= start + windows.size_ms() {
                    answer.late.push((event.id, start));
                } else {
                    *answer.closed.entry(start).or_insert(0) += 1;
                }
            }
        }
        watermark = tick.watermark;
    }
    answer.late.sort();
    (answer, batch)
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    // Step 1: a stream of events that arrive out of order. 100 events a second; most reach the
    // processor about 300 ms after they happened, 3 % of them (a phone that was offline) 2 to
    // 30 s later. The source releases what arrived every 100 ms, with a watermark 1 s behind the
    // latest event time it has seen: the promise that nothing older is still coming, which the
    // stragglers break.
    let n: u64 = lesson.pick(30_000, 10_000);
    let events: Vec<Event> = simulate(n, ARRIVALS, &mut lesson.rng(1));
    let stream = ticks(&events, TICK_MS, LAG_MS);
    let mut latest = 0;
    let mut overtaken = 0;
    for e in stream.iter().flat_map(|tick| &tick.events) {
        overtaken += usize::from(e.event_ms < latest);
        latest = latest.max(e.event_ms);
    }
    println!(
        "{n} events over {:.0} s of event time, released in {} ticks of {TICK_MS} ms; {overtaken} arrive after a later event ({:.1} %)",
        events.last().map_or(0, |e| e.event_ms) as f64 / 1e3,
        stream.len(),
        100.0 * overtaken as f64 / n as f64
    );

    // Step 2: tumbling windows of 10 s on one timely worker. A window is counted and closed when
    // the frontier — the watermark — passes its end; an event that arrives after that goes to a
    // side output of late events. Flink offers the same (allowed lateness, then a side output);
    // Spark's structured streaming drops events behind the watermark.
    let tumbling = Windows::tumbling(10_000);
    let timer = std::time::Instant::now();
    let one_worker = count_windows(timely::Config::thread(), Arc::new(stream.clone()), tumbling)?;
    let dataflow_secs = timer.elapsed().as_secs_f64();
    let (defined, batch) = by_definition(&stream, tumbling);
    let on_time: u64 = one_worker.closed.values().sum();
    println!(
        "tumbling 10 s windows: {} closed with {on_time} events, {} late events in the side output ({dataflow_secs:.2} s, {:.0} events/s)",
        one_worker.closed.len(),
        one_worker.late.len(),
        n as f64 / dataflow_secs
    );
    lesson.metric("late_events", one_worker.late.len() as f64);
    lesson.metric("events_per_second", n as f64 / dataflow_secs);
    // Each window's on-time count plus its late events is its batch count, over all events.
    let mut accounted = one_worker.closed.clone();
    for (_, start) in &one_worker.late {
        *accounted.entry(*start).or_insert(0) += 1;
    }
    lesson.claim(
        "on-time window counts equal the batch answer over the events that were on time",
        one_worker.closed == defined.closed && accounted == batch,
        format!(
            "{} windows: the dataflow's counts equal those worked out from the watermark; with the late events added back they equal the batch counts of all {n} events",
            one_worker.closed.len()
        ),
        &[("windows", one_worker.closed.len() as f64)],
    );
    // The policy, checked event by event: late is exactly "arrived after the watermark passed
    // the window's end" — and all of them are stragglers, never on-time traffic.
    let stragglers_late = one_worker
        .late
        .iter()
        .filter(|(id, _)| {
            let e = &events[*id as usize];
            e.arrival_ms - e.event_ms >= ARRIVALS.straggler_delay_ms.0
        })
        .count();
    lesson.claim(
        "every late event is accounted for by the policy",
        one_worker.late == defined.late && !one_worker.late.is_empty(),
        format!(
            "{} late events in the side output, the same events as by definition; {stragglers_late} of them were delayed 2 s or more",
            one_worker.late.len()
        ),
        &[("late", one_worker.late.len() as f64)],
    );

    // Step 3: sliding windows, 30 s every 10 s, on two processes. This process is process 0 of a
    // timely cluster on 127.0.0.1 and `stream-worker` is process 1; each simulates the same
    // stream from the seed and feeds half of it, and window assignments cross the TCP
    // connection to the worker that counts that window. One worker in one process gives the
    // reference answer.
    let sliding = Windows::sliding(30_000, 10_000);
    let reference = count_windows(timely::Config::thread(), Arc::new(stream.clone()), sliding)?;
    // Two ports the system picks, released for the cluster to bind.
    let addresses = vec![
        loopback_listener()?.local_addr()?.to_string(),
        loopback_listener()?.local_addr()?.to_string(),
    ];
    let worker = workspace_binary("lessons-bigdata", "stream-worker")?;
    let second = spawn(
        Command::new(&worker)
            .arg("--process=1")
            .arg(format!("--addresses={}", addresses.join(",")))
            .arg(format!("--seed={}", lesson.seed()))
            .arg(format!("--events={n}"))
            .arg(format!("--size-ms={}", sliding.size_ms()))
            .arg(format!("--slide-ms={}", sliding.slide_ms())),
    )?;
    let config = timely::Config {
        communication: timely::CommunicationConfig::Cluster {
            threads: 1,
            process: 0,
            addresses: addresses.clone(),
            report: false,
            zerocopy: false,
        },
        worker: timely::WorkerConfig::default(),
    };
    // Timely waits for its peers without a deadline; the run goes to a thread so that a second
    // process that never connects fails the lesson after 60 s instead of hanging it.
    let (done, result) = mpsc::channel();
    let shared = Arc::new(stream.clone());
    std::thread::spawn(move || done.send(count_windows(config, shared, sliding)));
    let two_processes = result
        .recv_timeout(Duration::from_secs(60))
        .context("the two-process run did not finish within 60 s")??;
    let status = second.wait_or_kill(Duration::from_secs(10))?;
    println!(
        "sliding 30 s windows every 10 s: one process {} windows and {} late assignments; two processes {} and {} (process 1 exited: {status})",
        reference.closed.len(),
        reference.late.len(),
        two_processes.closed.len(),
        two_processes.late.len()
    );
    let (defined_sliding, _) = by_definition(&stream, sliding);
    lesson.claim(
        "the same dataflow on two processes gives the same answer",
        two_processes == reference && reference == defined_sliding && status.success(),
        format!(
            "{} sliding windows and {} late (event, window) pairs, identical on one worker, on two processes and by definition",
            reference.closed.len(),
            reference.late.len()
        ),
        &[("windows", reference.closed.len() as f64)],
    );

    // The figure: the first 40 s of the stream, each event at (when it arrived, when it
    // happened), with the watermark; late events are those below the watermark's step at their
    // window's end.
    let late_ids: std::collections::BTreeSet<u64> =
        one_worker.late.iter().map(|(id, _)| *id).collect();
    let shown = |late: bool| -> Vec<(f64, f64)> {
        events
            .iter()
            .filter(|e| e.arrival_ms < 40_000 && late_ids.contains(&e.id) == late)
            .map(|e| (e.arrival_ms as f64 / 1e3, e.event_ms as f64 / 1e3))
            .collect()
    };
    let (on_time_points, late_points) = (shown(false), shown(true));
    let watermark_line: Vec<(f64, f64)> = stream
        .iter()
        .enumerate()
        .take(400)
        .map(|(k, tick)| {
            (
                (k + 1) as f64 * TICK_MS as f64 / 1e3,
                tick.watermark as f64 / 1e3,
            )
        })
        .collect();
    figure!(lesson, "watermark", plot::SIZE, |root| {
        let mut chart = plot::chart(&root, "Event time against arrival time, with the watermark")
            .build_cartesian_2d(0.0..40.0, 0.0..40.0)?;
        plot::axes(&mut chart, "arrival (processing time, s)", "event time (s)")?;
        for (name, points, colour, size) in [
            ("on time", &on_time_points, plot::color(0).mix(0.35), 2),
            (
                "late (side output)",
                &late_points,
                plot::color(3).mix(0.9),
                4,
            ),
        ] {
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|&p| Circle::new(p, size, colour.filled())),
                )?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, colour.filled()));
        }
        let line = plot::color(2).stroke_width(3);
        chart
            .draw_series(LineSeries::new(watermark_line.clone(), line))?
            .label("watermark (latest event time − 1 s)")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], line));
        plot::legend(&mut chart)?;
    })?;

    lesson.finish()?;
    Ok(())
}
