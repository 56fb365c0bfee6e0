//! # Pipeline orchestration
//!
//! **Question:** What does an orchestrator such as Airflow provide?
//!
//! **Answer:** It runs a DAG of tasks, each after the tasks it needs, and keeps the state of every
//! attempt somewhere durable. A transient failure (a source that does not answer) is retried after
//! a growing wait, exponential back-off, so a struggling service is not hammered; a permanent one
//! (bad data) fails the run at once. Tasks are written to be idempotent: each writes its whole
//! output under a temporary name and renames it into place, so running it twice gives the same
//! bytes and a crash never leaves half a file. With that, a killed run resumes where it stopped and
//! skips everything already done.
//!
//! **Evidence:** Six tasks, declared downstream first, run as extract_weather → extract_flights →
//! join → validate → train → report, each after everything it needs (checked from the times
//! recorded in SQLite, not from the runner's word). extract_weather's source fails twice: the
//! runner waits 20 ms, then 40 ms (measured 20.4 and 40.4 ms), and the third attempt succeeds. A
//! worker process killed inside train, after writing the model under its temporary name, leaves 4
//! finished tasks and no model.json; resuming the run marks the attempt interrupted, skips those 4
//! and runs train and report. All six outputs are then byte-identical (blake3) to those of the
//! uninterrupted run, and running a finished run again runs nothing. The whole lesson, with the
//! child process, takes about 2 s.
//!
//! **Run:** `cargo run --example pipeline_orchestration` (add `-- --quick` for a short run).

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use harness::prelude::*;
use harness::serve::{ChildGuard, spawn, workspace_binary};
use lessons_bigdata::flights_pipeline::flights_pipeline;
use lessons_bigdata::orchestrator::{
    Attempt, Faults, RetryPolicy, Runner, attempts, file_digest, open_state,
};
use plotters::prelude::*;

/// Each task's successful attempt: (started, finished), in microseconds.
fn success_spans(log: &[Attempt]) -> BTreeMap<String, (i64, i64)> {
    log.iter()
        .filter(|a| a.state == "success")
        .map(|a| {
            (
                a.task.clone(),
                (a.started_us, a.finished_us.unwrap_or(i64::MAX)),
            )
        })
        .collect()
}

