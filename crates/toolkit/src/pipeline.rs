//! Pipelines (scikit-learn's `Pipeline` and `ColumnTransformer`): preprocessing steps and a model
//! fitted as one estimator, so that inside cross-validation every step learns from the training
//! rows only.
//!
//! * [`ColumnTransformer`] standardises numeric columns and one-hot encodes categorical columns
//!   (given as integer codes in the same `f64` matrix), by a declared [`Column`] schema.
//! * [`SelectKBest`] keeps the k columns with the highest ANOVA F or χ² score.
//! * [`Chain`] runs two preprocessing steps in order; [`Pipeline`] ends a chain with a model.
//!
//! All of them implement linfa's `Fit`, `Transformer` and `Predict` traits, so linfa's own
//! preprocessors (`LinearScaler`) and models drop in, and a pipeline goes through
//! [`cross_val_score`](crate::cross_val_score) and the searches like any model. linfa has the
//! steps (scalers, encoders) but nothing that fits them in sequence on one training set.

use std::marker::PhantomData;

use linfa::prelude::*;
use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::Error;

/// How a column is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnKind {
    /// Centred and scaled to unit variance (population SD); NaN becomes the training mean.
    Numeric,
    /// Integer category codes, one-hot encoded over the codes seen in training; NaN or an unseen
    /// code gives a row of zeros (scikit-learn's `handle_unknown="ignore"`).
    Categorical,
}

/// One input column: its name and kind. A list of them is a pipeline's feature schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
}

impl Column {
    pub fn numeric(name: &str) -> Column {
        Column {
            name: name.to_string(),
            kind: ColumnKind::Numeric,
        }
    }
    pub fn categorical(name: &str) -> Column {
        Column {
            name: name.to_string(),
            kind: ColumnKind::Categorical,
        }
    }
}

/// The column transformer's parameters: the schema of the input matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnTransformer {
    pub columns: Vec<Column>,
}

/// What a numeric or categorical column learned from the training rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LearnedColumn {
    Scale { mean: f64, sd: f64 },
    OneHot { codes: Vec<i64> },
}

/// A fitted column transformer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedColumnTransformer {
    pub columns: Vec<Column>,
    pub learned: Vec<LearnedColumn>,
}

impl<T> Fit<Array2<f64>, T, Error> for ColumnTransformer {
    type Object = FittedColumnTransformer;

    fn fit(&self, data: &DatasetBase<Array2<f64>, T>) -> Result<FittedColumnTransformer, Error> {
        let x = data.records();
        check_width(&self.columns, x.ncols())?;
        if x.nrows() == 0 {
            return Err(Error::Empty);
        }
        let learned = self
            .columns
            .iter()
            .zip(x.columns())
            .map(|(column, values)| match column.kind {
                ColumnKind::Numeric => {
                    let finite: Vec<f64> =
                        values.iter().copied().filter(|v| v.is_finite()).collect();
                    let n = finite.len().max(1) as f64;
                    let mean = finite.iter().sum::<f64>() / n;
                    let var = finite.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
                    // A constant column is centred but not scaled (scikit-learn does the same).
                    let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
                    LearnedColumn::Scale { mean, sd }
                }
                ColumnKind::Categorical => {
                    let mut codes: Vec<i64> = values
                        .iter()
                        .filter(|v| v.is_finite())
                        .map(|&v| v as i64)
                        .collect();
                    codes.sort_unstable();
                    codes.dedup();
                    LearnedColumn::OneHot { codes }
                }
            })
            .collect();
        Ok(FittedColumnTransformer {
            columns: self.columns.clone(),
            learned,
        })
    }
}

