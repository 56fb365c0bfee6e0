//! The majority-class baseline (scikit-learn's `DummyClassifier(strategy="most_frequent")`): a
//! model that ignores the features and always predicts the commonest training class. Written as
//! a linfa model so that it is cross-validated and scored exactly like the models it is compared
//! with, fitted on each fold's training rows only.

use linfa::prelude::*;
use ndarray::{Array1, Array2};

use crate::Error;

/// The majority-class baseline's (empty) hyper-parameters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MostFrequent;

/// The class the baseline always predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FittedMostFrequent {
    pub class: usize,
}

impl Fit<Array2<f64>, Array1<usize>, Error> for MostFrequent {
    type Object = FittedMostFrequent;

    /// The commonest class of the training targets; a tie goes to the lower class index.
    fn fit(
        &self,
        data: &DatasetBase<Array2<f64>, Array1<usize>>,
    ) -> Result<FittedMostFrequent, Error> {
        let y = data.targets();
        let mut count = vec![0usize; y.iter().max().map_or(0, |m| m + 1)];
        for &c in y {
            count[c] += 1;
        }
        let class = (0..count.len())
            .max_by(|&a, &b| count[a].cmp(&count[b]).then(b.cmp(&a)))
            .ok_or(Error::Empty)?;
        Ok(FittedMostFrequent { class })
    }
}

impl<'a> Predict<&'a Array2<f64>, Array1<usize>> for FittedMostFrequent {
    fn predict(&self, x: &'a Array2<f64>) -> Array1<usize> {
        Array1::from_elem(x.nrows(), self.class)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn predicts_the_commonest_training_class_ties_to_the_lower() {
        let x = Array2::zeros((5, 1));
        let fitted = MostFrequent
            .fit(&DatasetBase::new(x.clone(), array![2, 0, 2, 1, 2]))
            .unwrap();
        assert_eq!(fitted.predict(&Array2::zeros((3, 1))), array![2, 2, 2]);
        let tie = MostFrequent
            .fit(&DatasetBase::new(Array2::zeros((4, 1)), array![1, 0, 0, 1]))
            .unwrap();
        assert_eq!(tie.class, 0);
        let empty = DatasetBase::new(Array2::zeros((0, 1)), Array1::<usize>::zeros(0));
        assert!(matches!(MostFrequent.fit(&empty), Err(Error::Empty)));
    }
}
