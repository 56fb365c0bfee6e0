//! # Random forest vs gradient boosting
//!
//! **Question:** What is the difference between a random forest and gradient boosting?
//!
//! **Answer:** Both add up trees; they fix opposite problems. A random forest grows deep trees —
//! each one low in bias but high in variance — independently on bootstrap samples and averages
//! their votes: the average varies far less from one random seed to the next than a single tree
//! does (here the per-point vote share moves about seven times less). More trees never hurt a
//! forest; its test error levels off. Gradient boosting grows shallow trees — high bias, low
//! variance — one after another, each fitted to the errors (the loss's gradient) of the sum so far:
//! its training loss falls every round, and its test error keeps improving long after a forest's
//! has stopped. The price is that boosting can overfit: the learning rate and the number of rounds
//! are real hyper-parameters, and a rate of 1 with deeper trees drives the training loss towards
//! zero while the test loss climbs. Measured here on the classic ten-feature benchmark where the
//! class is whether the point lies outside a sphere.
//!
//! **Run:** `cargo run --example forest_vs_boosting` (add `-- --quick` for a short run).

use anyhow::{Context, Result};
use harness::measure::mean;
use harness::prelude::*;
use linfa::prelude::*;
use linfa_ensemble::EnsembleLearnerParams;
use linfa_trees::DecisionTree;
use ndarray::{Array1, Array2};
use rand::Rng;
use rand_distr::StandardNormal;
use toolkit::boosting::{GbClassifier, GradientBoostingParams};

use toolkit::metrics::{self, log_loss};

/// Ten standard normal features; the class is 1 when their squared norm exceeds 9.34, the
/// median of a χ² with 10 degrees of freedom, so the classes are balanced. Then 10 % of the
/// labels are flipped, as real labels are never clean: no model can beat 10 % test error.
fn sphere(n: usize, rng: &mut impl Rng) -> (Array2<f64>, Array1<usize>) {
    let x = Array2::from_shape_fn((n, 10), |_| rng.sample::<f64, _>(StandardNormal));
    let y = x
        .rows()
        .into_iter()
        .map(|r| usize::from((r.dot(&r) > 9.34) != rng.gen_bool(0.1)))
        .collect();
    (x, y)
}

/// Each tree's 0/1 votes on `x`, one row per tree.
fn votes(
    forest: &linfa_ensemble::EnsembleLearner<DecisionTree<f64, usize>>,
    x: &Array2<f64>,
) -> Vec<Array1<usize>> {
    forest
        .models
        .iter()
        .zip(&forest.model_features)
        .map(|(tree, features)| tree.predict(&x.select(ndarray::Axis(1), features)))
        .collect()
}

