//! Cross-validation of any linfa model: fit on each fold's training rows, predict its test rows,
//! score, and return the per-fold scores (scikit-learn's `cross_val_score`).

use linfa::prelude::*;
use ndarray::{Array1, Array2, Axis};

use crate::{Error, Fold};

/// Fits `params` on each fold's training rows of (`x`, `y`), predicts the fold's test rows and
/// returns `score(truth, prediction)` per fold, in fold order.
///
/// Any linfa hyper-parameter set whose fitted model predicts a matrix fits in: logistic
/// regression, trees, k-NN, naive Bayes, SVMs, linear models. The features are copied per fold
/// (`select`), which costs one pass over the data per fold.
pub fn cross_val_score<P, T, E, S>(
    params: &P,
    x: &Array2<f64>,
    y: &Array1<T>,
    folds: &[Fold],
    score: S,
) -> Result<Vec<f64>, Error>
where
    P: Fit<Array2<f64>, Array1<T>, E>,
    P::Object: for<'a> Predict<&'a Array2<f64>, Array1<T>>,
    E: std::error::Error + From<linfa::Error>,
    T: Clone,
    S: Fn(&Array1<T>, &Array1<T>) -> f64,
{
    if x.nrows() != y.len() {
        return Err(Error::LengthMismatch(x.nrows(), y.len()));
    }
    folds
        .iter()
        .map(|fold| {
            let predicted = fit_predict(params, x, y, fold)?;
            Ok(score(&y.select(Axis(0), &fold.test), &predicted))
        })
        .collect()
}

/// Fits `params` on the fold's training rows and predicts its test rows: the step every
/// cross-validation routine here shares.
pub(crate) fn fit_predict<P, T, E>(
    params: &P,
    x: &Array2<f64>,
    y: &Array1<T>,
    fold: &Fold,
) -> Result<Array1<T>, Error>
where
    P: Fit<Array2<f64>, Array1<T>, E>,
    P::Object: for<'a> Predict<&'a Array2<f64>, Array1<T>>,
    E: std::error::Error + From<linfa::Error>,
    T: Clone,
{
    let train = Dataset::new(
        x.select(Axis(0), &fold.train),
        y.select(Axis(0), &fold.train),
    );
    let model = params
        .fit(&train)
        .map_err(|e| Error::Model(e.to_string()))?;
    Ok(model.predict(&x.select(Axis(0), &fold.test)))
}