fn check_width(columns: &[Column], width: usize) -> Result<(), Error> {
    if columns.len() == width {
        Ok(())
    } else {
        Err(Error::Schema(format!(
            "the schema has {} columns ({}) but the data has {width}",
            columns.len(),
            columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

impl FittedColumnTransformer {
    /// Names of the output columns: numeric names, then `name=code` for each one-hot column.
    pub fn output_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .zip(&self.learned)
            .flat_map(|(c, l)| match l {
                LearnedColumn::Scale { .. } => vec![c.name.clone()],
                LearnedColumn::OneHot { codes } => {
                    codes.iter().map(|k| format!("{}={k}", c.name)).collect()
                }
            })
            .collect()
    }

    /// The transformed matrix, or [`Error::Schema`] when `x` has the wrong number of columns.
    pub fn try_transform(&self, x: &Array2<f64>) -> Result<Array2<f64>, Error> {
        check_width(&self.columns, x.ncols())?;
        let width: usize = self
            .learned
            .iter()
            .map(|l| match l {
                LearnedColumn::Scale { .. } => 1,
                LearnedColumn::OneHot { codes } => codes.len(),
            })
            .sum();
        let mut out = Array2::zeros((x.nrows(), width));
        let mut at = 0;
        for (learned, values) in self.learned.iter().zip(x.columns()) {
            match learned {
                LearnedColumn::Scale { mean, sd } => {
                    out.column_mut(at).zip_mut_with(&values, |o, &v| {
                        *o = if v.is_finite() { (v - mean) / sd } else { 0.0 }
                    });
                    at += 1;
                }
                LearnedColumn::OneHot { codes } => {
                    for (i, &v) in values.iter().enumerate() {
                        if v.is_finite()
                            && let Ok(k) = codes.binary_search(&(v as i64))
                        {
                            out[[i, at + k]] = 1.0;
                        }
                    }
                    at += codes.len();
                }
            }
        }
        Ok(out)
    }
}

impl Transformer<Array2<f64>, Array2<f64>> for FittedColumnTransformer {
    /// linfa's transform cannot fail: a matrix of the wrong width panics here. Code that takes
    /// outside input calls [`FittedColumnTransformer::try_transform`].
    fn transform(&self, x: Array2<f64>) -> Array2<f64> {
        self.try_transform(&x)
            .unwrap_or_else(|e| panic!("column transformer: {e}"))
    }
}

/// How [`SelectKBest`] scores a feature against the class labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeatureScore {
    /// One-way ANOVA F: between-class over within-class variance (`f_classif`).
    FClassif,
    /// χ² of observed against expected class totals of a non-negative feature (`chi2`), as used
    /// for word counts.
    Chi2,
}

/// Keep the `k` best-scoring columns (scikit-learn's `SelectKBest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectKBest {
    pub k: usize,
    pub score: FeatureScore,
}

/// The kept columns (in input order) and every column's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedSelectKBest {
    pub kept: Vec<usize>,
    pub scores: Vec<f64>,
}

/// Per-column scores of `x` against classes `y` (0..n_classes).
pub fn feature_scores(
    x: &Array2<f64>,
    y: &Array1<usize>,
    score: FeatureScore,
) -> Result<Vec<f64>, Error> {
    if x.nrows() != y.len() {
        return Err(Error::LengthMismatch(x.nrows(), y.len()));
    }
    let classes = y.iter().max().map_or(0, |m| m + 1);
    let mut count = vec![0.0; classes];
    for &c in y {
        count[c] += 1.0;
    }
    let n = y.len() as f64;
    let scores = x
        .columns()
        .into_iter()
        .map(|col| {
            let mut sum = vec![0.0; classes];
            for (&v, &c) in col.iter().zip(y) {
                sum[c] += v;
            }
            let total: f64 = sum.iter().sum();
            match score {
                FeatureScore::Chi2 => {
                    if col.iter().any(|&v| v < 0.0) {
                        return Err(Error::Parameter(
                            "χ² scores need non-negative features".into(),
                        ));
                    }
                    Ok((0..classes)
                        .filter(|&c| count[c] > 0.0)
                        .map(|c| {
                            let expected = total * count[c] / n;
                            if expected > 0.0 {
                                (sum[c] - expected).powi(2) / expected
                            } else {
                                0.0
                            }
                        })
                        .sum())
                }
                FeatureScore::FClassif => {
                    let grand = total / n;
                    let between: f64 = (0..classes)
                        .filter(|&c| count[c] > 0.0)
                        .map(|c| count[c] * (sum[c] / count[c] - grand).powi(2))
                        .sum();
                    let within: f64 = col
                        .iter()
                        .zip(y)
                        .map(|(&v, &c)| (v - sum[c] / count[c]).powi(2))
                        .sum();
                    let groups = count.iter().filter(|&&c| c > 0.0).count() as f64;
                    let f = (between / (groups - 1.0).max(1.0)) / (within / (n - groups).max(1.0));
                    // A feature constant within each class but not across them separates perfectly: F = ∞.
                    Ok(if f.is_nan() { 0.0 } else { f })
                }
            }
        })
        .collect::<Result<Vec<f64>, Error>>()?;
    Ok(scores)
}

impl Fit<Array2<f64>, Array1<usize>, Error> for SelectKBest {
    type Object = FittedSelectKBest;

    fn fit(
        &self,
        data: &DatasetBase<Array2<f64>, Array1<usize>>,
    ) -> Result<FittedSelectKBest, Error> {
        if self.k == 0 || self.k > data.nfeatures() {
            return Err(Error::Parameter(format!(
                "k = {} must be in 1..={}",
                self.k,
                data.nfeatures()
            )));
        }
        let scores = feature_scores(data.records(), data.targets(), self.score)?;
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let mut kept = order[..self.k].to_vec();
        kept.sort_unstable();
        Ok(FittedSelectKBest { kept, scores })
    }
}

impl Transformer<Array2<f64>, Array2<f64>> for FittedSelectKBest {
    fn transform(&self, x: Array2<f64>) -> Array2<f64> {
        x.select(Axis(1), &self.kept)
    }
}

/// Two preprocessing steps, the second fitted on the output of the first. `EA` and `EB` are the
/// steps' error types, inferred from the steps (see [`Pipeline`]).
pub struct Chain<A, B, EA, EB> {
    pub first: A,
    pub second: B,
    errors: PhantomData<fn() -> (EA, EB)>,
}

impl<A, B, EA, EB> Chain<A, B, EA, EB> {
    pub fn new(first: A, second: B) -> Self {
        Chain {
            first,
            second,
            errors: PhantomData,
        }
    }
}

/// A fitted chain of two preprocessing steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chained<A, B> {
    pub first: A,
    pub second: B,
}