/// Test error and mean test log loss of a boosted model after each round.
fn staged_test(
    model: &GbClassifier,
    x: &Array2<f64>,
    y: &Array1<usize>,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let truth = y.as_slice().context("contiguous labels")?;
    let (mut errors, mut losses) = (Vec::new(), Vec::new());
    let mut failed = None;
    model.booster.staged(&x.view(), |_, scores| {
        errors.push(1.0 - metrics::accuracy(y, &model.classes_of(scores)));
        match log_loss(model.booster.probabilities(scores).view(), truth) {
            Ok(loss) => losses.push(loss),
            Err(e) => failed = Some(e),
        }
    });
    match failed {
        Some(e) => Err(e.into()),
        None => Ok((errors, losses)),
    }
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;
    let (n_train, n_test) = (lesson.pick(2000, 1000), lesson.pick(5000, 2000));
    let (n_trees, n_rounds) = (lesson.pick(300, 150), lesson.pick(400, 300));
    let (x, y) = sphere(n_train, &mut lesson.rng(1));
    let (xt, yt) = sphere(n_test, &mut lesson.rng(2));
    let train = Dataset::new(x.clone(), y.clone());
    println!(
        "{n_train} training and {n_test} test points, 10 features, class = outside the sphere |x|² > 9.34, 10 % of labels flipped"
    );

    // Part 1: test error against the number of trees. The forest's error after m trees is the
    // majority vote of its first m trees; boosting's is its score after m rounds. Forest: full-
    // depth trees, each on a bootstrap sample and a random half of the features.
    let timer = std::time::Instant::now();
    let forest = EnsembleLearnerParams::new_fixed_rng(DecisionTree::params(), lesson.rng(0))
        .ensemble_size(n_trees)
        .bootstrap_proportion(1.0)
        .feature_proportion(0.5)
        .fit(&train)?;
    let forest_secs = timer.elapsed().as_secs_f64();
    let tree_votes = votes(&forest, &xt);
    let mut count = Array1::<f64>::zeros(n_test);
    let mut forest_curve = Vec::new();
    for (m, v) in tree_votes.iter().enumerate() {
        count += &v.mapv(|c| c as f64);
        let wrong = count
            .iter()
            .zip(&yt)
            .filter(|(c, t)| usize::from(**c * 2.0 > (m + 1) as f64) != **t)
            .count();
        forest_curve.push(((m + 1) as f64, wrong as f64 / n_test as f64));
    }
    let timer = std::time::Instant::now();
    let boosted = GradientBoostingParams::new()
        .n_rounds(n_rounds)
        .learning_rate(0.1)
        .max_depth(2)
        .fit(&train)?;
    let boost_secs = timer.elapsed().as_secs_f64();
    let (boost_errors, _) = staged_test(&boosted, &xt, &yt)?;
    let boost_curve: Vec<(f64, f64)> = boost_errors
        .iter()
        .enumerate()
        .map(|(i, &e)| ((i + 1) as f64, e))
        .collect();
    let single_tree = forest_curve[0].1;
    let (forest_end, boost_end) = (forest_curve[n_trees - 1].1, boost_errors[n_rounds - 1]);
    println!(
        "random forest, {n_trees} full-depth trees (fit {forest_secs:.2} s): test error {single_tree:.3} with 1 tree, {:.3} with 10, {forest_end:.3} with {n_trees}",
        forest_curve[9].1
    );
    println!(
        "gradient boosting, {n_rounds} rounds of depth-2 trees, rate 0.1 (fit {boost_secs:.2} s): test error {:.3} after 10 rounds, {boost_end:.3} after {n_rounds}",
        boost_errors[9]
    );
    lesson.metric("forest_test_error", forest_end);
    lesson.metric("boosting_test_error", boost_end);
    lesson.metric("single_tree_test_error", single_tree);
    // Averaging helps: the forest's error falls well below one tree's and stays there.
    let forest_tail = mean(
        &forest_curve[n_trees / 2..]
            .iter()
            .map(|p| p.1)
            .collect::<Vec<_>>(),
    );
    lesson.claim(
        "averaging trees beats one tree, and more trees do not hurt a forest",
        forest_end < single_tree - 0.05 && (forest_end - forest_tail).abs() < 0.02,
        format!("one tree {single_tree:.3}, forest {forest_end:.3}; mean error over the last half of the trees {forest_tail:.3}"),
        &[("single_tree", single_tree), ("forest", forest_end), ("forest_tail", forest_tail)],
    );

    // Part 2: variance. Refit with different seeds and look at each test point's share of votes
    // for class 1: a single bootstrap tree flips between 0 and 1, the forest's share barely moves.
    let seeds = lesson.pick(8, 5);
    let spread = |size: usize| -> Result<f64> {
        let shares: Vec<Array1<f64>> = (0..seeds as u64)
            .map(|s| {
                let model = EnsembleLearnerParams::new_fixed_rng(
                    DecisionTree::params(),
                    lesson.rng(1000 + s),
                )
                .ensemble_size(size)
                .bootstrap_proportion(1.0)
                .feature_proportion(0.5)
                .fit(&train)?;
                let v = votes(&model, &xt);
                Ok(v.iter()
                    .fold(Array1::zeros(n_test), |acc, v| acc + v.mapv(|c| c as f64))
                    / size as f64)
            })
            .collect::<Result<_>>()?;
        // The per-point standard deviation across seeds, averaged over the test points.
        let sd: f64 = (0..n_test)
            .map(|i| {
                let values: Vec<f64> = shares.iter().map(|s| s[i]).collect();
                harness::measure::sample_sd(&values)
            })
            .sum::<f64>()
            / n_test as f64;
        Ok(sd)
    };
    let forest_size = lesson.pick(100, 50);
    let (tree_sd, forest_sd) = (spread(1)?, spread(forest_size)?);
    println!(
        "\nspread of the class-1 vote share across {seeds} seeds (mean per-point SD): one tree {tree_sd:.3}, forest of {forest_size} {forest_sd:.3}"
    );
    lesson.metric("tree_prediction_sd", tree_sd);
    lesson.metric("forest_prediction_sd", forest_sd);
    // Averaging m trees whose errors correlate by ρ scales the variance by ρ + (1 − ρ)/m; with
    // ρ well below 0.5 the SD must fall at least by half.
    lesson.claim(
        "the forest's predictions vary less across seeds than one tree's",
        forest_sd < 0.5 * tree_sd,
        format!(
            "per-point SD {forest_sd:.3} vs {tree_sd:.3} ({:.1}× smaller)",
            tree_sd / forest_sd
        ),
        &[("tree_sd", tree_sd), ("forest_sd", forest_sd)],
    );

    // Part 3: boosting's training loss, round by round. With every row used each round and
    // shrunken Newton steps, each tree can only lower the training loss.
    let train_loss = boosted.booster.train_loss();
    let rises = train_loss.windows(2).filter(|w| w[1] >= w[0]).count();
    println!(
        "\nboosting's training log loss: {:.4} before any tree, {:.4} after 10 rounds, {:.4} after {n_rounds}; rounds where it rose: {rises}",
        train_loss[0], train_loss[10], train_loss[n_rounds]
    );
    lesson.claim(
        "boosting's training loss falls monotonically",
        rises == 0 && train_loss[n_rounds] < 0.5 * train_loss[0],
        format!(
            "{n_rounds} rounds, {rises} rises; from {:.4} to {:.4}",
            train_loss[0], train_loss[n_rounds]
        ),
        &[
            ("first", train_loss[0]),
            ("last", train_loss[n_rounds]),
            ("rises", rises as f64),
        ],
    );

    // Part 4: a too-high learning rate. Deeper trees (4) at rate 1 against the same trees at 0.1:
    // the fast learner fits the training set, flipped labels included, almost perfectly, and its
    // test loss climbs. The mean log loss of 2,000 test points has a standard error of a few
    // hundredths, so a rise of a quarter above its own best (about 0.15) is not noise.
    let deep = |rate: f64| {
        GradientBoostingParams::new()
            .n_rounds(n_rounds / 2)
            .learning_rate(rate)
            .max_depth(4)
            .fit(&train)
    };
    let (slow, fast) = (deep(0.1)?, deep(1.0)?);
    let (slow_err, slow_loss) = staged_test(&slow, &xt, &yt)?;
    let (fast_err, fast_loss) = staged_test(&fast, &xt, &yt)?;
    let last = n_rounds / 2 - 1;
    let fast_best = fast_loss.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "\ndepth-4 trees, {} rounds: rate 0.1 → train loss {:.4}, test loss {:.4}, test error {:.3}; rate 1.0 → train loss {:.4}, test loss {:.4} (its best was {fast_best:.4}), test error {:.3}",
        n_rounds / 2,
        slow.booster.train_loss()[last + 1],
        slow_loss[last],
        slow_err[last],
        fast.booster.train_loss()[last + 1],
        fast_loss[last],
        fast_err[last]
    );
    lesson.metric("slow_test_loss", slow_loss[last]);
    lesson.metric("fast_test_loss", fast_loss[last]);
    lesson.claim(
        "a too-high learning rate overfits",
        fast.booster.train_loss()[last + 1] < slow.booster.train_loss()[last + 1]
            && fast_loss[last] > 1.3 * slow_loss[last]
            && fast_loss[last] > 1.25 * fast_best,
        format!(
            "rate 1.0 reaches a lower training loss ({:.4} vs {:.4}) but a test loss of {:.3} vs {:.3}, {:.1}× its own early best",
            fast.booster.train_loss()[last + 1],
            slow.booster.train_loss()[last + 1],
            fast_loss[last],
            slow_loss[last],
            fast_loss[last] / fast_best
        ),
        &[("fast_test_loss", fast_loss[last]), ("slow_test_loss", slow_loss[last])],
    );

    // Figures: error against trees; training and test loss per round for the two rates.
    figure!(lesson, "error_vs_trees", plot::SIZE, |root| {
        plot::LineChart::new(
            "Test error against the number of trees",
            "trees (forest) or rounds (boosting)",
            "test error",
        )
        .series("random forest (full-depth trees)", forest_curve.clone())
        .series("gradient boosting (depth 2, rate 0.1)", boost_curve.clone())
        .draw(&root)?;
    })?;
    figure!(lesson, "learning_rate", plot::SIZE, |root| {
        let per_round = |v: &[f64]| {
            v.iter()
                .enumerate()
                .map(|(i, &l)| ((i + 1) as f64, l))
                .collect::<Vec<_>>()
        };
        plot::LineChart::new(
            "Boosting with depth-4 trees: log loss per round",
            "round",
            "mean log loss",
        )
        .log_y()
        .series(
            "rate 0.1, training",
            per_round(&slow.booster.train_loss()[1..]),
        )
        .series("rate 0.1, test", per_round(&slow_loss))
        .series(
            "rate 1.0, training",
            per_round(&fast.booster.train_loss()[1..]),
        )
        .series("rate 1.0, test", per_round(&fast_loss))
        .draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}