/// Out-of-fold predictions (scikit-learn's `cross_val_predict`): each row is predicted by the
/// model fitted on the folds that do not test it. With folds that test every row once (k-fold and
/// its variants), every entry is filled; rows no fold tests keep `T::default()`.
pub fn cross_val_predict<P, T, E>(
    params: &P,
    x: &Array2<f64>,
    y: &Array1<T>,
    folds: &[Fold],
) -> Result<Array1<T>, Error>
where
    P: Fit<Array2<f64>, Array1<T>, E>,
    P::Object: for<'a> Predict<&'a Array2<f64>, Array1<T>>,
    E: std::error::Error + From<linfa::Error>,
    T: Clone + Default,
{
    if x.nrows() != y.len() {
        return Err(Error::LengthMismatch(x.nrows(), y.len()));
    }
    let mut out = Array1::from_elem(y.len(), T::default());
    for fold in folds {
        let predicted = fit_predict(params, x, y, fold)?;
        for (&row, value) in fold.test.iter().zip(predicted) {
            out[row] = value;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::accuracy;
    use crate::split::k_fold_in_order;

    /// A model that predicts the training mean: its CV scores can be computed by hand.
    struct MeanModel;
    struct FittedMean(f64);

    impl Fit<Array2<f64>, Array1<f64>, linfa::Error> for MeanModel {
        type Object = FittedMean;
        fn fit(
            &self,
            d: &DatasetBase<Array2<f64>, Array1<f64>>,
        ) -> Result<FittedMean, linfa::Error> {
            d.targets()
                .mean()
                .map(FittedMean)
                .ok_or(linfa::Error::NotEnoughSamples)
        }
    }

    impl<'a> Predict<&'a Array2<f64>, Array1<f64>> for FittedMean {
        fn predict(&self, x: &'a Array2<f64>) -> Array1<f64> {
            Array1::from_elem(x.nrows(), self.0)
        }
    }

    #[test]
    fn each_fold_is_fitted_on_its_training_rows_only() {
        let x = Array2::zeros((4, 1));
        let y = Array1::from(vec![1.0, 2.0, 3.0, 10.0]);
        let folds = k_fold_in_order(4, 2).unwrap();
        // Fold 1 trains on [3, 10] (mean 6.5) and tests [1, 2]; fold 2 the reverse (mean 1.5).
        let mae = |t: &Array1<f64>, p: &Array1<f64>| (t - p).mapv(f64::abs).mean().unwrap();
        let scores = cross_val_score(&MeanModel, &x, &y, &folds, mae).unwrap();
        assert_eq!(scores, vec![(5.5 + 4.5) / 2.0, (1.5 + 8.5) / 2.0]);
    }

    #[test]
    fn out_of_fold_predictions_come_from_the_other_folds() {
        let x = Array2::zeros((4, 1));
        let y = Array1::from(vec![1.0, 2.0, 3.0, 10.0]);
        let folds = k_fold_in_order(4, 2).unwrap();
        let predicted = cross_val_predict(&MeanModel, &x, &y, &folds).unwrap();
        assert_eq!(predicted, Array1::from(vec![6.5, 6.5, 1.5, 1.5]));
    }

    #[test]
    fn a_real_linfa_model_fits_in() {
        // Two separated blobs: a Gaussian naive Bayes model must score 1 on every fold.
        let x = Array2::from_shape_fn((40, 2), |(i, j)| {
            (i % 2) as f64 * 10.0 + (i * 7 + j * 3) as f64 % 5.0 * 0.1
        });
        let y = Array1::from_shape_fn(40, |i| i % 2);
        let folds = crate::split::stratified_k_fold(y.as_slice().unwrap(), 4, 1).unwrap();
        let params = linfa_bayes_free::Params;
        let scores = cross_val_score(&params, &x, &y, &folds, accuracy).unwrap();
        assert_eq!(scores, vec![1.0; 4]);
    }

    /// A nearest-centroid classifier, so the test needs no model crate.
    mod linfa_bayes_free {
        use super::*;
        pub struct Params;
        pub struct Centroids(Vec<(usize, Array1<f64>)>);
        impl Fit<Array2<f64>, Array1<usize>, linfa::Error> for Params {
            type Object = Centroids;
            fn fit(
                &self,
                d: &DatasetBase<Array2<f64>, Array1<usize>>,
            ) -> Result<Centroids, linfa::Error> {
                let mut out = Vec::new();
                for c in 0..=*d
                    .targets()
                    .iter()
                    .max()
                    .ok_or(linfa::Error::NotEnoughSamples)?
                {
                    let rows: Vec<usize> =
                        (0..d.nsamples()).filter(|&i| d.targets()[i] == c).collect();
                    let mean = d
                        .records()
                        .select(Axis(0), &rows)
                        .mean_axis(Axis(0))
                        .ok_or(linfa::Error::NotEnoughSamples)?;
                    out.push((c, mean));
                }
                Ok(Centroids(out))
            }
        }
        impl<'a> Predict<&'a Array2<f64>, Array1<usize>> for Centroids {
            fn predict(&self, x: &'a Array2<f64>) -> Array1<usize> {
                x.rows()
                    .into_iter()
                    .map(|r| {
                        self.0
                            .iter()
                            .min_by(|a, b| {
                                let da = (&r - &a.1).mapv(|v| v * v).sum();
                                let db = (&r - &b.1).mapv(|v| v * v).sum();
                                da.total_cmp(&db)
                            })
                            .map_or(0, |c| c.0)
                    })
                    .collect()
            }
        }
    }
}
