//! # Cross-validation: which split, and why not one hold-out
//!
//! **Question:** What is cross-validation, which splitting scheme fits which data, and why is it
//! better than one hold-out set?
//!
//! **Answer:** k-fold cross-validation trains k models, each tested on the fold it did not see, so
//! every row is tested once and no single lucky or unlucky split decides the score; the final model
//! is then refit on all the data. It does not make the estimate precise: it is still about as
//! uncertain as one test set of n rows, √(p(1−p)/n), the fold scores are correlated, and there is
//! no unbiased estimate of CV's own variance. k trades training size (less pessimism) against cost;
//! 5 or 10 is usual. The split must copy how new data arrive: stratify rare classes, keep groups
//! together, train only on the past for time series, and nest CV when it is also used to tune.
//!
//! **Evidence:** Against the truth — 300 (quick) to 1,000 training sets of 200 rows drawn from a
//! population, each scored by the refit model's accuracy on a large pool — one 20 % hold-out misses
//! the true accuracy by 0.07 (RMS) and 5-fold CV by 0.033, about the binomial 0.032 of 200 rows;
//! re-splitting the same rows moves CV by only 0.015, and a ±2-SE interval from the five fold
//! scores covers the truth about 85 % of the time, not 95 %. Stratified 10-fold keeps the malignant
//! share within one tumour of 37 % where plain folds stray by up to 0.19; on 40 patients with
//! chance-level labels plain 5-fold scores 0.98 and group 5-fold 0.47; on weekly CO₂ shuffled folds
//! look 17× better than forward-chaining.
//!
//! **Run:** `cargo run --example cross_validation` (add `-- --quick` for a short run).

use anyhow::Context;
use harness::measure::{mean, sample_sd as sd};
use harness::plot::ScatterChart;
use harness::prelude::*;
use linfa::prelude::*;
use linfa_bayes::GaussianNb;
use ndarray::{Array1, Array2};
use plotters::prelude::*;
use rand::Rng;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, Normal};
use toolkit::neighbors::KNeighbors;
use toolkit::split::{self, Fold};
use toolkit::{cross_val_score, metrics};

