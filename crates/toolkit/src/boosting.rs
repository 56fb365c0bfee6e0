//! Gradient-boosted trees on histograms (scikit-learn's `HistGradientBoostingClassifier` and
//! `…Regressor`, LightGBM's idea). linfa-ensemble 0.8 has bagging, a random forest and AdaBoost,
//! but no gradient boosting.
//!
//! Each feature is cut once, before training, into at most `max_bins` quantile bins (`u8` codes,
//! column-major), so finding a split costs one pass over a node's rows per feature to fill a
//! histogram of gradient and hessian sums, then one pass over at most 256 bins — not a sort.
//! Every round fits one regression tree per output to the loss's gradients, with Newton leaf
//! values `−G / (H + λ)` shrunk by the learning rate:
//!
//! * squared error for `f64` targets (one output);
//! * log loss for two classes (one output, the log-odds);
//! * softmax cross-entropy for three or more classes (one tree per class per round).
//!
//! Splits are stored as thresholds on the raw feature values (`x ≤ t` goes left), so prediction
//! needs no binning. The fitted model records the mean training loss before the first round and
//! after each, and can replay its predictions round by round ([`GradientBoosting::staged`]).
//! A node's histograms are filled feature by feature in parallel on rayon's pool, and a split
//! fills only its smaller child's (the larger's are the parent's minus the smaller's); rounds
//! and trees stay in order, and each sum runs in row order, so a seed gives the same model on
//! any number of threads.

use linfa::ParamGuard;
use linfa::prelude::*;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, Zip};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::histogram::Binned;
use crate::{Error, sigmoid, softplus};

/// Checked hyper-parameters of gradient boosting (build them with [`GradientBoostingParams`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientBoostingValidParams {
    n_rounds: usize,
    learning_rate: f64,
    max_depth: usize,
    min_samples_leaf: usize,
    l2: f64,
    subsample: f64,
    max_bins: usize,
    seed: u64,
}

impl GradientBoostingValidParams {
    pub fn n_rounds(&self) -> usize {
        self.n_rounds
    }
    pub fn learning_rate(&self) -> f64 {
        self.learning_rate
    }
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }
}

/// Unchecked hyper-parameters, linfa style: set them with the builder methods; `fit` checks them
/// first and returns [`Error::Parameter`] for a bad one.
///
/// Defaults: 100 rounds, learning rate 0.1, depth 3, at least 5 rows per leaf, L2 penalty 1 on
/// leaf values, no row subsampling, 255 bins, seed 0.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientBoostingParams(GradientBoostingValidParams);

impl Default for GradientBoostingParams {
    fn default() -> Self {
        GradientBoostingParams(GradientBoostingValidParams {
            n_rounds: 100,
            learning_rate: 0.1,
            max_depth: 3,
            min_samples_leaf: 5,
            l2: 1.0,
            subsample: 1.0,
            max_bins: 255,
            seed: 0,
        })
    }
}

impl GradientBoostingParams {
    pub fn new() -> Self {
        Self::default()
    }
    /// Boosting rounds (trees per output).
    pub fn n_rounds(mut self, n: usize) -> Self {
        self.0.n_rounds = n;
        self
    }
    /// Shrinkage of every tree, in (0, 1].
    pub fn learning_rate(mut self, rate: f64) -> Self {
        self.0.learning_rate = rate;
        self
    }
    /// Depth of each tree (1 = stumps).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.0.max_depth = depth;
        self
    }
    pub fn min_samples_leaf(mut self, n: usize) -> Self {
        self.0.min_samples_leaf = n;
        self
    }
    /// L2 penalty λ on leaf values (XGBoost's `lambda`).
    pub fn l2(mut self, l2: f64) -> Self {
        self.0.l2 = l2;
        self
    }
    /// Share of rows drawn (without replacement) for each round: stochastic gradient boosting.
    pub fn subsample(mut self, share: f64) -> Self {
        self.0.subsample = share;
        self
    }
    /// Quantile bins per feature, 2..=256.
    pub fn max_bins(mut self, bins: usize) -> Self {
        self.0.max_bins = bins;
        self
    }
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }
}

