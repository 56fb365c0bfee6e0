//! The workbook's evaluation toolkit: the parts of scikit-learn's `model_selection` and `metrics`
//! that linfa 0.8 does not provide, written against linfa's traits so that any linfa model fits in.
//!
//! * [`split`]: k-fold (seeded shuffle, or in row order), stratified k-fold, group k-fold and
//!   time-series splits; a splitter that shuffles takes its seed as an argument.
//!   linfa's `Dataset::fold` makes contiguous, unshuffled, unstratified folds only.
//! * [`metrics`]: accuracy, a per-class classification report with binary, macro and weighted averages,
//!   precision–recall curves and average precision, ROC AUC as a rank statistic, multi-class log
//!   loss and the adjusted Rand index. linfa already has the confusion matrix (with macro
//!   averages), the binary ROC curve and its AUC, binary log loss, the regression metrics (R², MAE,
//!   MSE) and the silhouette score; the lessons use those from linfa, and the tests here check
//!   that both agree where they overlap.
//! * [`baseline`]: the majority-class baseline as a linfa model, cross-validated like any other.
//! * [`neighbors`]: a k-nearest-neighbours classifier (linfa-nn has the indexes, not the model).
//! * [`cv`]: cross-validation of any linfa `Fit` + `Predict` pair over any folds: per-fold scores
//!   and out-of-fold predictions.
//! * [`pipeline`]: a column transformer (scaling, one-hot), `SelectKBest` (F and χ²), chains
//!   and pipelines, fitted on training rows only and usable wherever a linfa model is.
//! * [`search`]: grid and random search scored by cross-validation (a misspelled hyper-parameter
//!   name is an error), and nested cross-validation.
//! * [`boosting`]: gradient-boosted trees on histograms (log loss, softmax, squared error);
//!   linfa-ensemble has bagging, a random forest and AdaBoost but no gradient boosting.
//! * [`forest`]: a random forest on the same histogram tree builder (a fresh feature subset at
//!   every split, as Breiman's and scikit-learn's; trees grown in parallel on rayon's pool).
//!   linfa-ensemble's forest draws one feature subset per tree and splits on sorted values.
//! * [`logistic`], [`kmeans`], [`pca`]: logistic regression by Newton's method, k-means with
//!   distances from blocked matrix products, and PCA from the covariance's eigenvectors — the
//!   methods scikit-learn's estimators use where linfa 0.8 takes a slower route (a summed-loss
//!   L-BFGS stop, one distance at a time, an SVD of the whole data); `workbook compare` times
//!   them against scikit-learn.
//! * [`artefact`]: a fitted pipeline saved with its metadata (feature schema, class names,
//!   versions, training-data hash, scores) as TOML or CBOR behind a checksum, refused with a
//!   clear error when damaged, of another format or inconsistent.
//! * [`synthetic`]: data with a known answer (two moons, and clustered classes as scikit-learn's
//!   `make_classification` builds them).
//! * [`text`]: a count vectoriser with a stable (sorted) vocabulary and a TF-IDF transformer
//!   that learns its IDF at fit time; linfa's re-counts document frequencies on every batch.
//!
//! Nothing here prints; every fallible function — the models' `fit` included — returns [`Error`].

pub mod artefact;
pub mod baseline;
pub mod boosting;
pub mod cv;
pub mod forest;
mod histogram;
pub mod kmeans;
pub mod logistic;
pub mod metrics;
pub mod neighbors;
pub mod pca;
pub mod pipeline;
pub mod search;
pub mod split;
pub mod synthetic;
pub mod text;

pub use cv::{cross_val_predict, cross_val_score};
pub use split::Fold;

/// The index of the largest value in each row of `scores` (a class per row); a tie goes to the
/// lower index.
pub fn argmax_rows(scores: &ndarray::Array2<f64>) -> ndarray::Array1<usize> {
    scores
        .rows()
        .into_iter()
        .map(|r| {
            (0..r.len())
                .max_by(|&a, &b| r[a].total_cmp(&r[b]).then(b.cmp(&a)))
                .unwrap_or(0)
        })
        .collect()
}

/// The logistic function `1 / (1 + e^−z)`, the probability behind a log-odds score (boosting's
/// log loss and the logistic regression). For very negative z, e^−z overflows to infinity and
/// the result is 0, not NaN.
pub(crate) fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `log(1 + e^z)`, the log loss of a score z against class 0, without overflow for large z.
pub(crate) fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// The toolkit's errors.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum Error {
    #[error("cannot make {folds} folds from {samples} samples")]
    TooFewSamples { folds: usize, samples: usize },
    #[error("k-fold needs at least 2 folds, got {0}")]
    TooFewFolds(usize),
    #[error("class {class} has {count} members, fewer than the {folds} folds")]
    ClassTooSmall {
        class: usize,
        count: usize,
        folds: usize,
    },
    #[error("only {groups} distinct groups for {folds} folds")]
    TooFewGroups { groups: usize, folds: usize },
    #[error("lengths differ: {0} and {1}")]
    LengthMismatch(usize, usize),
    #[error("{0} needs both classes present")]
    OneClass(&'static str),
    #[error("empty input")]
    Empty,
    #[error("the model failed: {0}")]
    Model(String),
    #[error("invalid hyper-parameter: {0}")]
    Parameter(String),
    #[error("the {0} contain NaN or infinite values")]
    NotFinite(&'static str),
    #[error("feature schema mismatch: {0}")]
    Schema(String),
    #[error("model file refused: {0}")]
    Artefact(String),
}

/// linfa's errors (from its own checks inside `Fit`) become [`Error::Model`].
impl From<linfa::Error> for Error {
    fn from(e: linfa::Error) -> Error {
        Error::Model(e.to_string())
    }
}
