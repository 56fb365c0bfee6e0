//! A small fitted artefact with a numeric and a categorical feature, shared by the targets.

use linfa::ParamGuard;
use linfa::prelude::*;
use linfa_logistic::MultiLogisticRegression;
use ndarray::array;
use toolkit::artefact::{Feature, ModelArtefact};
use toolkit::pipeline::{Column, ColumnTransformer, Pipeline};

pub fn artefact() -> ModelArtefact {
    let x = array![
        [1.0, 0.0],
        [1.2, 0.0],
        [0.8, 1.0],
        [3.0, 1.0],
        [3.3, 2.0],
        [2.9, 2.0],
        [5.0, 2.0],
        [5.2, 1.0],
        [4.9, 0.0]
    ];
    let y = array![0usize, 0, 0, 1, 1, 1, 2, 2, 2];
    let pipeline = Pipeline::new(
        ColumnTransformer {
            columns: vec![Column::numeric("size"), Column::categorical("colour")],
        },
        MultiLogisticRegression::default().check().expect("valid parameters"),
    );
    let model = pipeline
        .fit(&Dataset::new(x.clone(), y.clone()))
        .expect("the model fits");
    let levels: Vec<String> = ["red", "green", "blue"].map(String::from).to_vec();
    ModelArtefact::new(
        "1",
        model,
        vec![Feature::numeric("size"), Feature::categorical("colour", &levels)],
        ["small", "medium", "large"].map(String::from).to_vec(),
        &x,
        &y,
    )
    .expect("a consistent artefact")
}
