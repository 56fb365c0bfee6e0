//! # Evaluation metrics: what each number says and hides
//!
//! **Question:** How do you evaluate a classifier and a regressor, and when is accuracy misleading?
//!
//! **Answer:** Start from the confusion matrix. Precision asks how many flagged cases are real,
//! recall how many real cases were flagged, F1 balances the two; macro averages treat every class
//! alike, weighted ones follow class sizes. ROC AUC is the chance that a random positive scores
//! above a random negative, so it judges the ranking at every threshold at once; the
//! precision–recall curve and average precision matter more when positives are rare. Log loss
//! judges the probabilities themselves. For regression, RMSE punishes large errors, MAE is in the
//! target's units and robust, R² compares with predicting the mean. Accuracy misleads on imbalanced
//! data: with 3 % positives, "always negative" scores 97 % accuracy and F1 = 0.
//!
//! **Run:** `cargo run --example evaluation_metrics` (add `-- --quick` for a short run).

use anyhow::Context;
use harness::plot::LineChart;
use harness::prelude::*;
use linfa::prelude::*;
use linfa_linear::LinearRegression;
use linfa_logistic::MultiLogisticRegression;
use linfa_preprocessing::linear_scaling::LinearScaler;
use ndarray::{Array1, Axis};
use rand::Rng;
use toolkit::metrics::{self, Average, Confusion};
use toolkit::split;

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let imbalanced_n = lesson.pick(100_000, 10_000);

    // Part 1: a probabilistic classifier on the breast-cancer data, malignant (class 0) as the
    // positive class. A stratified quarter is held out; the scaler learns from training rows only.
    let cancer = datasets::breast_cancer()?;
    let y_all = cancer.target.as_slice().context("contiguous targets")?;
    let folds = split::stratified_k_fold(y_all, 4, lesson.seed())?;
    let (train_idx, test_idx) = (&folds[0].train, &folds[0].test);
    let train = Dataset::new(
        cancer.features.select(Axis(0), train_idx),
        cancer.target.select(Axis(0), train_idx),
    );
    let scaler = LinearScaler::standard().fit(&train)?;
    let train = Dataset::new(
        scaler.transform(train.records().clone()),
        train.targets().clone(),
    );
    let x_test = scaler.transform(cancer.features.select(Axis(0), test_idx));
    let y_test: Vec<usize> = test_idx.iter().map(|&i| y_all[i]).collect();
    let model = MultiLogisticRegression::default()
        .alpha(1.0)
        .max_iterations(500)
        .fit(&train)?;
    let probabilities = model.predict_probabilities(&x_test);
    let predicted = model.predict(&x_test);
    let malignant_score: Vec<f64> = probabilities.column(0).to_vec();
    let is_malignant: Vec<bool> = y_test.iter().map(|&c| c == 0).collect();

    // The confusion matrix and the scores read from it.
    let confusion = Confusion::new(&y_test, predicted.as_slice().context("contiguous")?, 2)?;
    println!(
        "breast cancer, {} held-out tumours; rows = truth, columns = prediction:",
        y_test.len()
    );
    for (name, row) in ["malignant", "benign"].iter().zip(&confusion.counts) {
        println!("  {name:<10} {:>4} {:>4}", row[0], row[1]);
    }
    let binary = confusion.scores(Average::Binary { positive: 0 });
    let macro_avg = confusion.scores(Average::Macro);
    let weighted = confusion.scores(Average::Weighted);
    println!("{:<26} {:>9} {:>9} {:>9}", "", "precision", "recall", "F1");
    for (name, s) in [
        ("malignant (binary)", binary),
        ("macro average", macro_avg),
        ("weighted average", weighted),
    ] {
        println!(
            "{name:<26} {:>9.3} {:>9.3} {:>9.3}",
            s.precision, s.recall, s.f1
        );
    }
    let linfa_accuracy = predicted
        .confusion_matrix(&Array1::from(y_test.clone()))?
        .accuracy() as f64;
    println!(
        "accuracy {:.3} (linfa's confusion matrix: {linfa_accuracy:.3})",
        confusion.accuracy()
    );

    // ROC AUC two ways: the area under the curve, and the rank statistic (the probability that a
    // random malignant tumour scores above a random benign one). linfa's own ROC is the third.
    let roc = metrics::roc_curve(&is_malignant, &malignant_score)?;
    let auc_curve = metrics::trapezoid(&roc.points);
    let auc_rank = metrics::roc_auc_rank(&is_malignant, &malignant_score)?;
    let scores_pr: Vec<Pr> = malignant_score.iter().map(|&p| Pr::new(p as f32)).collect();
    let auc_linfa = scores_pr
        .as_slice()
        .roc(&is_malignant[..])?
        .area_under_curve() as f64;
    let pr = metrics::pr_curve(&is_malignant, &malignant_score)?;
    let ap = metrics::average_precision(&is_malignant, &malignant_score)?;
    let loss = metrics::log_loss(probabilities.view(), &y_test)?;
    println!(
        "ROC AUC: by the curve {auc_curve:.6}, by ranks {auc_rank:.6}, by linfa {auc_linfa:.6}"
    );
    println!(
        "average precision (PR AUC) {ap:.4}; log loss {loss:.4} (a coin flip scores ln 2 = 0.693)"
    );
    for (name, v) in [
        ("precision", binary.precision),
        ("recall", binary.recall),
        ("f1", binary.f1),
        ("roc_auc", auc_rank),
        ("average_precision", ap),
        ("log_loss", loss),
        ("accuracy", confusion.accuracy()),
    ] {
        lesson.metric(name, v);
    }
    lesson.claim(
        "AUC computed by the curve and by the rank statistic agree",
        (auc_curve - auc_rank).abs() < 1e-12 && (auc_linfa - auc_rank).abs() < 1e-4 && auc_rank > 0.95,
        format!("{auc_curve:.9} by the trapezoid rule, {auc_rank:.9} by ranks, {auc_linfa:.6} by linfa (f32)"),
        &[("auc_curve", auc_curve), ("auc_rank", auc_rank)],
    );

    // Part 2: regression metrics on the diabetes data, from linfa's own implementations.
    let diabetes = datasets::diabetes()?;
    let d = Dataset::new(diabetes.features.clone(), diabetes.target.clone())
        .shuffle(&mut lesson.rng(2));
    let (d_train, d_test) = d.split_with_ratio(0.75);
    let linear = LinearRegression::default().fit(&d_train)?;
    let fitted = linear.predict(&d_test);
    let rmse = fitted.mean_squared_error(&d_test)?.sqrt();
    let mae = fitted.mean_absolute_error(&d_test)?;
    let r2 = fitted.r2(&d_test)?;
    let spread = d_test.targets().std(0.0);
    println!(
        "\ndiabetes, linear regression on a held-out quarter: RMSE {rmse:.1}, MAE {mae:.1}, R² {r2:.3} (target SD {spread:.1})"
    );
    lesson.metric("rmse", rmse);
    lesson.metric("r2", r2);
    lesson.claim(
        "RMSE ≥ MAE, and R² = 1 − (RMSE/SD)²",
        rmse >= mae && (r2 - (1.0 - (rmse / spread).powi(2))).abs() < 1e-9,
        format!(
            "RMSE {rmse:.2} ≥ MAE {mae:.2}; 1 − (RMSE/SD)² = {:.6}, R² = {r2:.6}",
            1.0 - (rmse / spread).powi(2)
        ),
        &[("rmse", rmse), ("mae", mae), ("r2", r2)],
    );

    // Part 3: the accuracy paradox. 3 % positives; a "model" that always answers negative.
    let mut rng = lesson.rng(3);
    let truth: Vec<usize> = (0..imbalanced_n)
        .map(|_| usize::from(rng.gen_bool(0.03)))
        .collect();
    let majority = vec![0; imbalanced_n];
    let c = Confusion::new(&truth, &majority, 2)?;
    let f1 = c.scores(Average::Binary { positive: 1 }).f1;
    println!(
        "\n{imbalanced_n} cases, {} positive: always-negative accuracy {:.3}, F1 {f1:.3}",
        truth.iter().sum::<usize>(),
        c.accuracy()
    );
    lesson.claim(
        "a majority-class model scores high accuracy and F1 = 0",
        c.accuracy() > 0.95 && f1 == 0.0,
        format!(
            "accuracy {:.3}, F1 for the positive class {f1}",
            c.accuracy()
        ),
        &[("majority_accuracy", c.accuracy()), ("majority_f1", f1)],
    );

    figure!(lesson, "roc_and_pr", (1200, 560), |root| {
        let (left, right) = root.split_horizontally(600);
        LineChart::new(
            &format!("ROC curve (AUC {auc_rank:.3})"),
            "false-positive rate",
            "true-positive rate",
        )
        .series("logistic regression", roc.points.clone())
        .series("chance", vec![(0.0, 0.0), (1.0, 1.0)])
        .draw(&left)?;
        LineChart::new(
            &format!("Precision–recall (AP {ap:.3})"),
            "recall",
            "precision",
        )
        .series("logistic regression", pr.points.clone())
        .draw(&right)?;
    })?;

    lesson.finish()?;
    Ok(())
}
