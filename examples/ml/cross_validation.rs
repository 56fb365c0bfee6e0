//! # Cross-validation: which split, and why not one hold-out
//!
//! **Question:** What is cross-validation, which splitting scheme fits which data, and why is it
//! better than one hold-out set?
//!
//! **Answer:** k-fold cross-validation trains k models, each tested on the one fold it did not see,
//! so every sample is tested once and the estimate averages k test sets instead of one; over many
//! random splits its estimate varies several times less than a single hold-out's. The split must
//! copy how the model will meet new data: stratify by class when classes are imbalanced, keep each
//! group (patient, user) on one side when samples of a group resemble each other, and for time
//! series train only on the past. Ignore that and the score lies: here plain k-fold on patient data
//! scores about 100 % on labels that are pure chance for a new patient, and shuffled folds on CO₂
//! predict "the future" several times better than forward-chaining can.
//!
//! **Run:** `cargo run --example cross_validation` (add `-- --quick` for a short run).

use anyhow::Context;
use harness::measure::{mean, sample_sd as sd};
use harness::plot::LineChart;
use harness::prelude::*;
use linfa_bayes::GaussianNb;
use ndarray::{Array1, Array2};
use plotters::prelude::*;
use rand::Rng;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, Normal};
use toolkit::neighbors::KNeighbors;
use toolkit::split::{self, Fold};
use toolkit::{cross_val_score, metrics};

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let seeds = lesson.pick(60, 30);

    // Part 1: CV against one hold-out, repeated over many random splits of breast_cancer.
    // Gaussian naive Bayes is scale-free, so no scaler has to be fitted inside the folds.
    let cancer = datasets::breast_cancer()?;
    let (x, y) = (&cancer.features, &cancer.target);
    let labels = y.as_slice().context("contiguous")?;
    let mut holdout = Vec::new();
    let mut kfold = Vec::new();
    for s in 0..seeds as u64 {
        let seed = lesson.seed() * 1000 + s;
        let folds = split::stratified_k_fold(labels, 5, seed)?;
        // One hold-out: a stratified fifth, scored once.
        holdout
            .push(cross_val_score(&GaussianNb::params(), x, y, &folds[..1], metrics::accuracy)?[0]);
        // Five-fold CV with the same kind of split: the mean over all five folds.
        kfold.push(mean(&cross_val_score(
            &GaussianNb::params(),
            x,
            y,
            &folds,
            metrics::accuracy,
        )?));
    }
    let (sd_hold, sd_cv) = (sd(&holdout), sd(&kfold));
    println!(
        "breast cancer, Gaussian naive Bayes over {seeds} random splits: hold-out {:.4} ± {sd_hold:.4}, 5-fold CV {:.4} ± {sd_cv:.4} (mean ± SD across splits)",
        mean(&holdout),
        mean(&kfold)
    );
    lesson.metric("holdout_sd", sd_hold);
    lesson.metric("cv_sd", sd_cv);
    lesson.metric("cv_mean_accuracy", mean(&kfold));
    // With n ≈ 114 test rows per hold-out and accuracy ≈ 0.94, the binomial SD is about 0.022; CV
    // tests all 569 rows, so its SD should be roughly half or less. The sample SD from 30+ splits
    // is within about ±25 % of the truth, so a ratio of 1.5 is a safe line.
    lesson.claim(
        "CV's estimate varies less than hold-out's",
        sd_hold > 1.5 * sd_cv,
        format!("SD across {seeds} splits: hold-out {sd_hold:.4}, 5-fold CV {sd_cv:.4} ({:.1}× smaller)", sd_hold / sd_cv),
        &[("holdout_sd", sd_hold), ("cv_sd", sd_cv)],
    );

    // Part 2: stratification. The positive share of each test fold, plain shuffled k-fold against
    // stratified, on the same data.
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
        LineChart::new(
            "Accuracy estimate across random splits",
            "split seed",
            "estimated accuracy",
        )
        .series(
            "one stratified hold-out (20 %)",
            holdout
                .iter()
                .enumerate()
                .map(|(i, a)| (i as f64, *a))
                .collect(),
        )
        .series(
            "5-fold CV mean",
            kfold
                .iter()
                .enumerate()
                .map(|(i, a)| (i as f64, *a))
                .collect(),
        )
        .draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}