impl<A, B, T, EA, EB> Fit<Array2<f64>, Array1<T>, Error> for Chain<A, B, EA, EB>
where
    A: Fit<Array2<f64>, Array1<T>, EA>,
    A::Object: Transformer<Array2<f64>, Array2<f64>>,
    B: Fit<Array2<f64>, Array1<T>, EB>,
    EA: std::error::Error + From<linfa::Error>,
    EB: std::error::Error + From<linfa::Error>,
    T: Clone,
{
    type Object = Chained<A::Object, B::Object>;

    fn fit(&self, data: &DatasetBase<Array2<f64>, Array1<T>>) -> Result<Self::Object, Error> {
        let first = self.first.fit(data).map_err(model_error)?;
        let middle = Dataset::new(
            first.transform(data.records().clone()),
            data.targets().clone(),
        );
        let second = self.second.fit(&middle).map_err(model_error)?;
        Ok(Chained { first, second })
    }
}

impl<A, B> Transformer<Array2<f64>, Array2<f64>> for Chained<A, B>
where
    A: Transformer<Array2<f64>, Array2<f64>>,
    B: Transformer<Array2<f64>, Array2<f64>>,
{
    fn transform(&self, x: Array2<f64>) -> Array2<f64> {
        self.second.transform(self.first.transform(x))
    }
}

/// Preprocessing followed by a model; fitted, it is a [`FittedPipeline`] whose preprocessor has
/// seen only the rows the model was trained on.
///
/// `EP` and `EM` are the two steps' error types. They are inferred when each step has one `Fit`
/// implementation: our steps, linfa's scalers, and linfa models given as checked parameters
/// (`LogisticRegression::params().check()?`). Unchecked linfa parameters fit with any error type
/// their checks convert into, so the compiler asks which one; checking first answers it, and
/// reports a bad hyper-parameter before any fitting.
pub struct Pipeline<P, M, EP, EM> {
    pub pre: P,
    pub model: M,
    errors: PhantomData<fn() -> (EP, EM)>,
}

impl<P, M, EP, EM> Pipeline<P, M, EP, EM> {
    pub fn new(pre: P, model: M) -> Self {
        Pipeline {
            pre,
            model,
            errors: PhantomData,
        }
    }
}

/// A fitted pipeline: a fitted preprocessor and the model trained on its output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedPipeline<P, M> {
    pub pre: P,
    pub model: M,
}

