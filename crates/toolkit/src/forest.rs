//! A random forest classifier on the histogram tree builder (Breiman's forest, as scikit-learn's
//! `RandomForestClassifier` grows it).
//!
//! Every tree is grown to full depth (or `max_depth`) on a bootstrap sample of the rows, and every
//! split looks at a fresh random subset of the features (√p by default): that second source of
//! randomness decorrelates the trees, which is what makes averaging them pay. A split minimises
//! the Gini impurity of the two children. Features are cut once into at most `max_bins` quantile
//! bins (as the boosting does), so a node costs one pass over its rows per feature tried, to count
//! classes per bin, and one pass over the bins — not a sort. The trees are grown in parallel on
//! rayon's pool, each from its own random stream, so the fitted forest is the same for a given
//! seed whatever the number of threads.
//!
//! linfa-ensemble's forest instead draws one feature subset per tree and splits on exact sorted
//! values; the lessons that teach a forest use this one, and keep linfa's where they compare them.

use linfa::ParamGuard;
use linfa::prelude::*;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::histogram::Binned;

/// How many features a split looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeaturesPerSplit {
    /// √p, rounded down (at least 1): Breiman's choice for classification, scikit-learn's default.
    Sqrt,
    /// Every feature: bagged trees, without the forest's feature sampling.
    All,
    /// A fixed number, at most p.
    Count(usize),
}

/// Checked hyper-parameters of a random forest (build them with [`RandomForestParams`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomForestValidParams {
    n_trees: usize,
    features_per_split: FeaturesPerSplit,
    max_depth: usize,
    min_samples_leaf: usize,
    max_bins: usize,
    seed: u64,
}

impl RandomForestValidParams {
    pub fn n_trees(&self) -> usize {
        self.n_trees
    }
    pub fn features_per_split(&self) -> FeaturesPerSplit {
        self.features_per_split
    }
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }
}

/// Unchecked hyper-parameters, linfa style: `fit` checks them first and returns
/// [`Error::Parameter`] for a bad one.
///
/// Defaults, as scikit-learn's: 100 trees, √p features per split, unlimited depth, one row per
/// leaf; and 255 bins, seed 0.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomForestParams(RandomForestValidParams);

impl Default for RandomForestParams {
    fn default() -> Self {
        RandomForestParams(RandomForestValidParams {
            n_trees: 100,
            features_per_split: FeaturesPerSplit::Sqrt,
            max_depth: usize::MAX,
            min_samples_leaf: 1,
            max_bins: 255,
            seed: 0,
        })
    }
}