impl ParamGuard for GradientBoostingParams {
    type Checked = GradientBoostingValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&Self::Checked, Error> {
        let p = &self.0;
        let bad = |what: &str| Err(Error::Parameter(what.to_string()));
        if p.n_rounds == 0 {
            return bad("n_rounds must be at least 1");
        }
        if !(p.learning_rate > 0.0 && p.learning_rate <= 1.0) {
            return Err(Error::Parameter(format!(
                "learning_rate must be in (0, 1], got {}",
                p.learning_rate
            )));
        }
        if p.max_depth == 0 || p.max_depth > 16 {
            return bad("max_depth must be in 1..=16");
        }
        if p.min_samples_leaf == 0 {
            return bad("min_samples_leaf must be at least 1");
        }
        if !(p.l2 >= 0.0 && p.l2.is_finite()) {
            return bad("l2 must be finite and non-negative");
        }
        if !(p.subsample > 0.0 && p.subsample <= 1.0) {
            return bad("subsample must be in (0, 1]");
        }
        if !(2..=256).contains(&p.max_bins) {
            return bad("max_bins must be in 2..=256");
        }
        Ok(p)
    }

    fn check(self) -> Result<Self::Checked, Error> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// One node of a tree, stored flat; children are indices into the tree's node list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Node {
    Split {
        feature: u32,
        threshold: f64,
        left: u32,
        right: u32,
    },
    Leaf(f64),
}

/// A regression tree whose leaves hold (already shrunk) additive scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    fn score(&self, row: ArrayView1<f64>) -> f64 {
        let mut at = 0;
        loop {
            match self.nodes[at] {
                Node::Leaf(v) => return v,
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    at = if row[feature as usize] <= threshold {
                        left as usize
                    } else {
                        right as usize
                    }
                }
            }
        }
    }
}

/// What is being minimised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Loss {
    /// Half the squared error; scores are predictions.
    SquaredError,
    /// Binary log loss; the one score is the log-odds of class 1.
    LogLoss,
    /// Multi-class cross-entropy; one score per class, turned into probabilities by softmax.
    Softmax,
}

/// A fitted boosted ensemble: the core shared by [`GbClassifier`] and [`GbRegressor`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradientBoosting {
    params: GradientBoostingValidParams,
    loss: Loss,
    n_features: usize,
    /// The starting score per output (mean, log-odds or log prior).
    init: Vec<f64>,
    /// `rounds[r][k]`: the tree of round `r` for output `k`.
    rounds: Vec<Vec<Tree>>,
    /// Mean training loss before the first round and after each round.
    train_loss: Vec<f64>,
    /// Total loss reduction of the splits on each feature.
    gain: Vec<f64>,
}

impl GradientBoosting {
    pub fn loss(&self) -> Loss {
        self.loss
    }
    pub fn params(&self) -> &GradientBoostingValidParams {
        &self.params
    }
    pub fn n_rounds(&self) -> usize {
        self.rounds.len()
    }
    pub fn n_features(&self) -> usize {
        self.n_features
    }
    /// Mean training loss: entry 0 before any tree, entry r after r rounds.
    pub fn train_loss(&self) -> &[f64] {
        &self.train_loss
    }
    /// Split gain per feature, normalised to sum to 1 (scikit-learn's impurity importance).
    pub fn feature_importance(&self) -> Array1<f64> {
        let total: f64 = self.gain.iter().sum();
        Array1::from_iter(self.gain.iter().map(|g| g / total.max(f64::MIN_POSITIVE)))
    }
    /// Total number of tree nodes: a size measure.
    pub fn n_nodes(&self) -> usize {
        self.rounds.iter().flatten().map(|t| t.nodes.len()).sum()
    }

    /// Raw scores after all rounds, one column per output.
    pub fn decision_function(&self, x: &ArrayView2<f64>) -> Array2<f64> {
        self.decision_after(x, self.rounds.len())
    }

    /// Raw scores after the first `rounds` rounds.
    pub fn decision_after(&self, x: &ArrayView2<f64>, rounds: usize) -> Array2<f64> {
        let mut scores = self.initial_scores(x.nrows());
        for trees in &self.rounds[..rounds.min(self.rounds.len())] {
            add_round(&mut scores, trees, x);
        }
        scores
    }

    /// Replays the ensemble: calls `visit(r, scores)` with the raw scores after r = 1, 2, …
    /// rounds, adding one round at a time (n × rounds tree walks in all, not n × rounds²).
    pub fn staged(&self, x: &ArrayView2<f64>, mut visit: impl FnMut(usize, &Array2<f64>)) {
        let mut scores = self.initial_scores(x.nrows());
        for (r, trees) in self.rounds.iter().enumerate() {
            add_round(&mut scores, trees, x);
            visit(r + 1, &scores);
        }
    }