impl<P, M, T, EP, EM> Fit<Array2<f64>, Array1<T>, Error> for Pipeline<P, M, EP, EM>
where
    P: Fit<Array2<f64>, Array1<T>, EP>,
    P::Object: Transformer<Array2<f64>, Array2<f64>>,
    M: Fit<Array2<f64>, Array1<T>, EM>,
    EP: std::error::Error + From<linfa::Error>,
    EM: std::error::Error + From<linfa::Error>,
    T: Clone,
{
    type Object = FittedPipeline<P::Object, M::Object>;

    fn fit(&self, data: &DatasetBase<Array2<f64>, Array1<T>>) -> Result<Self::Object, Error> {
        let pre = self.pre.fit(data).map_err(model_error)?;
        let transformed = Dataset::new(
            pre.transform(data.records().clone()),
            data.targets().clone(),
        );
        let model = self.model.fit(&transformed).map_err(model_error)?;
        Ok(FittedPipeline { pre, model })
    }
}

impl<P, M, T> PredictInplace<Array2<f64>, Array1<T>> for FittedPipeline<P, M>
where
    P: Transformer<Array2<f64>, Array2<f64>>,
    M: for<'a> Predict<&'a Array2<f64>, Array1<T>>,
    T: Clone + Default,
{
    fn predict_inplace(&self, x: &Array2<f64>, y: &mut Array1<T>) {
        let predicted = self.model.predict(&self.pre.transform(x.clone()));
        y.assign(&predicted);
    }
    fn default_target(&self, x: &Array2<f64>) -> Array1<T> {
        Array1::from_elem(x.nrows(), T::default())
    }
}

impl<M> FittedPipeline<FittedColumnTransformer, M> {
    /// Predicts after checking `x` against the pipeline's schema: a wrong width is an error, not
    /// a panic.
    pub fn try_predict<T>(&self, x: &Array2<f64>) -> Result<Array1<T>, Error>
    where
        M: for<'a> Predict<&'a Array2<f64>, Array1<T>>,
    {
        Ok(self.model.predict(&self.pre.try_transform(x)?))
    }
}