/// Draws `n` rows from the lesson's population: two equally likely classes, eight unit-variance
/// features, the first four shifted by 0.6 between the classes and the last four pure noise.
fn population_sample(rng: &mut impl Rng, n: usize) -> (Array2<f64>, Array1<usize>) {
    let y = Array1::from_shape_fn(n, |_| rng.gen_range(0..2usize));
    let noise = Normal::new(0.0, 1.0).expect("unit normal");
    let x = Array2::from_shape_fn((n, 8), |(i, j)| {
        let shift = if j < 4 { 0.6 * y[i] as f64 } else { 0.0 };
        shift + noise.sample(rng)
    });
    (x, y)
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // Part 1: what a CV score is worth, measured against the truth. A synthetic population stands
    // in for "every case the model will ever see": two overlapping Gaussian classes in eight
    // features, four of them informative. A large pool drawn from it measures the truth. Each
    // draw takes a fresh training set of 200 rows and estimates the accuracy three ways: one 20 %
    // hold-out, 5-fold CV, and 5-fold CV re-split nine more times on the same rows. The truth is
    // the accuracy on the pool of the model refit on all 200 rows, the one that would be shipped.
    // Gaussian naive Bayes is scale-free, so no scaler has to be fitted inside the folds.
    let mut population = lesson.rng(0);
    let (pool_x, pool_y) = population_sample(&mut population, lesson.pick(50_000, 20_000));
    let (rows, draws, resplits) = (200, lesson.pick(1000, 300), 10);
    let (mut holdout_error, mut cv_error, mut resplit_sd, mut covered) =
        (Vec::new(), Vec::new(), Vec::new(), 0usize);
    let (mut holdout, mut kfold, mut truths) = (Vec::new(), Vec::new(), Vec::new());
    for draw in 0..draws as u64 {
        let (x, y) = population_sample(&mut population, rows);
        let labels = y.as_slice().context("contiguous")?;
        // Ten different 5-fold splits of the same 200 rows; the first also gives the hold-out.
        let mut cv_means = Vec::new();
        let mut first_folds = Vec::new();
        for r in 0..resplits {
            let folds = split::stratified_k_fold(labels, 5, draw * 100 + r)?;
            let scores = cross_val_score(&GaussianNb::params(), &x, &y, &folds, metrics::accuracy)?;
            if r == 0 {
                first_folds = scores.clone();
            }
            cv_means.push(mean(&scores));
        }
        let model = GaussianNb::params().fit(&Dataset::new(x, y))?;
        let truth = metrics::accuracy(&pool_y, &model.predict(&pool_x));
        let (hold, cv) = (first_folds[0], cv_means[0]);
        // The textbook interval from the fold scores: mean ± 2 standard errors of five folds.
        if (cv - truth).abs() <= 2.0 * sd(&first_folds) / 5f64.sqrt() {
            covered += 1;
        }
        holdout_error.push(hold - truth);
        cv_error.push(cv - truth);
        resplit_sd.push(sd(&cv_means));
        holdout.push(hold);
        kfold.push(cv);
        truths.push(truth);
    }
    let rms = |v: &[f64]| (v.iter().map(|e| e * e).sum::<f64>() / v.len() as f64).sqrt();
    let (rms_hold, rms_cv) = (rms(&holdout_error), rms(&cv_error));
    let mean_resplit_sd = mean(&resplit_sd);
    let p = mean(&truths);
    let binomial = (p * (1.0 - p) / rows as f64).sqrt();
    let coverage = covered as f64 / draws as f64;
    println!(
        "{draws} training sets of {rows} rows, Gaussian naive Bayes, true accuracy {p:.3} on average:"
    );
    println!(
        "  error against the truth (RMS): one hold-out {rms_hold:.4}, 5-fold CV {rms_cv:.4}; binomial √(p(1−p)/n) {binomial:.4}"
    );
    println!(
        "  SD of CV when the same rows are re-split: {mean_resplit_sd:.4}; ±2 SE of the folds covers the truth in {:.0} % of draws",
        100.0 * coverage
    );
    lesson.metric("holdout_rms_error", rms_hold);
    lesson.metric("cv_rms_error", rms_cv);
    lesson.metric("cv_resplit_sd", mean_resplit_sd);
    lesson.metric("fold_interval_coverage", coverage);
    // Each RMS comes from 300+ independent draws, so it is known to within about ±5 %; the
    // hold-out tests 40 rows and CV all 200, so √5 ≈ 2.2 is the ratio if fold scores were
    // independent. Correlated folds and a truth that moves with the training set keep it lower.
    lesson.claim(
        "CV is closer to the truth than one hold-out",
        rms_hold > 1.4 * rms_cv,
        format!("RMS error against the pool accuracy: hold-out {rms_hold:.4}, CV {rms_cv:.4} ({:.1}× smaller)", rms_hold / rms_cv),
        &[("holdout_rms_error", rms_hold), ("cv_rms_error", rms_cv)],
    );
    // Re-splitting the same rows only shows how much the split moves the score; the rows
    // themselves are one sample of the population, and that error no re-split can see.
    lesson.claim(
        "re-splitting the same rows understates CV's error",
        rms_cv > 1.8 * mean_resplit_sd && rms_cv > 0.7 * binomial,
        format!("CV misses the truth by {rms_cv:.4} (RMS), {:.1}× the SD across re-splits ({mean_resplit_sd:.4}) and {:.1}× the binomial {binomial:.4} of {rows} rows", rms_cv / mean_resplit_sd, rms_cv / binomial),
        &[("cv_rms_error", rms_cv), ("cv_resplit_sd", mean_resplit_sd)],
    );
    // The five fold scores share most of their training rows, so their spread understates the
    // uncertainty too: a nominal 95 % interval covers the truth less often (85 % here; the
    // coverage is a proportion of 300+ draws, known to about ±2 points).
    lesson.claim(
        "an interval from the fold scores is too narrow",
        coverage < 0.92,
        format!(
            "mean ± 2 SE of the five folds held the true accuracy in {:.0} % of draws, not 95 %",
            100.0 * coverage
        ),
        &[("fold_interval_coverage", coverage)],
    );

    // Part 2: stratification. The malignant share of each test fold of the breast-cancer data,
    // plain shuffled k-fold against stratified.
    let cancer = datasets::breast_cancer()?;
    let labels = cancer.target.as_slice().context("contiguous")?;
    let overall = labels.iter().filter(|&&c| c == 0).count() as f64 / labels.len() as f64;
    let worst = |folds: &[Fold]| {
        folds
            .iter()
            .map(|f| {
                (f.test.iter().filter(|&&i| labels[i] == 0).count() as f64 / f.test.len() as f64
                    - overall)
                    .abs()
            })
            .fold(0.0, f64::max)
    };
    let (mut plain_worst, mut strat_worst) = (0.0f64, 0.0f64);
    let seeds = lesson.pick(60, 30);
    for s in 0..seeds as u64 {
        plain_worst = plain_worst.max(worst(&split::k_fold(labels.len(), 10, s)?));
        strat_worst = strat_worst.max(worst(&split::stratified_k_fold(labels, 10, s)?));
    }
    println!(
        "\nmalignant share {overall:.3}; worst fold deviation over {seeds} seeds of 10-fold: plain {plain_worst:.3}, stratified {strat_worst:.3}"
    );
    lesson.claim(
        "stratified folds keep class ratios",
        strat_worst <= 1.0 / 56.0 + 1e-9 && plain_worst > 3.0 * strat_worst,
        format!("stratified folds deviate at most {strat_worst:.4} from {overall:.3} (one sample in a 57-row fold is 0.018); plain folds up to {plain_worst:.3}"),
        &[("stratified_worst", strat_worst), ("plain_worst", plain_worst)],
    );

    // Part 3: groups. 40 patients, 10 noisy visits each, and a label drawn at random per patient:
    // nothing about a new patient predicts it, so honest accuracy is 50 %. A 1-NN model with plain
    // folds finds the same patient's other visits and looks perfect.
    let mut rng = lesson.rng(1);
    let (patients, visits) = (40, 10);
    let noise = Normal::new(0.0, 0.1)?;
    let centres = Array2::from_shape_fn((patients, 5), |_| rng.gen_range(-1.0..1.0));
    let patient_label: Vec<usize> = (0..patients).map(|_| rng.gen_range(0..2)).collect();
    let n = patients * visits;
    let xg = Array2::from_shape_fn((n, 5), |(i, j)| {
        centres[[i / visits, j]] + noise.sample(&mut rng)
    });
    let yg = Array1::from_shape_fn(n, |i| patient_label[i / visits]);
    let groups: Vec<usize> = (0..n).map(|i| i / visits).collect();
    let knn = KNeighbors { k: 1 };
    let plain = mean(&cross_val_score(
        &knn,
        &xg,
        &yg,
        &split::k_fold(n, 5, lesson.seed())?,
        metrics::accuracy,
    )?);
    let grouped = mean(&cross_val_score(
        &knn,
        &xg,
        &yg,
        &split::group_k_fold(&groups, 5)?,
        metrics::accuracy,
    )?);
    println!(
        "\n{patients} patients × {visits} visits, labels random per patient: plain 5-fold {plain:.3}, group 5-fold {grouped:.3}"
    );
    // Group CV tests 40 patients' labels: its accuracy is Binomial(40, 0.5)/40 around 0.5 (SD 0.08).
    lesson.claim(
        "plain folds leak groups; group folds do not",
        plain > 0.95 && grouped < 0.75,
        format!("plain k-fold {plain:.3} on chance-level labels; group k-fold {grouped:.3} (chance 0.5, SD 0.08 over 40 patients)"),
        &[("plain_accuracy", plain), ("group_accuracy", grouped)],
    );

    // Part 4: time. Weekly CO₂; predict each test week as the mean of the 5 training weeks nearest
    // in time. Shuffled folds let the model see the weeks on both sides; forward-chaining folds
    // make it predict the future from the past, as it would be used.
    let co2 = lessons_frames::frame("co2_weekly.csv")?.drop_nulls::<String>(None)?;
    let ppm: Vec<f64> = co2.column("co2")?.f64()?.into_no_null_iter().collect();
    let t: Vec<f64> = (0..ppm.len()).map(|i| i as f64).collect();
    let rmse = |folds: &[Fold]| -> f64 {
        let mut sq = Vec::new();
        for f in folds {
            for &i in &f.test {
                let mut nearest: Vec<usize> = f.train.clone();
                nearest.select_nth_unstable_by(4, |&a, &b| {
                    (t[a] - t[i]).abs().total_cmp(&(t[b] - t[i]).abs())
                });
                let guess = nearest[..5].iter().map(|&j| ppm[j]).sum::<f64>() / 5.0;
                sq.push((guess - ppm[i]).powi(2));
            }
        }
        mean(&sq).sqrt()
    };
    let series_folds = split::time_series_split(ppm.len(), 5, 0)?;
    let future_free = series_folds
        .iter()
        .all(|f| f.train.iter().max() < f.test.iter().min());
    let shuffled_rmse = rmse(&split::k_fold(ppm.len(), 5, lesson.seed())?);
    let forward_rmse = rmse(&series_folds);
    println!(
        "\nCO₂, {} weeks: RMSE with shuffled 5-fold {shuffled_rmse:.2} ppm, with forward-chaining 5 splits {forward_rmse:.2} ppm",
        ppm.len()
    );
    lesson.claim(
        "time-series splits never train on the future",
        future_free && forward_rmse > 5.0 * shuffled_rmse,
        format!("every training index precedes its test block; shuffled folds look {:.0}× better because they interpolate", forward_rmse / shuffled_rmse),
        &[("shuffled_rmse", shuffled_rmse), ("forward_rmse", forward_rmse)],
    );

    // Figures: the four schemes on 40 samples, and the estimates across splits.
    let demo_y: Vec<usize> = (0..40).map(|i| usize::from(i % 4 == 0)).collect();
    let demo_groups: Vec<usize> = (0..40).map(|i| i / 6).collect();
    let mut order: Vec<usize> = (0..40).collect();
    order.shuffle(&mut lesson.rng(2));
    let schemes: Vec<(&str, Vec<Fold>)> = vec![
        (
            "k-fold, shuffled (blue: training rows, orange: test rows)",
            split::k_fold(40, 4, 1)?,
        ),
        (
            "stratified k-fold (every 4th sample is positive)",
            split::stratified_k_fold(&demo_y, 4, 1)?,
        ),
        (
            "group k-fold (groups of 6)",
            split::group_k_fold(&demo_groups, 4)?,
        ),
        ("time-series split", split::time_series_split(40, 4, 0)?),
    ];
    figure!(lesson, "splits", (960, 720), |root| {
        let panels = root.split_evenly((4, 1));
        for (panel, (title, folds)) in panels.iter().zip(&schemes) {
            let mut chart = ChartBuilder::on(panel)
                .caption(*title, plot::label_style())
                .margin(6)
                .x_label_area_size(18)
                .y_label_area_size(60)
                .build_cartesian_2d(0.0..40.0, 0.0..folds.len() as f64)?;
            plot::house_mesh(&mut chart.configure_mesh())
                .disable_mesh()
                .y_desc("fold")
                .x_labels(9)
                .y_labels(0)
                .x_label_formatter(&|v| format!("{v:.0}"))
                .draw()?;
            for (k, fold) in folds.iter().enumerate() {
                let y0 = (folds.len() - 1 - k) as f64;
                chart.draw_series(fold.train.iter().map(|&i| {
                    Rectangle::new(
                        [(i as f64, y0 + 0.15), (i as f64 + 0.9, y0 + 0.85)],
                        plot::color(0).mix(0.8).filled(),
                    )
                }))?;
                chart.draw_series(fold.test.iter().map(|&i| {
                    Rectangle::new(
                        [(i as f64, y0 + 0.15), (i as f64 + 0.9, y0 + 0.85)],
                        plot::color(1).filled(),
                    )
                }))?;
            }
        }
    })?;
    figure!(lesson, "cv_vs_holdout", plot::SIZE, |root| {
        ScatterChart::new(
            "Estimated against true accuracy, one point per training set",
            "true accuracy (refit on all rows, scored on the pool)",
            "estimated accuracy",
        )
        .group(
            "one 20 % hold-out",
            truths.iter().zip(&holdout).map(|(t, e)| (*t, *e)).collect(),
        )
        .group(
            "5-fold CV",
            truths.iter().zip(&kfold).map(|(t, e)| (*t, *e)).collect(),
        )
        .draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}