    /// Class probabilities from raw scores (classification losses); scores unchanged otherwise.
    pub fn probabilities(&self, scores: &Array2<f64>) -> Array2<f64> {
        match self.loss {
            Loss::SquaredError => scores.clone(),
            // Each row on its own, rows in parallel: the same numbers on any thread count.
            Loss::LogLoss => {
                let mut p = Array2::zeros((scores.nrows(), 2));
                Zip::from(p.rows_mut())
                    .and(scores.column(0))
                    .par_for_each(|mut row, &s| {
                        let p1 = sigmoid(s);
                        row[0] = 1.0 - p1;
                        row[1] = p1;
                    });
                p
            }
            Loss::Softmax => {
                let mut p = scores.to_owned();
                Zip::from(p.rows_mut()).par_for_each(|mut row| match row.as_slice_mut() {
                    Some(values) => softmax(values),
                    None => {
                        let mut values = row.to_vec();
                        softmax(&mut values);
                        row.assign(&ArrayView1::from(&values[..]));
                    }
                });
                p
            }
        }
    }

    fn initial_scores(&self, n: usize) -> Array2<f64> {
        Array2::from_shape_fn((n, self.init.len()), |(_, k)| self.init[k])
    }
}

fn add_round(scores: &mut Array2<f64>, trees: &[Tree], x: &ArrayView2<f64>) {
    for (mut out, row) in scores.rows_mut().into_iter().zip(x.rows()) {
        for (k, tree) in trees.iter().enumerate() {
            out[k] += tree.score(row);
        }
    }
}

fn softmax(v: &mut [f64]) {
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for e in v.iter_mut() {
        *e = (*e - max).exp();
        sum += *e;
    }
    for e in v.iter_mut() {
        *e /= sum;
    }
}

/// A fitted gradient-boosting classifier (classes are `0..n_classes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbClassifier {
    pub booster: GradientBoosting,
    n_classes: usize,
}

impl GbClassifier {
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }
    /// Class probabilities, one row per sample, one column per class.
    pub fn predict_proba(&self, x: &ArrayView2<f64>) -> Array2<f64> {
        self.booster
            .probabilities(&self.booster.decision_function(x))
    }
    /// The most probable class of each row of `scores` (ties to the lower class).
    pub fn classes_of(&self, scores: &Array2<f64>) -> Array1<usize> {
        match self.booster.loss {
            Loss::LogLoss => scores.column(0).mapv(|s| usize::from(s > 0.0)),
            _ => crate::argmax_rows(scores),
        }
    }
}

impl PredictInplace<Array2<f64>, Array1<usize>> for GbClassifier {
    fn predict_inplace(&self, x: &Array2<f64>, y: &mut Array1<usize>) {
        let classes = self.classes_of(&self.booster.decision_function(&x.view()));
        y.assign(&classes);
    }
    fn default_target(&self, x: &Array2<f64>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

/// A fitted gradient-boosting regressor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbRegressor {
    pub booster: GradientBoosting,
}

impl PredictInplace<Array2<f64>, Array1<f64>> for GbRegressor {
    fn predict_inplace(&self, x: &Array2<f64>, y: &mut Array1<f64>) {
        y.assign(&self.booster.decision_function(&x.view()).column(0));
    }
    fn default_target(&self, x: &Array2<f64>) -> Array1<f64> {
        Array1::zeros(x.nrows())
    }
}

impl Fit<Array2<f64>, Array1<usize>, Error> for GradientBoostingValidParams {
    type Object = GbClassifier;

    fn fit(&self, data: &DatasetBase<Array2<f64>, Array1<usize>>) -> Result<GbClassifier, Error> {
        let y = data.targets();
        let n_classes = y.iter().max().map_or(0, |m| m + 1);
        let mut present = vec![false; n_classes];
        y.iter().for_each(|&c| present[c] = true);
        if present.iter().filter(|&&p| p).count() < 2 {
            return Err(Error::OneClass("gradient boosting"));
        }
        let (loss, outputs) = if n_classes == 2 {
            (Loss::LogLoss, 1)
        } else {
            (Loss::Softmax, n_classes)
        };
        // Targets as one row per sample and one column per output: 0/1 indicators.
        let target = Array2::from_shape_fn((y.len(), outputs), |(i, k)| {
            let class = if outputs == 1 { 1 } else { k };
            f64::from(u8::from(y[i] == class))
        });
        let booster = boost(self, data.records(), target, loss)?;
        Ok(GbClassifier { booster, n_classes })
    }
}

impl Fit<Array2<f64>, Array1<f64>, Error> for GradientBoostingValidParams {
    type Object = GbRegressor;

