//! The Rust-data-stack (`examples/stack/`), machine-learning fundamentals (`examples/ml/`),
//! scikit-learn → linfa (`examples/sklearn/`) and most common-question lessons
//! (`examples/questions/`): the lessons that need linfa, polars and the toolkit together.
//!
//! The lessons are this package's examples; what they share lives in the crates they use
//! (`toolkit`, `datasets`, `lessons-arrays`, `lessons-frames`), so this library holds no code.