impl RandomForestParams {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn n_trees(mut self, n: usize) -> Self {
        self.0.n_trees = n;
        self
    }
    pub fn features_per_split(mut self, features: FeaturesPerSplit) -> Self {
        self.0.features_per_split = features;
        self
    }
    /// The deepest a tree may grow (the root is depth 0); unlimited by default.
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.0.max_depth = depth;
        self
    }
    pub fn min_samples_leaf(mut self, n: usize) -> Self {
        self.0.min_samples_leaf = n;
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

impl ParamGuard for RandomForestParams {
    type Checked = RandomForestValidParams;
    type Error = Error;

    fn check_ref(&self) -> Result<&Self::Checked, Error> {
        let p = &self.0;
        let bad = |what: &str| Err(Error::Parameter(what.to_string()));
        if p.n_trees == 0 {
            return bad("n_trees must be at least 1");
        }
        if p.features_per_split == FeaturesPerSplit::Count(0) {
            return bad("features_per_split must be at least 1");
        }
        if p.max_depth == 0 {
            return bad("max_depth must be at least 1");
        }
        if p.min_samples_leaf == 0 {
            return bad("min_samples_leaf must be at least 1");
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

/// One node of a tree, stored flat; children are indices into the tree's node list, a leaf's
/// class distribution is a slice of the tree's `leaf_probabilities`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Node {
    Split {
        feature: u32,
        threshold: f64,
        left: u32,
        right: u32,
    },
    Leaf {
        first: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tree {
    nodes: Vec<Node>,
    /// Each leaf's class shares, `n_classes` values per leaf.
    leaf_probabilities: Vec<f64>,
}

impl Tree {
    /// The class shares of the leaf `row` falls in.
    fn leaf_of(&self, row: ArrayView1<f64>, n_classes: usize) -> &[f64] {
        let mut at = 0;
        loop {
            match self.nodes[at] {
                Node::Leaf { first } => {
                    let first = first as usize;
                    return &self.leaf_probabilities[first..first + n_classes];
                }
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

    fn leaves(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| matches!(n, Node::Leaf { .. }))
            .count()
    }
}

/// A fitted random forest: predicts the class with the highest mean share over its trees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RandomForest {
    params: RandomForestValidParams,
    n_classes: usize,
    n_features: usize,
    trees: Vec<Tree>,
    /// Per tree, the Gini decrease each feature brought, weighted by the rows it split.
    importance: Vec<Vec<f64>>,
}

impl RandomForest {
    pub fn params(&self) -> &RandomForestValidParams {
        &self.params
    }
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }
    pub fn n_features(&self) -> usize {
        self.n_features
    }
    pub fn n_trees(&self) -> usize {
        self.trees.len()
    }

    /// Leaves of all the trees together.
    pub fn n_leaves(&self) -> usize {
        self.trees.iter().map(Tree::leaves).sum()
    }

    /// Mean decrease in Gini impurity per feature: each tree's decreases scaled to sum to 1, then
    /// averaged over the trees (scikit-learn's `feature_importances_`).
    pub fn feature_importance(&self) -> Array1<f64> {
        let mut mean = Array1::zeros(self.n_features);
        for tree in &self.importance {
            let total: f64 = tree.iter().sum();
            if total > 0.0 {
                mean.iter_mut().zip(tree).for_each(|(m, v)| *m += v / total);
            }
        }
        mean / self.trees.len() as f64
    }

    /// The mean class shares over the trees, one row per sample and one column per class.
    pub fn predict_proba(&self, x: &ArrayView2<f64>) -> Array2<f64> {
        let mut shares = Array2::zeros((x.nrows(), self.n_classes));
        shares
            .axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(x.axis_iter(Axis(0)).into_par_iter())
            .for_each(|(mut out, row)| {
                for tree in &self.trees {
                    for (o, p) in out.iter_mut().zip(tree.leaf_of(row, self.n_classes)) {
                        *o += p;
                    }
                }
            });
        shares / self.trees.len() as f64
    }

    /// Each tree's own answer for every row of `x` — the class with the largest share in the leaf
    /// the row reaches (a tie goes to the lower class) — one array per tree, in the order the
    /// trees were grown. What a lesson needs to watch a vote form tree by tree.
    pub fn tree_votes(&self, x: &ArrayView2<f64>) -> Vec<Array1<usize>> {
        self.trees
            .par_iter()
            .map(|tree| {
                x.rows()
                    .into_iter()
                    .map(|row| {
                        let shares = tree.leaf_of(row, self.n_classes);
                        (0..shares.len())
                            .max_by(|&a, &b| shares[a].total_cmp(&shares[b]).then(b.cmp(&a)))
                            .unwrap_or(0)
                    })
                    .collect()
            })
            .collect()
    }
}

impl PredictInplace<Array2<f64>, Array1<usize>> for RandomForest {
    fn predict_inplace(&self, x: &Array2<f64>, y: &mut Array1<usize>) {
        *y = crate::argmax_rows(&self.predict_proba(&x.view()));
    }

    fn default_target(&self, x: &Array2<f64>) -> Array1<usize> {
        Array1::zeros(x.nrows())
    }
}

impl Fit<Array2<f64>, Array1<usize>, Error> for RandomForestValidParams {
    type Object = RandomForest;

    fn fit(&self, data: &DatasetBase<Array2<f64>, Array1<usize>>) -> Result<RandomForest, Error> {
        let x = data.records();
        let y = data.targets();
        let (n, d) = x.dim();
        if n == 0 || d == 0 {
            return Err(Error::Empty);
        }
        if n != y.len() {
            return Err(Error::LengthMismatch(n, y.len()));
        }
        if n > u32::MAX as usize {
            return Err(Error::Parameter(format!("{n} rows is more than 2³² − 1")));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(Error::NotFinite("features"));
        }
        let n_classes = y.iter().max().map_or(0, |m| m + 1);
        let classes: Vec<u32> = y.iter().map(|&c| c as u32).collect();
        let per_split = match self.features_per_split {
            FeaturesPerSplit::Sqrt => ((d as f64).sqrt() as usize).max(1),
            FeaturesPerSplit::All => d,
            FeaturesPerSplit::Count(k) => k.min(d),
        };
        let binned = Binned::new(x, self.max_bins);
        let grown: Vec<(Tree, Vec<f64>)> = (0..self.n_trees)
            .into_par_iter()
            .map(|t| {
                // Each tree its own stream of the seed's generator: the same forest on any
                // number of threads.
                let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
                rng.set_stream(t as u64);
                let mut rows: Vec<u32> = (0..n).map(|_| rng.gen_range(0..n as u32)).collect();
                let mut grower = Grower {
                    params: self,
                    binned: &binned,
                    classes: &classes,
                    n_classes,
                    per_split,
                    rng,
                    features: (0..d).collect(),
                    counts: Vec::new(),
                    tree: Tree {
                        nodes: Vec::new(),
                        leaf_probabilities: Vec::new(),
                    },
                    importance: vec![0.0; d],
                };
                grower.grow(&mut rows);
                (grower.tree, grower.importance)
            })
            .collect();
        let (trees, importance) = grown.into_iter().unzip();
        Ok(RandomForest {
            params: self.clone(),
            n_classes,
            n_features: d,
            trees,
            importance,
        })
    }
}

/// Grows one tree; reuses its buffers between nodes.
struct Grower<'a> {
    params: &'a RandomForestValidParams,
    binned: &'a Binned,
    classes: &'a [u32],
    n_classes: usize,
    per_split: usize,
    rng: ChaCha8Rng,
    /// The feature indices, shuffled in place at every split.
    features: Vec<usize>,
    /// Class counts per bin, `n_classes` per bin.
    counts: Vec<u32>,
    tree: Tree,
    importance: Vec<f64>,
}

/// The best split found for a node.
struct Split {
    feature: usize,
    bin: u8,
    /// Σ c²/n over the two children, which the split maximises (the Gini impurity of the
    /// children, weighted by their rows, is n − this).
    score: f64,
}

impl Grower<'_> {
    /// Grows the tree over `rows`, depth first (the order recursion would take, so the random
    /// draws are the same). The nodes still to grow wait on a stack of their own rather than on
    /// the thread's: an unlimited tree's depth is bounded only by the bins, up to 255 splits
    /// per feature along one path.
    fn grow(&mut self, rows: &mut [u32]) {
        let k = self.n_classes;
        // (first row, end of the rows, depth, index of the node) of each node still to grow;
        // its slot in the node list is taken when its parent splits.
        self.tree.nodes.push(Node::Leaf { first: 0 });
        let mut pending = vec![(0, rows.len(), 0, 0)];
        let mut class_counts = vec![0u32; k];
        while let Some((start, end, depth, at)) = pending.pop() {
            let rows = &mut rows[start..end];
            class_counts.iter_mut().for_each(|c| *c = 0);
            for &i in rows.iter() {
                class_counts[self.classes[i as usize] as usize] += 1;
            }
            let total = rows.len() as f64;
            let pure = class_counts.iter().filter(|&&c| c > 0).count() <= 1;
            let may_split = !pure
                && depth < self.params.max_depth
                && rows.len() >= 2 * self.params.min_samples_leaf;
            let parent_score: f64 = class_counts
                .iter()
                .map(|&c| (c as f64).powi(2))
                .sum::<f64>()
                / total;
            let best = if may_split {
                self.best_split(rows, &class_counts, parent_score)
            } else {
                None
            };
            let Some(best) = best else {
                // A leaf: it keeps its class shares.
                let first = self.tree.leaf_probabilities.len() as u32;
                self.tree
                    .leaf_probabilities
                    .extend(class_counts.iter().map(|&c| c as f64 / total));
                self.tree.nodes[at] = Node::Leaf { first };
                continue;
            };
            self.importance[best.feature] += best.score - parent_score;
            let left_len = self.binned.partition(rows, best.feature, best.bin);
            let left = self.tree.nodes.len();
            self.tree.nodes.push(Node::Leaf { first: 0 });
            self.tree.nodes.push(Node::Leaf { first: 0 });
            self.tree.nodes[at] = Node::Split {
                feature: best.feature as u32,
                threshold: self.binned.edges()[best.feature][best.bin as usize],
                left: left as u32,
                right: left as u32 + 1,
            };
            // The left child is grown first: it is pushed last.
            pending.push((start + left_len, end, depth + 1, left + 1));
            pending.push((start, start + left_len, depth + 1, left));
        }
    }

    /// The best split over a fresh random subset of the features. As in scikit-learn, a feature
    /// that is constant within the node does not count towards the subset: the search goes on to
    /// the next feature, so a node splits whenever some feature can split it.
    fn best_split(
        &mut self,
        rows: &[u32],
        class_counts: &[u32],
        parent_score: f64,
    ) -> Option<Split> {
        let k = self.n_classes;
        let min_leaf = self.params.min_samples_leaf as u32;
        let total = rows.len() as u32;
        let mut best: Option<Split> = None;
        let mut tried = 0;
        let d = self.features.len();
        let mut left = vec![0u32; k];
        for next in 0..d {
            if tried == self.per_split {
                break;
            }
            // A partial Fisher–Yates shuffle: one more random feature not yet drawn.
            let pick = self.rng.gen_range(next..d);
            self.features.swap(next, pick);
            let feature = self.features[next];
            let bins = self.binned.edges()[feature].len() + 1;
            if bins < 2 {
                continue;
            }
            let codes = self.binned.column(feature);
            self.counts.clear();
            self.counts.resize(bins * k, 0);
            let (mut lowest, mut highest) = (u8::MAX, 0u8);
            for &i in rows {
                let code = codes[i as usize];
                lowest = lowest.min(code);
                highest = highest.max(code);
                self.counts[code as usize * k + self.classes[i as usize] as usize] += 1;
            }
            if lowest == highest {
                continue;
            }
            tried += 1;
            left.iter_mut().for_each(|c| *c = 0);
            let mut left_total = 0u32;
            // A split after bin b sends codes ≤ b left; the highest code cannot split.
            for bin in lowest..highest {
                let bin_counts = &self.counts[bin as usize * k..(bin as usize + 1) * k];
                let in_bin: u32 = bin_counts.iter().sum();
                if in_bin == 0 {
                    continue;
                }
                left.iter_mut().zip(bin_counts).for_each(|(l, c)| *l += c);
                left_total += in_bin;
                if left_total < min_leaf {
                    continue;
                }
                let right_total = total - left_total;
                if right_total < min_leaf {
                    break;
                }
                let (mut left_sq, mut right_sq) = (0.0, 0.0);
                for (&l, &all) in left.iter().zip(class_counts) {
                    let r = (all - l) as f64;
                    left_sq += (l as f64).powi(2);
                    right_sq += r * r;
                }
                let score = left_sq / left_total as f64 + right_sq / right_total as f64;
                if score > best.as_ref().map_or(parent_score + 1e-12, |b| b.score) {
                    best = Some(Split {
                        feature,
                        bin,
                        score,
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

    /// Two informative columns in an XOR pattern (no single split helps, and no linear model can
    /// fit it) and `noise` columns of pure noise.
    fn quadrants(n: usize, noise: usize, seed: u64) -> DatasetBase<Array2<f64>, Array1<usize>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x = Array2::from_shape_fn((n, 2 + noise), |_| rng.gen_range(-1.0..1.0));
        let y = Array1::from_shape_fn(n, |i| usize::from((x[[i, 0]] > 0.0) != (x[[i, 1]] > 0.0)));
        Dataset::new(x, y)
    }

    fn accuracy(model: &RandomForest, data: &DatasetBase<Array2<f64>, Array1<usize>>) -> f64 {
        let predicted = model.predict(data.records());
        predicted
            .iter()
            .zip(data.targets())
            .filter(|(a, b)| a == b)
            .count() as f64
            / predicted.len() as f64
    }

    #[test]
    fn bad_hyper_parameters_are_errors() {
        let data = Dataset::new(array![[0.0], [1.0]], array![0usize, 1]);
        for bad in [
            RandomForestParams::new().n_trees(0),
            RandomForestParams::new().features_per_split(FeaturesPerSplit::Count(0)),
            RandomForestParams::new().max_depth(0),
            RandomForestParams::new().min_samples_leaf(0),
            RandomForestParams::new().max_bins(1),
            RandomForestParams::new().max_bins(257),
        ] {
            let fitted: Result<RandomForest, Error> = bad.fit(&data);
            assert!(matches!(fitted, Err(Error::Parameter(_))), "{bad:?}");
        }
        let nan = Dataset::new(array![[0.0], [f64::NAN]], array![0usize, 1]);
        assert!(matches!(
            RandomForestParams::new().fit(&nan),
            Err(Error::NotFinite(_))
        ));
    }

    #[test]
    fn learns_a_rule_no_single_split_or_line_can() {
        let train = quadrants(2000, 4, 1);
        let test = quadrants(1000, 4, 2);
        let model = RandomForestParams::new().n_trees(50).fit(&train).unwrap();
        let held_out = accuracy(&model, &test);
        // The boundary is two axis-aligned lines: trees of a few hundred leaves fit it to within
        // the rows near the lines; a coin would score 0.5.
        assert!(held_out > 0.93, "{held_out}");
        // The two informative columns carry most of the importance; four noise columns share
        // the rest.
        let importance = model.feature_importance();
        assert!((importance.sum() - 1.0).abs() < 1e-9);
        assert!(importance[0] + importance[1] > 0.6, "{importance}");
        let shares = model.predict_proba(&test.records().view());
        assert!(
            shares
                .rows()
                .into_iter()
                .all(|r| (r.sum() - 1.0).abs() < 1e-9)
        );
    }

    #[test]
    fn with_pure_leaves_the_trees_votes_average_to_the_forests_shares() {
        // Full-depth trees end in leaves of one class (of their bootstrap rows), so each tree's
        // vote is its leaf's whole share, and the votes' mean is the forest's probability.
        let train = quadrants(400, 3, 5);
        let test = quadrants(200, 3, 6);
        let model = RandomForestParams::new()
            .n_trees(15)
            .seed(2)
            .fit(&train)
            .unwrap();
        let x = test.records().view();
        let votes = model.tree_votes(&x);
        assert_eq!(votes.len(), 15);
        let shares = model.predict_proba(&x);
        for i in 0..x.nrows() {
            let ones = votes.iter().filter(|v| v[i] == 1).count() as f64 / 15.0;
            assert!(
                (ones - shares[[i, 1]]).abs() < 1e-12,
                "row {i}: {ones} against {}",
                shares[[i, 1]]
            );
        }
        // The trees disagree somewhere: they are not fifteen copies of one tree.
        assert!(votes.iter().any(|v| *v != votes[0]));
    }

    #[test]
    fn the_same_seed_grows_the_same_forest_on_any_number_of_threads() {
        let train = quadrants(500, 3, 3);
        let params = RandomForestParams::new().n_trees(12).seed(9);
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| params.clone().fit(&train).unwrap())
        };
        let one = on(1);
        assert_eq!(one, on(2));
        assert_eq!(one, on(3));
        // Another seed grows other trees.
        assert_ne!(one, params.seed(10).fit(&train).unwrap());
    }

    #[test]
    fn columns_constant_everywhere_never_stop_a_split() {
        // One informative column among nine constant ones. √10 = 3 features per split: a search
        // that counted the constant columns would often stop before it saw the informative one
        // and leave the root unsplit.
        let n = 200;
        let x = Array2::from_shape_fn((n, 10), |(i, j)| if j == 7 { i as f64 } else { 1.0 });
        let y = Array1::from_shape_fn(n, |i| usize::from(i >= n / 2));
        let data = Dataset::new(x, y);
        let model = RandomForestParams::new().n_trees(20).fit(&data).unwrap();
        // Every tree splits its root on the step and stops with two pure leaves; a tree whose
        // root search gave up would have one leaf holding both classes.
        assert_eq!(model.n_leaves(), 2 * 20);
        assert_eq!(accuracy(&model, &data), 1.0);
        assert_eq!(model.feature_importance()[7], 1.0);
    }

    #[test]
    fn separates_clustered_classes_and_not_noise() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (x, y) = crate::synthetic::clustered_classes(3000, 8, 4, 2, 0.0, &mut rng);
        let y = Array1::from(y);
        let (train_x, test_x) = x.view().split_at(Axis(0), 2000);
        let (train_y, test_y) = y.view().split_at(Axis(0), 2000);
        let fit_on = |columns: std::ops::Range<usize>| {
            let train = Dataset::new(
                train_x.slice(ndarray::s![.., columns.clone()]).to_owned(),
                train_y.to_owned(),
            );
            let test = Dataset::new(
                test_x.slice(ndarray::s![.., columns]).to_owned(),
                test_y.to_owned(),
            );
            let model = RandomForestParams::new().n_trees(30).fit(&train).unwrap();
            accuracy(&model, &test)
        };
        // Clusters a distance 2 apart with unit spread are mostly separable; the noise columns
        // leave a coin toss (1,000 test rows: standard error 0.016).
        let informative = fit_on(0..4);
        let noise = fit_on(4..8);
        assert!(informative > 0.8, "{informative}");
        assert!(noise < 0.56, "{noise}");
    }

    #[test]
    fn a_node_searches_past_features_constant_within_it() {
        // Nine columns vary only in the first 100 rows; column 7 splits the class in rows
        // 100..200. A node holding rows 100..200 looking at one feature per split must find
        // column 7 whichever feature it draws first.
        let n = 200;
        let x = Array2::from_shape_fn((n, 10), |(i, j)| match (i, j) {
            (_, 7) => i as f64,
            (i, _) if i < 100 => (i % 3) as f64,
            _ => 1.0,
        });
        let classes: Vec<u32> = (0..n as u32).map(|i| u32::from(i >= 150)).collect();
        let binned = Binned::new(&x, 255);
        let params = RandomForestParams::new().check().unwrap();
        for seed in 0..20 {
            let mut grower = Grower {
                params: &params,
                binned: &binned,
                classes: &classes,
                n_classes: 2,
                per_split: 1,
                rng: ChaCha8Rng::seed_from_u64(seed),
                features: (0..10).collect(),
                counts: Vec::new(),
                tree: Tree {
                    nodes: Vec::new(),
                    leaf_probabilities: Vec::new(),
                },
                importance: vec![0.0; 10],
            };
            let rows: Vec<u32> = (100..200).collect();
            let parent_score = (50.0f64.powi(2) + 50.0f64.powi(2)) / 100.0;
            let best = grower.best_split(&rows, &[50, 50], parent_score);
            assert_eq!(best.map(|b| b.feature), Some(7), "seed {seed}");
        }
    }

    #[test]
    fn depth_and_leaf_size_bound_the_trees() {
        let train = quadrants(1000, 2, 4);
        let stumps = RandomForestParams::new()
            .n_trees(10)
            .max_depth(1)
            .fit(&train)
            .unwrap();
        assert_eq!(stumps.n_leaves(), 2 * 10);
        let full = RandomForestParams::new().n_trees(10).fit(&train).unwrap();
        let coarse = RandomForestParams::new()
            .n_trees(10)
            .min_samples_leaf(50)
            .fit(&train)
            .unwrap();
        // At least 50 of the 1,000 bootstrap rows per leaf: at most 20 leaves a tree.
        assert!(coarse.n_leaves() <= 10 * 20, "{}", coarse.n_leaves());
        assert!(full.n_leaves() > 5 * coarse.n_leaves());
    }
}