fn model_error(e: impl std::error::Error) -> Error {
    Error::Model(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cv::cross_val_score;
    use crate::metrics::accuracy;
    use crate::split::k_fold_in_order;
    use ndarray::array;

    fn schema() -> ColumnTransformer {
        ColumnTransformer {
            columns: vec![Column::numeric("size"), Column::categorical("colour")],
        }
    }

    #[test]
    fn scales_numbers_and_one_hot_encodes_codes() {
        let x = array![[1.0, 0.0], [3.0, 2.0], [5.0, 2.0]];
        let fitted = schema()
            .fit(&Dataset::new(x.clone(), array![0usize, 1, 1]))
            .unwrap();
        assert_eq!(fitted.output_names(), vec!["size", "colour=0", "colour=2"]);
        let sd = (8.0f64 / 3.0).sqrt();
        let out = fitted.try_transform(&x).unwrap();
        let expect = array![[-2.0 / sd, 1.0, 0.0], [0.0, 0.0, 1.0], [2.0 / sd, 0.0, 1.0]];
        assert!((&out - &expect).iter().all(|d| d.abs() < 1e-12));
        // An unseen code and a missing value: zeros, and the mean for the missing number.
        let new = fitted
            .try_transform(&array![[f64::NAN, 7.0], [3.0, f64::NAN]])
            .unwrap();
        assert_eq!(new, array![[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]);
    }

    #[test]
    fn a_wrong_width_is_a_schema_error() {
        let fitted = schema()
            .fit(&Dataset::new(array![[1.0, 0.0]], array![0usize]))
            .unwrap();
        let err = fitted.try_transform(&array![[1.0, 2.0, 3.0]]).unwrap_err();
        assert!(
            matches!(err, Error::Schema(ref m) if m.contains("size, colour")),
            "{err}"
        );
        let fit_err = schema()
            .fit(&Dataset::new(array![[1.0]], array![0usize]))
            .unwrap_err();
        assert!(matches!(fit_err, Error::Schema(_)));
    }

    #[test]
    fn select_k_best_keeps_the_informative_columns() {
        // Column 1 separates the classes; columns 0 and 2 do not.
        let x = array![
            [1.0, 0.0, 5.0],
            [2.0, 0.1, 4.0],
            [1.0, 9.0, 5.0],
            [2.0, 9.2, 4.0]
        ];
        let y = array![0usize, 0, 1, 1];
        for score in [FeatureScore::FClassif, FeatureScore::Chi2] {
            let fitted = SelectKBest { k: 1, score }
                .fit(&Dataset::new(x.clone(), y.clone()))
                .unwrap();
            assert_eq!(fitted.kept, vec![1], "{score:?}");
            assert_eq!(fitted.transform(x.clone()), x.select(Axis(1), &[1]));
        }
        // χ² by hand for column 1: totals 0.1 and 18.2, expected 9.15 each.
        let chi = feature_scores(&x, &y, FeatureScore::Chi2).unwrap()[1];
        assert!((chi - 2.0 * 9.05f64.powi(2) / 9.15).abs() < 1e-9);
        assert!(
            SelectKBest {
                k: 4,
                score: FeatureScore::Chi2
            }
            .fit(&Dataset::new(x, y))
            .is_err()
        );
    }

    #[test]
    fn f_scores_match_a_hand_anova() {
        // Groups {1, 2, 3} and {5, 6, 7}: between SS 24 on 1 df, within SS 4 on 4 df → F = 24.
        let x = array![[1.0], [2.0], [3.0], [5.0], [6.0], [7.0]];
        let y = array![0usize, 0, 0, 1, 1, 1];
        let f = feature_scores(&x, &y, FeatureScore::FClassif).unwrap()[0];
        assert!((f - 24.0).abs() < 1e-12, "{f}");
    }

    /// A model that remembers the largest feature value it was trained on, so a test can see
    /// what the preprocessing passed to it.
    struct MaxSeen;
    struct Seen(f64);
    impl Fit<Array2<f64>, Array1<usize>, linfa::Error> for MaxSeen {
        type Object = Seen;
        fn fit(&self, d: &DatasetBase<Array2<f64>, Array1<usize>>) -> Result<Seen, linfa::Error> {
            Ok(Seen(d.records().iter().copied().fold(f64::MIN, f64::max)))
        }
    }
    impl<'a> Predict<&'a Array2<f64>, Array1<usize>> for Seen {
        fn predict(&self, x: &'a Array2<f64>) -> Array1<usize> {
            x.rows()
                .into_iter()
                .map(|r| usize::from(r[0] > self.0))
                .collect()
        }
    }

    #[test]
    fn the_pipeline_fits_its_preprocessor_on_training_rows_only() {
        // Scaling fitted on rows {0, 1} = [0, 2] (mean 1, SD 1) maps them to ±1 and the held-out
        // 100 to 99. Fitted on all rows, the 100 would have shaped the scale.
        let x = array![[0.0], [2.0], [100.0]];
        let y = array![0usize, 0, 1];
        let pipe = Pipeline::new(
            ColumnTransformer {
                columns: vec![Column::numeric("v")],
            },
            MaxSeen,
        );
        let fitted = pipe
            .fit(&Dataset::new(
                x.slice(ndarray::s![..2, ..]).to_owned(),
                y.slice(ndarray::s![..2]).to_owned(),
            ))
            .unwrap();
        assert_eq!(fitted.model.0, 1.0);
        assert_eq!(fitted.pre.try_transform(&x).unwrap()[[2, 0]], 99.0);
        assert_eq!(fitted.predict(&x), array![0, 0, 1]);
        assert_eq!(fitted.try_predict::<usize>(&x).unwrap(), array![0, 0, 1]);
        assert!(fitted.try_predict::<usize>(&array![[1.0, 2.0]]).is_err());
        // And it runs through cross-validation like any model.
        let scores =
            cross_val_score(&pipe, &x, &y, &k_fold_in_order(3, 3).unwrap(), accuracy).unwrap();
        assert_eq!(scores.len(), 3);
    }

    #[test]
    fn chains_feed_each_step_the_previous_output() {
        let x = array![
            [1.0, 0.0, 10.0],
            [2.0, 0.0, 20.0],
            [3.0, 1.0, 30.0],
            [4.0, 1.0, 40.0]
        ];
        let y = array![0usize, 0, 1, 1];
        let chain = Chain::new(
            ColumnTransformer {
                columns: vec![
                    Column::numeric("a"),
                    Column::categorical("b"),
                    Column::numeric("c"),
                ],
            },
            SelectKBest {
                k: 2,
                score: FeatureScore::FClassif,
            },
        );
        let fitted = chain.fit(&Dataset::new(x.clone(), y)).unwrap();
        // Four outputs after one-hot (a, b=0, b=1, c); the one-hot pair separates the classes.
        assert_eq!(fitted.first.output_names().len(), 4);
        assert_eq!(fitted.second.kept, vec![1, 2]);
        assert_eq!(fitted.transform(x).ncols(), 2);
    }
}
