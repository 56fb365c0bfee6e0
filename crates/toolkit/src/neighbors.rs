//! A k-nearest-neighbours classifier (scikit-learn's `KNeighborsClassifier`, brute force,
//! Euclidean, uniform votes). linfa-nn provides spatial indexes but no classifier on top of them.
//!
//! Distances come from one matrix product, ‖a − b‖² = ‖a‖² + ‖b‖² − 2·a·b, so predicting m rows
//! against n training rows costs one m × n × d product plus a partial selection per row.

use linfa::prelude::*;
use ndarray::{Array1, Array2, Axis};

use crate::Error;

/// The hyper-parameter: how many neighbours vote.
#[derive(Debug, Clone, Copy)]
pub struct KNeighbors {
    pub k: usize,
}

/// A fitted k-NN model: it keeps the training data.
#[derive(Debug, Clone)]
pub struct FittedKNeighbors {
    k: usize,
    x: Array2<f64>,
    y: Array1<usize>,
    classes: usize,
}

impl Fit<Array2<f64>, Array1<usize>, Error> for KNeighbors {
    type Object = FittedKNeighbors;

    fn fit(
        &self,
        data: &DatasetBase<Array2<f64>, Array1<usize>>,
    ) -> Result<FittedKNeighbors, Error> {
        if self.k == 0 || data.nsamples() < self.k {
            return Err(Error::Parameter(format!(
                "k = {} needs 1 ≤ k ≤ {} training rows",
                self.k,
                data.nsamples()
            )));
        }
        Ok(FittedKNeighbors {
            k: self.k,
            x: data.records().clone(),
            y: data.targets().clone(),
            classes: data.targets().iter().max().map_or(0, |m| m + 1),
        })
    }
}

impl FittedKNeighbors {
    /// The share of the k neighbours' votes for each class, one row per sample.
    pub fn predict_proba(&self, x: &Array2<f64>) -> Array2<f64> {
        let train_sq = self.x.map_axis(Axis(1), |r| r.dot(&r));
        let test_sq = x.map_axis(Axis(1), |r| r.dot(&r));
        let cross = x.dot(&self.x.t());
        let mut votes = Array2::zeros((x.nrows(), self.classes));
        let mut order: Vec<usize> = (0..self.x.nrows()).collect();
        for (i, row) in cross.rows().into_iter().enumerate() {
            let distance = |j: usize| test_sq[i] + train_sq[j] - 2.0 * row[j];
            // Partial selection: the k nearest first, in no particular order (ties by index).
            order.select_nth_unstable_by(self.k - 1, |&a, &b| {
                distance(a).total_cmp(&distance(b)).then(a.cmp(&b))
            });
            for &j in &order[..self.k] {
                votes[[i, self.y[j]]] += 1.0 / self.k as f64;
            }
        }
        votes
    }
}

impl<'a> Predict<&'a Array2<f64>, Array1<usize>> for FittedKNeighbors {
    /// The class with most votes; a tie goes to the lower class index.
    fn predict(&self, x: &'a Array2<f64>) -> Array1<usize> {
        crate::argmax_rows(&self.predict_proba(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn votes_of_the_nearest_points() {
        let x = array![
            [0.0, 0.0],
            [0.0, 1.0],
            [1.0, 0.0],
            [10.0, 10.0],
            [10.0, 11.0]
        ];
        let y = array![0usize, 0, 0, 1, 1];
        let model = KNeighbors { k: 3 }.fit(&Dataset::new(x, y)).unwrap();
        let query = array![[0.2, 0.2], [9.0, 9.0]];
        assert_eq!(model.predict(&query), array![0, 1]);
        // Three nearest of (9, 9): the two class-1 points and (1, 0) or (0, 1).
        let p = model.predict_proba(&query);
        assert!((p[[1, 1]] - 2.0 / 3.0).abs() < 1e-12);
        assert!((p[[0, 0]] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn k_larger_than_the_data_is_an_error() {
        let data = Dataset::new(array![[0.0], [1.0]], array![0usize, 1]);
        assert!(KNeighbors { k: 3 }.fit(&data).is_err());
        assert!(KNeighbors { k: 0 }.fit(&data).is_err());
    }
}