/// Waits until `reached` says so, for at most `timeout`, checking that the worker is still
/// running.
fn wait_for(
    what: &str,
    mut reached: impl FnMut() -> Result<bool>,
    worker: &mut ChildGuard,
    timeout: Duration,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    while !reached()? {
        if Instant::now() > deadline {
            bail!("the worker did not reach {what} within {timeout:?}");
        }
        if let Some(status) = worker.child_mut().try_wait()? {
            bail!("the worker exited before reaching {what} ({status})");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// The tasks of `finished` in run order.
fn finished_at_kill_in(order: &[&str], finished: &[String]) -> Vec<String> {
    order
        .iter()
        .filter(|t| finished.iter().any(|f| f == *t))
        .map(|t| t.to_string())
        .collect()
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    // The DAG: six tasks, each naming the tasks it needs and the file it writes. They are
    // declared downstream first, so running them in the listed order would fail.
    let pipeline = flights_pipeline()?;
    for task in pipeline.tasks() {
        println!(
            "  {:<16} needs {:<38} writes {}",
            task.name(),
            format!("{:?}", task.needs()),
            task.output()
        );
    }
    let order = pipeline.run_order();
    println!("run order: {}", order.join(" → "));

    // Step 1: a run with a flaky source. extract_weather's source fails its first two attempts;
    // the runner retries a transient failure after 20 ms, then 40 ms (doubling each time), up to
    // 3 attempts. Every attempt is a row in the run's SQLite database.
    let retry = RetryPolicy::new(3, Duration::from_millis(20), 2.0);
    let state_path = lesson.out_file("pipeline_state.sqlite");
    for stale in ["", "-wal", "-shm"] {
        let file = state_path.with_file_name(format!("pipeline_state.sqlite{stale}"));
        if file.exists() {
            std::fs::remove_file(&file)?;
        }
    }
    // Each run writes to its own folder; what an earlier lesson run left there is removed.
    let (clean_dir, killed_dir) = (
        lesson.fresh_dir("run_clean")?,
        lesson.fresh_dir("run_killed")?,
    );
    let flaky = Faults::none().failing_first("extract_weather", 2);
    let timer = Instant::now();
    let summary = Runner::new(&pipeline, &clean_dir, &state_path, retry, flaky)?.run("clean")?;
    println!(
        "run 'clean': ran {} tasks in {:.2} s",
        summary.ran.len(),
        timer.elapsed().as_secs_f64()
    );
    let state = open_state(&state_path)?;
    let clean_log = attempts(&state, "clean")?;
    let weather: Vec<&Attempt> = clean_log
        .iter()
        .filter(|a| a.task == "extract_weather")
        .collect();
    for a in &weather {
        println!("  extract_weather attempt {}: {}", a.attempt, a.state);
    }
    // The wait before attempt k + 1 is measured from the database: the end of attempt k to the
    // start of attempt k + 1.
    let waits_ms: Vec<f64> = weather
        .windows(2)
        .map(|w| (w[1].started_us - w[0].finished_us.unwrap_or(w[0].started_us)) as f64 / 1e3)
        .collect();
    println!("  waits between attempts: {waits_ms:.1?} ms");
    let states: Vec<&str> = weather.iter().map(|a| a.state.as_str()).collect();
    lesson.metric(
        "retry_wait_1_ms",
        waits_ms.first().copied().unwrap_or(f64::NAN),
    );
    lesson.metric(
        "retry_wait_2_ms",
        waits_ms.get(1).copied().unwrap_or(f64::NAN),
    );
    // A sleep lasts at least what was asked, so each wait is at least its back-off; the second
    // back-off is twice the first, and scheduling noise of a few milliseconds cannot undo that.
    lesson.claim(
        "the retry recovers, waiting longer each time",
        states == ["failed", "failed", "success"]
            && waits_ms.len() == 2
            && waits_ms[0] >= 20.0
            && waits_ms[1] >= 40.0
            && waits_ms[1] > waits_ms[0],
        format!("attempts {states:?}; waits {waits_ms:.1?} ms for back-offs of 20 and 40 ms"),
        &[("waits", waits_ms.len() as f64)],
    );

    // Dependencies are checked from the recorded times, not from the runner's word: every task
    // started after each task it needs had finished.
    let spans = success_spans(&clean_log);
    let mut violations = Vec::new();
    for task in pipeline.tasks() {
        let (started, _) = spans.get(task.name()).context("a task without a success")?;
        for need in task.needs() {
            let (_, finished) = spans.get(*need).context("a dependency without a success")?;
            if finished > started {
                violations.push(format!("{} started before {need} finished", task.name()));
            }
        }
    }
    lesson.claim(
        "the order respects every dependency",
        spans.len() == pipeline.tasks().len() && violations.is_empty(),
        format!(
            "{} tasks succeeded; {} edges checked, {} violated",
            spans.len(),
            pipeline
                .tasks()
                .iter()
                .map(|t| t.needs().len())
                .sum::<usize>(),
            violations.len()
        ),
        &[("violations", violations.len() as f64)],
    );

    // Step 2: a worker killed mid-run. A separate process runs the same pipeline as run
    // 'killed' and hangs inside `train`, after writing the model under its temporary name; the
    // lesson watches the database and kills the process once train has started. The worker is built from this workspace (pipeline-worker).
    let worker = workspace_binary("lessons-bigdata", "pipeline-worker")?;
    let mut child = spawn(
        Command::new(&worker)
            .args(["--run", "killed", "--hang-in", "train"])
            .arg("--state")
            .arg(&state_path)
            .arg("--workdir")
            .arg(&killed_dir),
    )?;
    let partial_model = killed_dir.join("model.json.partial");
    wait_for(
        "train's temporary output",
        || {
            let training = attempts(&state, "killed")?
                .iter()
                .any(|a| a.task == "train" && a.state == "running");
            Ok(training && partial_model.exists())
        },
        &mut child,
        Duration::from_secs(30),
    )?;
    child.stop();
    let at_kill = attempts(&state, "killed")?;
    let finished_at_kill: Vec<String> = at_kill
        .iter()
        .filter(|a| a.state == "success")
        .map(|a| a.task.clone())
        .collect();
    println!(
        "run 'killed': the worker (pid {}) was killed inside train; finished by then: {}",
        at_kill.first().map_or(0, |a| a.pid),
        finished_at_kill.join(", ")
    );
    // The worker died after writing the model under its temporary name: a runner that wrote in
    // place would leave a model.json that nothing had checked.
    let (left_partial, left_final) = (
        partial_model.exists(),
        killed_dir.join("model.json").exists(),
    );

    // Step 3: resume. The same run id, in this process: the attempt left 'running' is marked
    // interrupted, every task with a recorded success and an unchanged output is skipped.
    let resumed =
        Runner::new(&pipeline, &killed_dir, &state_path, retry, Faults::none())?.run("killed")?;
    println!(
        "resumed: {} interrupted attempt, skipped {:?}, ran {:?}",
        resumed.interrupted, resumed.skipped, resumed.ran
    );
    let killed_log = attempts(&state, "killed")?;
    let rerun_after_kill = finished_at_kill
        .iter()
        .filter(|task| killed_log.iter().filter(|a| &a.task == *task).count() > 1)
        .count();
    let train_states: Vec<&str> = killed_log
        .iter()
        .filter(|a| a.task == "train")
        .map(|a| a.state.as_str())
        .collect();
    lesson.metric("tasks_finished_before_kill", finished_at_kill.len() as f64);
    lesson.claim(
        "the resumed run does no finished task twice",
        finished_at_kill.len() == 4
            && rerun_after_kill == 0
            && resumed.skipped == finished_at_kill_in(&order, &finished_at_kill)
            && train_states == ["interrupted", "success"]
            && left_partial
            && !left_final,
        format!(
            "{} tasks finished before the kill, {rerun_after_kill} of them ran again; train: {train_states:?}; at the kill model.json.partial {} and model.json {}",
            finished_at_kill.len(),
            if left_partial { "existed" } else { "did not exist" },
            if left_final { "existed" } else { "did not" }
        ),
        &[("rerun", rerun_after_kill as f64)],
    );

    // The outputs are idempotent: the killed-and-resumed run wrote byte for byte what the clean
    // run wrote, and running a finished run again does nothing.
    let mut differing = Vec::new();
    for task in pipeline.tasks() {
        let (a, b) = (
            file_digest(&clean_dir.join(task.output()))?,
            file_digest(&killed_dir.join(task.output()))?,
        );
        if a != b {
            differing.push(task.output());
        }
    }
    let again =
        Runner::new(&pipeline, &clean_dir, &state_path, retry, Faults::none())?.run("clean")?;
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(clean_dir.join("report.json"))?)?;
    println!(
        "outputs that differ between the clean and the resumed run: {differing:?}; running 'clean' again ran {:?}; the model: arr_delay = {:.3} × dep_delay {:+.2} on {} flights",
        again.ran,
        report["model"]["slope"].as_f64().unwrap_or(f64::NAN),
        report["model"]["intercept"].as_f64().unwrap_or(f64::NAN),
        report["model"]["rows"]
    );
    lesson.claim(
        "outputs are idempotent and a finished run is skipped",
        differing.is_empty() && again.ran.is_empty() && again.skipped.len() == order.len(),
        format!(
            "{} outputs compared, {} differ; a second run of 'clean' ran {} and skipped {} tasks",
            order.len(),
            differing.len(),
            again.ran.len(),
            again.skipped.len()
        ),
        &[("differing", differing.len() as f64)],
    );

    // The figure: every attempt of both runs on one time line, one row per run and task,
    // coloured by how it ended.
    let mut rows: Vec<String> = Vec::new();
    let mut bars: Vec<(usize, f64, f64, &str)> = Vec::new();
    for (run, log) in [("clean", &clean_log), ("killed", &killed_log)] {
        let start = log.iter().map(|a| a.started_us).min().unwrap_or(0);
        for task in &order {
            rows.push(format!("{run}: {task}"));
            for a in log.iter().filter(|a| a.task == *task) {
                let end = a.finished_us.unwrap_or(a.started_us);
                bars.push((
                    rows.len() - 1,
                    (a.started_us - start) as f64 / 1e3,
                    (end - start) as f64 / 1e3,
                    match a.state.as_str() {
                        "success" => "success",
                        "failed" => "failed (retried)",
                        _ => "interrupted (killed)",
                    },
                ));
            }
        }
    }
    let longest = bars.iter().map(|b| b.2).fold(1.0, f64::max);
    figure!(lesson, "attempts", plot::SIZE, |root| {
        // Category i spans i..i + 1 on the y axis; the first row goes at the top.
        let n = rows.len();
        let labels: Vec<&String> = rows.iter().rev().collect();
        let mut builder = plot::chart(
            &root,
            "Every attempt of the two runs, from the state database",
        );
        builder.y_label_area_size(180);
        let mut chart = builder.build_cartesian_2d(0.0..longest * 1.35, 0.0..n as f64)?;
        plot::house_mesh(&mut chart.configure_mesh())
            .x_desc("milliseconds since the run's first attempt")
            .y_labels(2 * n + 1)
            .y_label_formatter(&|v| plot::category_tick(&labels, *v))
            .draw()?;
        for (i, state) in ["success", "failed (retried)", "interrupted (killed)"]
            .into_iter()
            .enumerate()
        {
            let colour = plot::color([2, 3, 1][i]);
            chart
                .draw_series(
                    bars.iter()
                        .filter(|b| b.3 == state)
                        .map(|&(row, from, to, _)| {
                            let y = (n - 1 - row) as f64;
                            let to = to.max(from + longest / 400.0);
                            Rectangle::new([(from, y + 0.15), (to, y + 0.85)], colour.filled())
                        }),
                )?
                .label(state)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 20, y + 5)], colour.filled())
                });
        }
        let corners: Vec<(f64, f64)> = bars
            .iter()
            .flat_map(|&(row, from, to, _)| {
                let y = (n - 1 - row) as f64 + 0.5;
                [(from, y), (to, y), ((from + to) / 2.0, y)]
            })
            .collect();
        plot::legend_clear_of(
            &mut chart,
            &["success", "failed (retried)", "interrupted (killed)"],
            &corners,
        )?;
    })?;

    lesson.finish()?;
    Ok(())
}
