//! # Overfitting and regularisation: ridge, lasso and early stopping
//!
//! **Question:** What is overfitting, and how do ridge, lasso and early stopping prevent it?
//!
//! **Answer:** A model overfits when it learns the noise of its training set: training error keeps
//! falling while error on new data rises. Regularisation limits how far the fit can bend. Ridge
//! adds a penalty on the squared size of the coefficients, shrinking all of them smoothly towards
//! zero; lasso penalises their absolute size, which sets coefficients exactly to zero one after
//! another, so it also selects features. Early stopping halts an iterative fit when the error on a
//! validation set stops improving — for gradient descent on least squares it acts much like a ridge
//! penalty that weakens as the epochs go by. This lesson draws both coefficient paths on the
//! diabetes data and stops a deliberately over-flexible model early.
//!
//! **Run:** `cargo run --example regularization` (add `-- --quick` for a short run).

use harness::plot::LineChart;
use harness::prelude::*;
use linfa::prelude::*;
use linfa_elasticnet::ElasticNet;
use linfa_preprocessing::linear_scaling::LinearScaler;
use ndarray::{Array1, Array2};
use rand::Rng;
use rand_distr::{Distribution, Normal};

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // Part 1: paths. The ten diabetes features are standardised so that one penalty means the same
    // for each coefficient.
    let diabetes = datasets::diabetes()?;
    let raw = Dataset::new(diabetes.features.clone(), diabetes.target.clone());
    let scaled = LinearScaler::standard().fit(&raw)?.transform(raw);
    let penalties: Vec<f64> = (0..=24)
        .map(|i| 10f64.powf(-2.0 + i as f64 * 0.25))
        .collect();
    let mut lasso_paths: Vec<Vec<(f64, f64)>> = vec![Vec::new(); 10];
    let mut ridge_paths: Vec<Vec<(f64, f64)>> = vec![Vec::new(); 10];
    let (mut nonzero, mut ridge_norm) = (Vec::new(), Vec::new());
    println!(
        "{:>10} {:>16} {:>18}",
        "penalty", "lasso non-zeros", "ridge ‖β‖₂"
    );
    // Coordinate descent is capped at 1,000 sweeps per fit: with 10,000 the paths and counts below
    // come out the same, ten times slower.
    for &penalty in &penalties {
        let lasso = ElasticNet::lasso()
            .penalty(penalty)
            .tolerance(1e-6)
            .max_iterations(1_000)
            .fit(&scaled)?;
        let ridge = ElasticNet::ridge()
            .penalty(penalty)
            .tolerance(1e-6)
            .max_iterations(1_000)
            .fit(&scaled)?;
        let count = lasso.hyperplane().iter().filter(|b| b.abs() > 1e-9).count();
        let norm = ridge.hyperplane().dot(ridge.hyperplane()).sqrt();
        for j in 0..10 {
            lasso_paths[j].push((penalty, lasso.hyperplane()[j]));
            ridge_paths[j].push((penalty, ridge.hyperplane()[j]));
        }
        println!("{penalty:>10.3} {count:>16} {norm:>18.2}");
        nonzero.push(count);
        ridge_norm.push(norm);
    }
    // The count does not always fall at every single step: a coefficient can leave the model and
    // re-enter when correlated features trade places (here the blood-serum measurements s1–s6 are
    // strongly correlated; Efron et al. saw the same on this data with LARS). Report each one.
    let mut reentries = Vec::new();
    for (j, path) in lasso_paths.iter().enumerate() {
        for k in 1..path.len() - 1 {
            if path[k].1.abs() <= 1e-9
                && path[k - 1].1.abs() > 1e-9
                && path[k + 1..].iter().any(|p| p.1.abs() > 1e-9)
            {
                reentries.push(format!(
                    "{} (zero at penalty {:.3}, back after)",
                    diabetes.feature_names[j], path[k].0
                ));
            }
        }
    }
    println!("coefficients that leave and re-enter the lasso model: {reentries:?}");
    // Over every factor of 10 in the penalty, the count never rises.
    let lasso_monotone = nonzero.windows(5).all(|w| w[4] <= w[0]);
    let ridge_monotone = ridge_norm.windows(2).all(|w| w[1] < w[0]);
    // Which feature survives longest: the lasso's own feature ranking.
    let last_standing: Vec<&str> = (0..10)
        .filter(|&j| {
            lasso_paths[j]
                .iter()
                .rev()
                .find(|p| p.1.abs() > 1e-9)
                .is_some_and(|p| p.0 >= 10.0)
        })
        .map(|j| diabetes.feature_names[j].as_str())
        .collect();
    println!("features the lasso keeps at penalty ≥ 10: {last_standing:?}");
    lesson.claim(
        "lasso's non-zero count falls as the penalty grows",
        lasso_monotone && nonzero[0] == 10 && *nonzero.last().unwrap_or(&10) == 0,
        format!(
            "{:?} non-zero coefficients from penalty 0.01 to 10⁴; never more after a tenfold increase; {} brief re-entr(y/ies)",
            nonzero,
            reentries.len()
        ),
        &[("nonzero_smallest_penalty", nonzero[0] as f64), ("nonzero_largest_penalty", *nonzero.last().unwrap_or(&0) as f64)],
    );
    lesson.claim(
        "ridge's coefficient norm shrinks",
        ridge_monotone && ridge_norm[0] > 4.0 * ridge_norm[ridge_norm.len() - 1],
        format!(
            "‖β‖₂ {:.1} → {:.1}, falling at every step",
            ridge_norm[0],
            ridge_norm[ridge_norm.len() - 1]
        ),
        &[
            ("ridge_norm_first", ridge_norm[0]),
            ("ridge_norm_last", ridge_norm[ridge_norm.len() - 1]),
        ],
    );

    // Part 2: early stopping. 15 noisy points and a degree-14 polynomial (in Chebyshev form), which
    // can pass through all of them, fitted by plain gradient descent; 200 validation points from
    // the same curve. Gradient descent fits the smooth shape within tens of epochs and the noise
    // only over thousands, which is what early stopping exploits. How much the last epoch loses
    // depends on the noise draw (on one draw in a hundred the interpolant is nearly as good as the
    // early fit), so the experiment is repeated over ten draws and judged on their average.
    const N_TRAIN: usize = 15;
    let (epochs, draws): (usize, usize) = (100_000, 10);
    let mut rng = lesson.rng(1);
    let noise = Normal::new(0.0, 0.25)?;
    let truth = |x: f64| (2.5 * x).sin();
    let features = |x: &[f64]| {
        Array2::from_shape_fn((x.len(), N_TRAIN), |(i, k)| (k as f64 * x[i].acos()).cos())
    };
    // The training points are evenly spaced (a fixed design, so only the noise is random).
    let train_x: Vec<f64> = (0..N_TRAIN)
        .map(|i| -1.0 + (2 * i + 1) as f64 / N_TRAIN as f64)
        .collect();
    let x_train = features(&train_x);
    let mse = |x: &Array2<f64>, y: &Array1<f64>, w: &Array1<f64>| {
        (x.dot(w) - y).mapv(|e| e * e).mean().unwrap_or(0.0)
    };
    // The step size is 1 / (largest eigenvalue of XᵀX / n), the fastest stable choice.
    let gram = x_train.t().dot(&x_train) / N_TRAIN as f64;
    let mut v = Array1::from_elem(N_TRAIN, 1.0);
    for _ in 0..200 {
        let next = gram.dot(&v);
        v = &next / next.dot(&next).sqrt();
    }
    let step = 1.0 / v.dot(&gram.dot(&v));
    let mut curve = Vec::new();
    let mut runs = Vec::new();
    println!(
        "\ngradient descent, degree 14 through 15 evenly spaced points, {epochs} epochs, validation every 10:"
    );
    println!(
        "{:>5} {:>11} {:>10} {:>11} {:>10} {:>11}",
        "draw", "best epoch", "best val", "final val", "train@best", "train@end"
    );
    for draw in 0..draws {
        let y_train: Array1<f64> = train_x
            .iter()
            .map(|&x| truth(x) + noise.sample(&mut rng))
            .collect();
        let val_x: Vec<f64> = (0..200).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let x_val = features(&val_x);
        let y_val: Array1<f64> = val_x
            .iter()
            .map(|&x| truth(x) + noise.sample(&mut rng))
            .collect();
        let mut w = Array1::zeros(N_TRAIN);
        let (mut best_epoch, mut best_val, mut best_train) = (0, f64::INFINITY, f64::INFINITY);
        for epoch in 1..=epochs {
            let gradient = x_train.t().dot(&(x_train.dot(&w) - &y_train)) / N_TRAIN as f64;
            w = w - step * gradient;
            if epoch < 100 || epoch % 10 == 0 {
                let val = mse(&x_val, &y_val, &w);
                if val < best_val {
                    (best_epoch, best_val, best_train) = (epoch, val, mse(&x_train, &y_train, &w));
                }
                if draw == 0 && (epoch.is_power_of_two() || epoch % 2_000 == 0) {
                    curve.push((epoch as f64, mse(&x_train, &y_train, &w), val));
                }
            }
        }
        let (final_train, final_val) = (mse(&x_train, &y_train, &w), mse(&x_val, &y_val, &w));
        println!(
            "{draw:>5} {best_epoch:>11} {best_val:>10.4} {final_val:>11.4} {best_train:>10.4} {final_train:>11.4}"
        );
        runs.push((best_epoch, best_val, final_val, best_train, final_train));
    }
    let mean = |f: fn(&(usize, f64, f64, f64, f64)) -> f64| {
        runs.iter().map(f).sum::<f64>() / runs.len() as f64
    };
    let (best_val, final_val) = (mean(|r| r.1), mean(|r| r.2));
    let early = runs.iter().filter(|r| r.0 < epochs / 2).count();
    let train_fell = runs.iter().all(|r| r.4 < r.3);
    lesson.metric("early_stop_val_mse", best_val);
    lesson.metric("final_val_mse", final_val);
    lesson.metric("median_best_epoch", {
        let mut e: Vec<usize> = runs.iter().map(|r| r.0).collect();
        e.sort_unstable();
        e[e.len() / 2] as f64
    });
    // The noise variance is 0.0625: a validation MSE near it means the fit found the curve. Over
    // 100 seeds a single draw's final/best ratio ranged from 1.1 to several hundred; the mean over
    // ten draws stays far above 1.5.
    lesson.claim(
        "early stopping beats training to the end on new data while training error keeps falling",
        final_val > 1.5 * best_val && early >= draws - 1 && train_fell,
        format!(
            "mean validation MSE over {draws} draws {best_val:.4} at the best epoch vs {final_val:.4} after {epochs}; best epoch before {} in {early} draws; training error fell in every draw",
            epochs / 2
        ),
        &[("best_val", best_val), ("final_val", final_val)],
    );

    figure!(lesson, "coefficient_paths", (1200, 560), |root| {
        let (left, right) = root.split_horizontally(600);
        let mut lasso_chart = LineChart::new(
            "Lasso path (diabetes)",
            "penalty (log scale)",
            "coefficient",
        );
        let mut ridge_chart = LineChart::new(
            "Ridge path (diabetes)",
            "penalty (log scale)",
            "coefficient",
        );
        lasso_chart.log_x = true;
        ridge_chart.log_x = true;
        for j in 0..10 {
            lasso_chart =
                lasso_chart.series(diabetes.feature_names[j].as_str(), lasso_paths[j].clone());
            ridge_chart =
                ridge_chart.series(diabetes.feature_names[j].as_str(), ridge_paths[j].clone());
        }
        lasso_chart.draw(&left)?;
        ridge_chart.draw(&right)?;
    })?;
    figure!(lesson, "early_stopping", plot::SIZE, |root| {
        LineChart::new(
            "Gradient descent on a degree-14 polynomial, 15 points (draw 0)",
            "epoch",
            "mean squared error",
        )
        .log_log()
        .series("training", curve.iter().map(|c| (c.0, c.1)).collect())
        .series("validation", curve.iter().map(|c| (c.0, c.2)).collect())
        .series(
            "early stop",
            vec![
                (runs[0].0.max(1) as f64, runs[0].1 * 0.8),
                (runs[0].0.max(1) as f64, runs[0].1 * 1.25),
            ],
        )
        .draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}