    fn fit(&self, data: &DatasetBase<Array2<f64>, Array1<f64>>) -> Result<GbRegressor, Error> {
        let target = data.targets().clone().insert_axis(Axis(1));
        if target.iter().any(|v| !v.is_finite()) {
            return Err(Error::NotFinite("target"));
        }
        Ok(GbRegressor {
            booster: boost(self, data.records(), target, Loss::SquaredError)?,
        })
    }
}

/// The boosting loop shared by both targets. `target` has one column per output.
fn boost(
    p: &GradientBoostingValidParams,
    x: &Array2<f64>,
    target: Array2<f64>,
    loss: Loss,
) -> Result<GradientBoosting, Error> {
    let (n, d) = x.dim();
    if n == 0 || d == 0 {
        return Err(Error::Empty);
    }
    if n != target.nrows() {
        return Err(Error::LengthMismatch(n, target.nrows()));
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(Error::NotFinite("features"));
    }
    let outputs = target.ncols();
    let init: Vec<f64> = target
        .columns()
        .into_iter()
        .map(|c| {
            let mean = c.mean().unwrap_or(0.0);
            match loss {
                Loss::SquaredError => mean,
                Loss::LogLoss => {
                    let m = mean.clamp(1e-12, 1.0 - 1e-12);
                    (m / (1.0 - m)).ln()
                }
                Loss::Softmax => mean.max(1e-12).ln(),
            }
        })
        .collect();
    let binned = Binned::new(x, p.max_bins);
    let mut scores = Array2::from_shape_fn((n, outputs), |(_, k)| init[k]);
    let mut model = GradientBoosting {
        params: p.clone(),
        loss,
        n_features: d,
        init,
        rounds: Vec::with_capacity(p.n_rounds),
        train_loss: vec![mean_loss(loss, &scores, &target)],
        gain: vec![0.0; d],
    };
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut all_rows: Vec<u32> = (0..n as u32).collect();
    let take = ((n as f64 * p.subsample).round() as usize).clamp(1, n);
    let (mut grad, mut hess) = (Array1::<f64>::zeros(n), Array1::<f64>::zeros(n));
    let mut grower = Grower::new(p, &binned, n);
    for _ in 0..p.n_rounds {
        // Every tree of a round follows the gradients at the round's start (for squared error
        // the "probabilities" are the scores themselves).
        let probs = model.probabilities(&scores);
        if take < n {
            all_rows.shuffle(&mut rng);
        }
        let mut trees = Vec::with_capacity(outputs);
        for k in 0..outputs {
            Zip::from(&mut grad)
                .and(&mut hess)
                .and(probs.rows())
                .and(target.rows())
                .par_for_each(|g, h, q, t| {
                    (*g, *h) = match loss {
                        Loss::SquaredError => (q[k] - t[k], 1.0),
                        Loss::LogLoss => (q[1] - t[0], (q[1] * (1.0 - q[1])).max(1e-16)),
                        Loss::Softmax => (q[k] - t[k], (q[k] * (1.0 - q[k])).max(1e-16)),
                    };
                });
            let mut rows = all_rows[..take].to_vec();
            let (grad, hess) = (
                grad.as_slice().expect("an owned vector is contiguous"),
                hess.as_slice().expect("an owned vector is contiguous"),
            );
            let tree = grower.grow(grad, hess, &mut rows, &mut model.gain);
            // Every row the tree was grown on already knows its leaf; without subsampling that
            // is every row, and the scores need no pass down the tree.
            let mut column = scores.column_mut(k);
            if take == n {
                column.zip_mut_with(&ArrayView1::from(&grower.row_value[..]), |s, v| *s += v);
            } else {
                Zip::from(&mut column)
                    .and(x.rows())
                    .par_for_each(|s, row| *s += tree.score(row));
            }
            trees.push(tree);
        }
        model.rounds.push(trees);
        model.train_loss.push(mean_loss(loss, &scores, &target));
    }
    Ok(model)
}

/// Rows per block of the parallel loss sum.
const LOSS_BLOCK: usize = 4096;

/// Mean loss of raw `scores` against 0/1 (or numeric) `target` columns. Blocks of rows are summed
/// in parallel and the block sums added in order, so the result does not depend on the threads.
fn mean_loss(loss: Loss, scores: &Array2<f64>, target: &Array2<f64>) -> f64 {
    let n = scores.nrows() as f64;
    let block_sums: Vec<f64> = scores
        .axis_chunks_iter(Axis(0), LOSS_BLOCK)
        .into_par_iter()
        .zip(target.axis_chunks_iter(Axis(0), LOSS_BLOCK))
        .map(|(s, t)| block_loss(loss, &s, &t))
        .collect();
    block_sums.iter().sum::<f64>() / n
}

/// The summed loss of one block of rows.
fn block_loss(loss: Loss, scores: &ArrayView2<f64>, target: &ArrayView2<f64>) -> f64 {
    match loss {
        Loss::SquaredError => {
            0.5 * scores
                .iter()
                .zip(target)
                .map(|(s, t)| (s - t).powi(2))
                .sum::<f64>()
        }
        // log(1 + e^s) − t·s.
        Loss::LogLoss => scores
            .iter()
            .zip(target)
            .map(|(&s, &t)| softplus(s) - t * s)
            .sum::<f64>(),
        Loss::Softmax => {
            let mut total = 0.0;
            for (s, t) in scores.rows().into_iter().zip(target.rows()) {
                let max = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let log_sum = max + s.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
                total += s.iter().zip(t).map(|(v, w)| w * (log_sum - v)).sum::<f64>();
            }
            total
        }
    }
}

/// One histogram bin of a node: the sums of its rows' gradients and hessians, and their count.
#[derive(Debug, Clone, Copy, Default)]
struct Bin {
    g: f64,
    h: f64,
    n: u32,
}

/// Below this many row-features, a node's histograms are filled on one thread: handing the
/// features to rayon costs more than it saves.
const PARALLEL_WORK: usize = 65_536;

/// The fewest features one parallel task fills.
const FEATURES_PER_TASK: usize = 4;

/// Grows one depth-wise tree from the binned features.
///
/// A node's histograms (one per feature, laid end to end) are filled once; after its split only
/// the smaller child's are filled from its rows, and the larger child's are the parent's minus
/// the smaller's — a pass over at most 256 bins a feature instead of over the rows (LightGBM's
/// and scikit-learn's trick). Features are filled in parallel on rayon's pool; each feature's sums
/// run in row order whatever the thread count, so a seed gives the same trees on any machine.
struct Grower<'a> {
    p: &'a GradientBoostingValidParams,
    binned: &'a Binned,
    /// Where each feature's bins start in a node's histogram, and the total bin count last.
    offsets: Vec<usize>,
    /// The leaf value each training row fell into, for the score update after the tree.
    row_value: Vec<f64>,
}

