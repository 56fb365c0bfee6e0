//! Criterion benchmarks for the scikit-learn → linfa section: fit and predict time of the models
//! the lessons use, on breast cancer (569 rows × 30 features; predict on all 569 rows).
//! Run with `cargo bench --bench models`; add `-- fit` or `-- predict` to run one group.
//!
//! - gradient boosting (toolkit): 100 rounds of depth-3 trees, rate 0.1, 255 bins;
//! - random forest (linfa-ensemble): 100 full-depth trees, bootstrap, half the features per tree;
//! - random forest (toolkit, histogram trees): 100 full-depth trees, bootstrap, √p features at
//!   every split, trees grown in parallel on rayon's pool;
//! - one decision tree (linfa-trees), multinomial logistic regression (linfa-logistic, scaled),
//!   Gaussian naive Bayes (linfa-bayes) and 5-NN (toolkit, scaled; fitting only stores the data).
//!
//! The group `forest at scale` fits the toolkit's forest at the size of the head-to-head table
//! (`workbook compare`): 20,000 rows × 20 features (`synthetic::clustered_classes`, 5 informative),
//! 100 trees. linfa-ensemble's forest takes over a minute there, so it is left out. The group
//! `head-to-head sizes` times the toolkit's other estimators of that table at its sizes: gradient
//! boosting (100 rounds, depth 5, 20 rows a leaf) and logistic regression (C = 1) on the same
//! 20,000 × 20, k-means (k = 8, k-means++ start) and PCA (all 10 components) on 100,000 × 10
//! rows of eight Gaussian blobs.

use criterion::{BenchmarkId, Criterion, criterion_group};