/// The best split found for a node.
struct Split {
    feature: usize,
    bin: u8,
    gain: f64,
}

impl<'a> Grower<'a> {
    fn new(p: &'a GradientBoostingValidParams, binned: &'a Binned, n: usize) -> Grower<'a> {
        let mut offsets = vec![0];
        for edges in binned.edges() {
            offsets.push(offsets.last().copied().unwrap_or(0) + edges.len() + 1);
        }
        Grower {
            p,
            binned,
            offsets,
            row_value: vec![0.0; n],
        }
    }

    /// Grows a tree on `rows`; afterwards [`Grower::row_value`] holds each of those rows' leaf.
    fn grow(&mut self, grad: &[f64], hess: &[f64], rows: &mut [u32], gain: &mut [f64]) -> Tree {
        let mut tree = Tree { nodes: Vec::new() };
        let hist = self.histograms(grad, hess, rows);
        let (g, h) = rows.iter().fold((0.0, 0.0), |(g, h), &i| {
            (g + grad[i as usize], h + hess[i as usize])
        });
        self.node(grad, hess, rows, (g, h), hist, 0, &mut tree, gain);
        tree
    }

    /// Whether a node of `rows` rows at `depth` may be split (else it is a leaf).
    fn may_split(&self, rows: usize, depth: usize) -> bool {
        depth < self.p.max_depth && rows >= 2 * self.p.min_samples_leaf
    }

    /// Fills the histograms of `rows`: one per feature, features in parallel for a large node.
    fn histograms(&self, grad: &[f64], hess: &[f64], rows: &[u32]) -> Vec<Bin> {
        let mut hist = vec![Bin::default(); *self.offsets.last().unwrap_or(&0)];
        let mut slices = Vec::with_capacity(self.offsets.len() - 1);
        let mut rest: &mut [Bin] = &mut hist;
        for w in self.offsets.windows(2) {
            let (head, tail) = rest.split_at_mut(w[1] - w[0]);
            slices.push(head);
            rest = tail;
        }
        // The rows' gradients and hessians gathered once, in row order: each feature's pass then
        // reads them sequentially and looks up only its one-byte code at random.
        let ordered: Vec<(f64, f64)> = rows
            .iter()
            .map(|&i| (grad[i as usize], hess[i as usize]))
            .collect();
        let fill = |(feature, bins): (usize, &mut &mut [Bin])| {
            let codes = self.binned.column(feature);
            for (&i, &(g, h)) in rows.iter().zip(&ordered) {
                let bin = &mut bins[codes[i as usize] as usize];
                bin.g += g;
                bin.h += h;
                bin.n += 1;
            }
        };
        if rows.len() * slices.len() >= PARALLEL_WORK {
            // Several features a task: one task a feature costs more in wake-ups than it saves.
            slices
                .par_iter_mut()
                .enumerate()
                .with_min_len(FEATURES_PER_TASK)
                .for_each(fill);
        } else {
            slices.iter_mut().enumerate().for_each(fill);
        }
        hist
    }

    /// Adds the subtree for `rows` (gradient and hessian sums `totals`, histograms `hist`) to
    /// `tree` and returns its index.
    #[allow(clippy::too_many_arguments)]
    fn node(
        &mut self,
        grad: &[f64],
        hess: &[f64],
        rows: &mut [u32],
        totals: (f64, f64),
        hist: Vec<Bin>,
        depth: usize,
        tree: &mut Tree,
        gain: &mut [f64],
    ) -> u32 {
        let at = tree.nodes.len();
        let (g, h) = totals;
        let value = -self.p.learning_rate * g / (h + self.p.l2);
        tree.nodes.push(Node::Leaf(value));
        let best = match self.may_split(rows.len(), depth) {
            true => self.best_split(&hist, g, h, rows.len() as u32),
            false => None,
        };
        let Some(best) = best else {
            for &i in rows.iter() {
                self.row_value[i as usize] = value;
            }
            return at as u32;
        };
        let left_len = self.binned.partition(rows, best.feature, best.bin);
        gain[best.feature] += best.gain;
        // The children's totals from the split feature's histogram.
        let bins =
            &hist[self.offsets[best.feature]..=self.offsets[best.feature] + best.bin as usize];
        let left_totals = bins.iter().fold((0.0, 0.0), |(g, h), b| (g + b.g, h + b.h));
        let right_totals = (g - left_totals.0, h - left_totals.1);
        let (left_rows, right_rows) = rows.split_at_mut(left_len);
        let (left_hist, right_hist) = match self.may_split(left_rows.len(), depth + 1)
            || self.may_split(right_rows.len(), depth + 1)
        {
            true => {
                let left_smaller = left_rows.len() <= right_rows.len();
                let smaller = match left_smaller {
                    true => self.histograms(grad, hess, left_rows),
                    false => self.histograms(grad, hess, right_rows),
                };
                let mut larger = hist;
                for (big, small) in larger.iter_mut().zip(&smaller) {
                    big.g -= small.g;
                    big.h -= small.h;
                    big.n -= small.n;
                }
                match left_smaller {
                    true => (smaller, larger),
                    false => (larger, smaller),
                }
            }
            false => (Vec::new(), Vec::new()),
        };
        let left = self.node(
            grad,
            hess,
            left_rows,
            left_totals,
            left_hist,
            depth + 1,
            tree,
            gain,
        );
        let right = self.node(
            grad,
            hess,
            right_rows,
            right_totals,
            right_hist,
            depth + 1,
            tree,
            gain,
        );
        tree.nodes[at] = Node::Split {
            feature: best.feature as u32,
            threshold: self.binned.edges()[best.feature][best.bin as usize],
            left,
            right,
        };
        at as u32
    }

    /// The split of largest gain over every feature's histogram, if any gains at all.
    fn best_split(&self, hist: &[Bin], g: f64, h: f64, total: u32) -> Option<Split> {
        let lambda = self.p.l2;
        let min_leaf = self.p.min_samples_leaf as u32;
        let parent = g * g / (h + lambda);
        let mut best: Option<Split> = None;
        for (feature, edges) in self.binned.edges().iter().enumerate() {
            let bins = &hist[self.offsets[feature]..self.offsets[feature + 1]];
            let (mut gl, mut hl, mut nl) = (0.0, 0.0, 0u32);
            // A split after bin b sends codes ≤ b left; the last bin cannot split.
            for (bin, b) in bins[..edges.len()].iter().enumerate() {
                gl += b.g;
                hl += b.h;
                nl += b.n;
                if nl < min_leaf {
                    continue;
                }
                if total - nl < min_leaf {
                    break;
                }
                let (gr, hr) = (g - gl, h - hl);
                let gain = gl * gl / (hl + lambda) + gr * gr / (hr + lambda) - parent;
                if gain > best.as_ref().map_or(1e-12, |b| b.gain) {
                    best = Some(Split {
                        feature,
                        bin: bin as u8,
                        gain,
                    });
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn params() -> GradientBoostingParams {
        GradientBoostingParams::new()
    }

    #[test]
    fn bad_hyper_parameters_are_errors() {
        let data = Dataset::new(array![[0.0], [1.0]], array![0usize, 1]);
        for bad in [
            params().learning_rate(0.0),
            params().learning_rate(1.5),
            params().n_rounds(0),
            params().max_depth(0),
            params().subsample(0.0),
            params().max_bins(1),
        ] {
            let fitted: Result<GbClassifier, Error> = bad.fit(&data);
            assert!(matches!(fitted, Err(Error::Parameter(_))), "{bad:?}");
        }
    }

    #[test]
    fn one_stump_finds_the_step_and_its_newton_values() {
        // y jumps from 0 to 10 at x = 5; a stump with λ = 0 and rate 1 fits it exactly.
        let x = Array2::from_shape_fn((10, 1), |(i, _)| i as f64);
        let y = Array1::from_shape_fn(10, |i| if i < 5 { 0.0 } else { 10.0 });
        let model = params()
            .n_rounds(1)
            .learning_rate(1.0)
            .max_depth(1)
            .min_samples_leaf(1)
            .l2(0.0)
            .fit(&Dataset::new(x.clone(), y.clone()))
            .unwrap();
        assert_eq!(model.predict(&x), y);
        let tree = &model.booster.rounds[0][0];
        assert_eq!(
            tree.nodes[0],
            Node::Split {
                feature: 0,
                threshold: 4.5,
                left: 1,
                right: 2
            }
        );
        assert_eq!(model.booster.train_loss, vec![12.5, 0.0]);
    }

    #[test]
    fn training_loss_falls_every_round_and_fits_a_nonlinear_rule() {
        // XOR-like quadrants: no linear model can do better than chance; depth-2 trees can.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        // Two informative columns and a third of pure noise.
        let x = Array2::from_shape_fn((400, 3), |_| rand::Rng::gen_range(&mut rng, -1.0..1.0));
        let y = Array1::from_shape_fn(400, |i| usize::from((x[[i, 0]] > 0.0) != (x[[i, 1]] > 0.0)));
        let model = params()
            .n_rounds(60)
            .max_depth(2)
            .fit(&Dataset::new(x.clone(), y.clone()))
            .unwrap();
        let loss = model.booster.train_loss();
        assert_eq!(loss.len(), 61);
        assert!((loss[0] - std::f64::consts::LN_2).abs() < 0.01);
        assert!(loss.windows(2).all(|w| w[1] < w[0]), "{loss:?}");
        let right = model
            .predict(&x)
            .iter()
            .zip(&y)
            .filter(|(a, b)| a == b)
            .count();
        assert!(right >= 390, "{right}");
        // Both informative features carry more of the gain than the noise column.
        let imp = model.booster.feature_importance();
        assert!((imp.sum() - 1.0).abs() < 1e-12, "{imp}");
        assert!(
            imp[2] < imp[0].min(imp[1]) && imp[0].min(imp[1]) > 0.2,
            "{imp}"
        );
    }

    #[test]
    fn a_childs_histograms_by_subtraction_equal_its_own() {
        // The larger child's histograms are the parent's minus the smaller's: the counts must
        // match a direct fill exactly, and the sums to rounding.
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let x = Array2::from_shape_fn((3_000, 4), |_| rand::Rng::gen_range(&mut rng, -1.0..1.0));
        let grad: Vec<f64> = (0..3_000)
            .map(|i| ((i * 7919) % 101) as f64 / 50.0 - 1.0)
            .collect();
        let hess: Vec<f64> = (0..3_000)
            .map(|i| 0.1 + ((i * 31) % 17) as f64 / 20.0)
            .collect();
        let checked = params().check().unwrap();
        let binned = Binned::new(&x, 255);
        let grower = Grower::new(&checked, &binned, 3_000);
        let mut rows: Vec<u32> = (0..3_000).collect();
        let parent = grower.histograms(&grad, &hess, &rows);
        let left_len = binned.partition(&mut rows, 2, 100);
        let (left, right) = rows.split_at(left_len);
        let small = grower.histograms(&grad, &hess, left);
        let direct = grower.histograms(&grad, &hess, right);
        for ((p, s), d) in parent.iter().zip(&small).zip(&direct) {
            assert_eq!(p.n - s.n, d.n);
            assert!((p.g - s.g - d.g).abs() < 1e-9 && (p.h - s.h - d.h).abs() < 1e-9);
        }
    }

    #[test]
    fn the_same_seed_boosts_the_same_model_on_any_number_of_threads() {
        // 12,000 rows × 6 features: the root's histograms (72,000 row-features) and its larger
        // child's are filled in parallel.
        const { assert!(12_000 * 6 >= PARALLEL_WORK) };
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let x = Array2::from_shape_fn((12_000, 6), |_| rand::Rng::gen_range(&mut rng, -1.0..1.0));
        let y = Array1::from_shape_fn(12_000, |i| usize::from(x[[i, 0]] * x[[i, 1]] > 0.0));
        let data = Dataset::new(x, y);
        let on = |threads: usize, subsample: f64| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    params()
                        .n_rounds(20)
                        .subsample(subsample)
                        .seed(3)
                        .fit(&data)
                        .unwrap()
                })
        };
        for subsample in [1.0, 0.7] {
            let one = on(1, subsample);
            assert_eq!(one.booster, on(2, subsample).booster);
            assert_eq!(one.booster, on(3, subsample).booster);
        }
    }

    #[test]
    fn three_classes_use_softmax_and_probabilities_sum_to_one() {
        let x = Array2::from_shape_fn((90, 1), |(i, _)| {
            (i / 30) as f64 * 10.0 + (i % 30) as f64 * 0.1
        });
        let y = Array1::from_shape_fn(90, |i| i / 30);
        let model = params()
            .n_rounds(30)
            .fit(&Dataset::new(x.clone(), y.clone()))
            .unwrap();
        assert_eq!(model.booster.loss(), Loss::Softmax);
        assert_eq!(model.predict(&x), y);
        let p = model.predict_proba(&x.view());
        assert_eq!(p.dim(), (90, 3));
        assert!(p.rows().into_iter().all(|r| (r.sum() - 1.0).abs() < 1e-12));
        // Log loss from the probabilities equals the recorded final training loss.
        let ll = -(0..90).map(|i| p[[i, y[i]]].ln()).sum::<f64>() / 90.0;
        assert!((ll - model.booster.train_loss().last().unwrap()).abs() < 1e-9);
    }

    #[test]
    fn staged_scores_end_at_the_final_ones_and_replay_each_round() {
        let x = Array2::from_shape_fn((50, 3), |(i, j)| ((i * (j + 3)) % 11) as f64);
        let y = Array1::from_shape_fn(50, |i| x[[i, 0]] * 2.0 - x[[i, 2]]);
        let model = params()
            .n_rounds(20)
            .fit(&Dataset::new(x.clone(), y))
            .unwrap();
        let mut seen = 0;
        model.booster.staged(&x.view(), |r, s| {
            seen += 1;
            assert_eq!(s, &model.booster.decision_after(&x.view(), r));
        });
        assert_eq!(seen, 20);
        assert_eq!(
            model.booster.decision_function(&x.view()).column(0),
            model.predict(&x)
        );
    }

    #[test]
    fn subsampling_is_seeded() {
        let x = Array2::from_shape_fn((200, 2), |(i, j)| ((i * 7 + j * 13) % 17) as f64);
        let y = Array1::from_shape_fn(200, |i| x[[i, 0]] + x[[i, 1]]);
        let data = Dataset::new(x.clone(), y);
        let fit = |seed| params().subsample(0.5).seed(seed).fit(&data).unwrap();
        assert_eq!(fit(1), fit(1));
        assert_ne!(fit(1).predict(&x), fit(2).predict(&x));
    }

    #[test]
    fn bad_data_is_an_error_not_a_panic() {
        let nan = Dataset::new(array![[0.0], [f64::NAN]], array![0usize, 1]);
        assert_eq!(
            params().fit(&nan).unwrap_err(),
            Error::NotFinite("features")
        );
        let one = Dataset::new(array![[0.0], [1.0]], array![1usize, 1]);
        assert!(matches!(params().fit(&one), Err(Error::OneClass(_))));
    }
}