use linfa::prelude::*;
use linfa_bayes::GaussianNb;
use linfa_ensemble::EnsembleLearnerParams;
use linfa_logistic::MultiLogisticRegression;
use linfa_preprocessing::linear_scaling::LinearScaler;
use linfa_trees::DecisionTree;
use ndarray::{Array1, Array2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use toolkit::boosting::GradientBoostingParams;
use toolkit::forest::RandomForestParams;
use toolkit::neighbors::KNeighbors;

// The workspace's global allocator, mimalloc, which the harness installs: the benches measure
// what the lessons run on.
use harness as _;

fn cancer() -> (Array2<f64>, Array1<usize>, Array2<f64>) {
    let set = datasets::breast_cancer().expect("datasets/breast_cancer.csv is readable");
    let raw = DatasetBase::from(set.features.clone());
    let scaler = LinearScaler::standard().fit(&raw).expect("scaler fits");
    let scaled = scaler.transform(set.features.clone());
    (set.features, set.target, scaled)
}

fn forest() -> EnsembleLearnerParams<linfa_trees::DecisionTreeParams<f64, usize>, ChaCha8Rng> {
    EnsembleLearnerParams::new_fixed_rng(DecisionTree::params(), ChaCha8Rng::seed_from_u64(1))
        .ensemble_size(100)
        .bootstrap_proportion(1.0)
        .feature_proportion(0.5)
}

fn fit(c: &mut Criterion) {
    let (x, y, scaled) = cancer();
    let raw = Dataset::new(x, y.clone());
    let scaled = Dataset::new(scaled, y);
    let mut group = c.benchmark_group("fit");
    group.sample_size(10);
    let boosting = GradientBoostingParams::new().n_rounds(100);
    group.bench_function(BenchmarkId::new("gradient boosting", "100 rounds"), |b| {
        b.iter(|| boosting.fit(&raw).map(|m| m.booster.n_nodes()))
    });
    group.bench_function(BenchmarkId::new("random forest", "100 trees"), |b| {
        b.iter(|| forest().fit(&raw).map(|m| m.models.len()))
    });
    let histogram_forest = RandomForestParams::new().n_trees(100).seed(1);
    group.bench_function(
        BenchmarkId::new("random forest (toolkit)", "100 trees"),
        |b| b.iter(|| histogram_forest.fit(&raw).map(|m| m.n_leaves())),
    );
    group.bench_function("decision tree", |b| {
        b.iter(|| DecisionTree::params().fit(&raw).map(drop))
    });
    group.bench_function("logistic regression", |b| {
        b.iter(|| MultiLogisticRegression::default().fit(&scaled).map(drop))
    });
    group.bench_function("Gaussian naive Bayes", |b| {
        b.iter(|| GaussianNb::params().fit(&raw).map(drop))
    });
    group.finish();
}

fn predict(c: &mut Criterion) {
    let (x, y, scaled) = cancer();
    let raw = Dataset::new(x.clone(), y.clone());
    let scaled_set = Dataset::new(scaled.clone(), y);
    let mut group = c.benchmark_group("predict");
    let boosting = GradientBoostingParams::new()
        .n_rounds(100)
        .fit(&raw)
        .expect("fits");
    group.bench_function("gradient boosting", |b| b.iter(|| boosting.predict(&x)));
    let forest = forest().fit(&raw).expect("fits");
    group.bench_function("random forest", |b| b.iter(|| forest.predict(&x)));
    let histogram_forest = RandomForestParams::new()
        .n_trees(100)
        .seed(1)
        .fit(&raw)
        .expect("fits");
    group.bench_function("random forest (toolkit)", |b| {
        b.iter(|| histogram_forest.predict(&x))
    });
    let tree = DecisionTree::params().fit(&raw).expect("fits");
    group.bench_function("decision tree", |b| b.iter(|| tree.predict(&x)));
    let logistic = MultiLogisticRegression::default()
        .fit(&scaled_set)
        .expect("fits");
    group.bench_function("logistic regression", |b| {
        b.iter(|| logistic.predict(&scaled))
    });
    let bayes = GaussianNb::params().fit(&raw).expect("fits");
    group.bench_function("Gaussian naive Bayes", |b| b.iter(|| bayes.predict(&x)));
    let knn = KNeighbors { k: 5 }.fit(&scaled_set).expect("fits");
    group.bench_function("5-NN", |b| b.iter(|| knn.predict(&scaled)));
    group.finish();
}

fn forest_at_scale(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (x, y) = toolkit::synthetic::clustered_classes(20_000, 20, 5, 2, 0.01, &mut rng);
    let data = Dataset::new(x, Array1::from(y));
    let mut group = c.benchmark_group("forest at scale");
    group.sample_size(10);
    let params = RandomForestParams::new().n_trees(100).seed(1);
    group.bench_function(BenchmarkId::new("fit", "20000 x 20, 100 trees"), |b| {
        b.iter(|| params.fit(&data).map(|m| m.n_leaves()))
    });
    group.finish();
}

fn head_to_head_sizes(c: &mut Criterion) {
    use rand::Rng;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (x, y) = toolkit::synthetic::clustered_classes(20_000, 20, 5, 2, 0.01, &mut rng);
    let y = Array1::from(y);
    let classes = Dataset::new(x.clone(), y.clone());
    let centres = Array2::from_shape_fn((8, 10), |_| rng.gen_range(-6.0..6.0));
    let blobs = Array2::from_shape_fn((100_000, 10), |(i, j)| {
        centres[[i % 8, j]] + rng.sample::<f64, _>(rand_distr::StandardNormal)
    });
    let mut group = c.benchmark_group("head-to-head sizes");
    group.sample_size(10);
    let boosting = GradientBoostingParams::new()
        .n_rounds(100)
        .max_depth(5)
        .min_samples_leaf(20)
        .l2(0.0);
    group.bench_function(BenchmarkId::new("gradient boosting", "20000 x 20"), |b| {
        b.iter(|| boosting.fit(&classes).map(|m| m.booster.n_nodes()))
    });
    let logistic = toolkit::logistic::LogisticRegressionParams::new();
    group.bench_function(BenchmarkId::new("logistic regression", "20000 x 20"), |b| {
        b.iter(|| logistic.fit(&x.view(), &y.view()).map(|m| m.iterations()))
    });
    let kmeans = toolkit::kmeans::KMeansParams::new(8).seed(1);
    group.bench_function(BenchmarkId::new("k-means", "100000 x 10, k = 8"), |b| {
        b.iter(|| kmeans.fit(&blobs.view()).map(|m| m.iterations()))
    });
    group.bench_function(BenchmarkId::new("PCA", "100000 x 10"), |b| {
        b.iter(|| toolkit::pca::Pca::fit(&blobs.view(), 10).map(|m| m.explained_variance()[0]))
    });
    group.finish();
}

criterion_group!(benches, fit, predict, forest_at_scale, head_to_head_sizes);

// criterion_main! written out, to register the embedded font before criterion draws its report
// (as in benches/numpy.rs); without it the first report panics with FontUnavailable.
fn main() {
    harness::plot::register_font();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
