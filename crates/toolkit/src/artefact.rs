//! A model artefact: a fitted pipeline saved with what is needed to trust it later.
//!
//! scikit-learn users save a pipeline with pickle or joblib, which stores the objects and runs
//! code from the file when it is loaded. A [`ModelArtefact`] is data only: the fitted column
//! transformer and multinomial logistic regression, and beside them its [`Metadata`] — a format
//! number, the model's version label, the versions of the code that trained it, the feature
//! schema a request must follow (names, kinds, the levels of each categorical feature), the class
//! names, a blake3 hash of the training data and the scores it was accepted with.
//!
//! A file is `MAGIC`, one byte naming the encoding (`T`: TOML text, `B`: CBOR binary), the
//! blake3 hash of the body, then the body. [`ModelArtefact::from_bytes`] refuses a file that is
//! not one, is damaged (the hash), is of another format, or whose parts disagree (a transformer
//! for other columns, weights for another width, a non-finite weight): a file that loads can
//! predict without panicking.

use linfa_logistic::MultiFittedLogisticRegression;
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::pipeline::{ColumnKind, FittedColumnTransformer, FittedPipeline, LearnedColumn};

/// The fitted model an artefact holds: column transformer, then multinomial logistic regression
/// over class indices.
pub type Classifier =
    FittedPipeline<FittedColumnTransformer, MultiFittedLogisticRegression<f64, usize>>;

/// The first bytes of every artefact file.
pub const MAGIC: &[u8; 8] = b"WBMODEL\0";
/// The layout of the body this code reads and writes.
pub const FORMAT: u32 = 1;
const HEADER: usize = MAGIC.len() + 1 + 32;

/// How the body of a file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// TOML: readable, diffable, exact for floats.
    Text,
    /// CBOR: compact and faster to parse.
    Binary,
}

impl Encoding {
    fn tag(self) -> u8 {
        match self {
            Encoding::Text => b'T',
            Encoding::Binary => b'B',
        }
    }
}

/// What a feature's values are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeatureKind {
    /// A number.
    Numeric,
    /// One of the named levels; the model sees the level's index.
    Categorical { levels: Vec<String> },
}

/// One named input of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    name: String,
    kind: FeatureKind,
    /// For a numeric feature, the values a request may give: the training range widened by its
    /// own width on each side (set by [`ModelArtefact::new`]).
    accepted: Option<(f64, f64)>,
}

impl Feature {
    pub fn numeric(name: &str) -> Feature {
        Feature {
            name: name.to_string(),
            kind: FeatureKind::Numeric,
            accepted: None,
        }
    }

    pub fn categorical(name: &str, levels: &[String]) -> Feature {
        Feature {
            name: name.to_string(),
            kind: FeatureKind::Categorical {
                levels: levels.to_vec(),
            },
            accepted: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn kind(&self) -> &FeatureKind {
        &self.kind
    }

    /// For a numeric feature, the lowest and highest value a request may give: the training
    /// range widened by its own width on each side. A value beyond it is nothing the model has
    /// seen anything like, and a service refuses it rather than extrapolate.
    pub fn accepted_range(&self) -> Option<(f64, f64)> {
        self.accepted
    }

    /// The code a categorical level stands for, if `level` is one of this feature's levels.
    pub fn level_code(&self, level: &str) -> Option<usize> {
        match &self.kind {
            FeatureKind::Categorical { levels } => levels.iter().position(|l| l == level),
            FeatureKind::Numeric => None,
        }
    }
}

/// Everything an artefact says about its model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    format: u32,
    version: String,
    trained_with: Vec<(String, String)>,
    features: Vec<Feature>,
    classes: Vec<String>,
    training_data: String,
    scores: Vec<(String, f64)>,
}

impl Metadata {
    /// The model's version label (a serving system's version number, say).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The names and versions of the code that trained the model.
    pub fn trained_with(&self) -> &[(String, String)] {
        &self.trained_with
    }

    /// The features a request must give, in the order of the model's input columns.
    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    /// The class names, indexed as [`ModelArtefact::probabilities`] orders its columns.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The blake3 hash (hex) of the training matrix and labels; see [`training_data_hash`].
    pub fn training_data(&self) -> &str {
        &self.training_data
    }

    /// The scores recorded with the model (test accuracy, say).
    pub fn scores(&self) -> &[(String, f64)] {
        &self.scores
    }

    /// One recorded score by name.
    pub fn score(&self, name: &str) -> Option<f64> {
        self.scores.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

/// A fitted model and its metadata, checked to agree with each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelArtefact {
    metadata: Metadata,
    model: Classifier,
}

/// The blake3 hash (hex) of a training matrix and its labels: every value's little-endian bytes,
/// row by row, then every label as a `u64`.
pub fn training_data_hash(x: &Array2<f64>, y: &Array1<usize>) -> String {
    let mut hasher = blake3::Hasher::new();
    for v in x.iter() {
        hasher.update(&v.to_le_bytes());
    }
    for &label in y.iter() {
        hasher.update(&(label as u64).to_le_bytes());
    }
    hasher.finalize().to_hex().to_string()
}

impl ModelArtefact {
    /// Wraps a model fitted on `x_train` and `y_train`. `features` must describe the
    /// transformer's columns in order (same names and kinds, every learned category code a
    /// level), `classes` the model's classes. The training data give the hash and each numeric
    /// feature's accepted range.
    pub fn new(
        version: &str,
        model: Classifier,
        mut features: Vec<Feature>,
        classes: Vec<String>,
        x_train: &Array2<f64>,
        y_train: &Array1<usize>,
    ) -> Result<ModelArtefact, Error> {
        if x_train.ncols() != features.len() {
            return Err(Error::Schema(format!(
                "{} features for {} training columns",
                features.len(),
                x_train.ncols()
            )));
        }
        for (feature, values) in features.iter_mut().zip(x_train.columns()) {
            if feature.kind == FeatureKind::Numeric {
                let (low, high) = values
                    .iter()
                    .filter(|v| v.is_finite())
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                        (lo.min(v), hi.max(v))
                    });
                let width = high - low;
                feature.accepted = Some((low - width, high + width));
            }
        }
        let training_data = training_data_hash(x_train, y_train);
        let artefact = ModelArtefact {
            metadata: Metadata {
                format: FORMAT,
                version: version.to_string(),
                trained_with: vec![("toolkit".to_string(), env!("CARGO_PKG_VERSION").to_string())],
                features,
                classes,
                training_data,
                scores: Vec::new(),
            },
            model,
        };
        artefact.check()?;
        Ok(artefact)
    }

    /// Records the name and version of a piece of code that trained the model.
    pub fn trained_with(mut self, name: &str, version: &str) -> ModelArtefact {
        self.metadata
            .trained_with
            .push((name.to_string(), version.to_string()));
        self
    }

    /// Records a score the model was accepted with; a non-finite score is refused.
    pub fn with_score(mut self, name: &str, value: f64) -> Result<ModelArtefact, Error> {
        if !value.is_finite() {
            return Err(Error::NotFinite("scores"));
        }
        self.metadata.scores.push((name.to_string(), value));
        Ok(self)
    }

    /// The same model under another version label.
    pub fn relabelled(mut self, version: &str) -> ModelArtefact {
        self.metadata.version = version.to_string();
        self
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    pub fn model(&self) -> &Classifier {
        &self.model
    }

    /// The file's bytes: header, hash and body in the chosen encoding.
    pub fn to_bytes(&self, encoding: Encoding) -> Result<Vec<u8>, Error> {
        let body = match encoding {
            Encoding::Text => toml::to_string(self)
                .map_err(|e| Error::Artefact(format!("cannot encode as TOML: {e}")))?
                .into_bytes(),
            Encoding::Binary => {
                let mut out = Vec::new();
                ciborium::into_writer(self, &mut out)
                    .map_err(|e| Error::Artefact(format!("cannot encode as CBOR: {e}")))?;
                out
            }
        };
        let mut file = Vec::with_capacity(HEADER + body.len());
        file.extend_from_slice(MAGIC);
        file.push(encoding.tag());
        file.extend_from_slice(blake3::hash(&body).as_bytes());
        file.extend_from_slice(&body);
        Ok(file)
    }

    /// Reads a file's bytes back, refusing anything that is not a whole, undamaged artefact of
    /// this format whose parts agree.
    pub fn from_bytes(bytes: &[u8]) -> Result<ModelArtefact, Error> {
        if bytes.len() < HEADER || &bytes[..MAGIC.len()] != MAGIC {
            return Err(Error::Artefact("not a workbook model file".into()));
        }
        let tag = bytes[MAGIC.len()];
        let (stored, body) = bytes[MAGIC.len() + 1..].split_at(32);
        if blake3::hash(body).as_bytes() != stored {
            return Err(Error::Artefact(
                "the file is damaged: its checksum does not match its contents".into(),
            ));
        }
        let artefact: ModelArtefact = match tag {
            b'T' => {
                let text = std::str::from_utf8(body)
                    .map_err(|_| Error::Artefact("the text body is not UTF-8".into()))?;
                toml::from_str(text).map_err(|e| {
                    Error::Artefact(format!("cannot read the TOML body: {}", e.message()))
                })?
            }
            b'B' => ciborium::from_reader(body)
                .map_err(|e| Error::Artefact(format!("cannot read the CBOR body: {e}")))?,
            other => {
                return Err(Error::Artefact(format!(
                    "unknown encoding byte 0x{other:02x}"
                )));
            }
        };
        if artefact.metadata.format != FORMAT {
            return Err(Error::Artefact(format!(
                "model format {} is not {FORMAT}, the format this code reads",
                artefact.metadata.format
            )));
        }
        artefact.check()?;
        Ok(artefact)
    }

    /// Class probabilities, one row per row of `x` and one column per class in
    /// [`Metadata::classes`] order. `x` holds the features in schema order, categorical ones as
    /// level codes; a wrong width is an error.
    pub fn probabilities(&self, x: &Array2<f64>) -> Result<Array2<f64>, Error> {
        let transformed = self.model.pre.try_transform(x)?;
        let by_model = self.model.model.predict_probabilities(&transformed);
        let mut out = Array2::zeros((x.nrows(), self.metadata.classes.len()));
        for (j, &class) in self.model.model.classes().iter().enumerate() {
            out.column_mut(class).assign(&by_model.column(j));
        }
        if out.iter().all(|p| p.is_finite()) {
            Ok(out)
        } else {
            Err(Error::NotFinite("predicted probabilities"))
        }
    }

    /// The most probable class index of each row.
    pub fn predict(&self, x: &Array2<f64>) -> Result<Array1<usize>, Error> {
        Ok(crate::argmax_rows(&self.probabilities(x)?))
    }

    /// Checks that the metadata and the model agree, so that prediction cannot panic.
    fn check(&self) -> Result<(), Error> {
        let inconsistent = |what: String| Err(Error::Artefact(format!("inconsistent: {what}")));
        let (meta, pre, model) = (&self.metadata, &self.model.pre, &self.model.model);
        if meta.features.is_empty() {
            return inconsistent("the schema has no features".into());
        }
        for (i, feature) in meta.features.iter().enumerate() {
            if meta.features[..i].iter().any(|f| f.name == feature.name) {
                return inconsistent(format!("feature {:?} appears twice", feature.name));
            }
        }
        if pre.columns.len() != meta.features.len() || pre.learned.len() != meta.features.len() {
            return inconsistent(format!(
                "the schema has {} features, the transformer {} columns and {} learned columns",
                meta.features.len(),
                pre.columns.len(),
                pre.learned.len()
            ));
        }
        let mut width = 0usize;
        for ((feature, column), learned) in meta.features.iter().zip(&pre.columns).zip(&pre.learned)
        {
            if feature.name != column.name {
                return inconsistent(format!(
                    "feature {:?} meets transformer column {:?}",
                    feature.name, column.name
                ));
            }
            match (&feature.kind, column.kind, learned) {
                (FeatureKind::Numeric, ColumnKind::Numeric, LearnedColumn::Scale { mean, sd }) => {
                    let bounded = feature
                        .accepted
                        .is_some_and(|(lo, hi)| lo.is_finite() && hi.is_finite() && lo <= hi);
                    if !bounded {
                        return inconsistent(format!(
                            "numeric feature {:?} has no finite accepted range",
                            feature.name
                        ));
                    }
                    if !mean.is_finite() || !sd.is_finite() || *sd <= 0.0 {
                        return inconsistent(format!(
                            "feature {:?} has mean {mean} and SD {sd}",
                            feature.name
                        ));
                    }
                    width += 1;
                }
                (
                    FeatureKind::Categorical { levels },
                    ColumnKind::Categorical,
                    LearnedColumn::OneHot { codes },
                ) if feature.accepted.is_none() => {
                    let in_order = codes.windows(2).all(|w| w[0] < w[1]);
                    let known = codes
                        .iter()
                        .all(|&c| usize::try_from(c).is_ok_and(|c| c < levels.len()));
                    if !in_order || !known {
                        return inconsistent(format!(
                            "feature {:?} has codes {codes:?} for {} levels",
                            feature.name,
                            levels.len()
                        ));
                    }
                    width += codes.len();
                }
                _ => {
                    return inconsistent(format!(
                        "feature {:?} is not of the kind its transformer column learned",
                        feature.name
                    ));
                }
            }
        }
        let (params, intercept) = (model.params(), model.intercept());
        let classes = meta.classes.len();
        if params.nrows() != width
            || params.ncols() != intercept.len()
            || model.classes().len() != params.ncols()
        {
            return inconsistent(format!(
                "the transformer gives {width} columns, the weights are {}×{} with {} intercepts and {} classes",
                params.nrows(),
                params.ncols(),
                intercept.len(),
                model.classes().len()
            ));
        }
        let mut seen = vec![false; classes];
        for &class in model.classes() {
            match seen.get_mut(class) {
                Some(slot) if !*slot => *slot = true,
                _ => {
                    return inconsistent(format!(
                        "the model's classes {:?} are not indices of {classes} class names",
                        model.classes()
                    ));
                }
            }
        }
        if seen.contains(&false) {
            return inconsistent(format!(
                "{classes} class names for {} model classes",
                model.classes().len()
            ));
        }
        if !params.iter().chain(intercept.iter()).all(|w| w.is_finite()) {
            return Err(Error::NotFinite("model weights"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{Column, ColumnTransformer, Pipeline};
    use linfa::ParamGuard;
    use linfa::prelude::*;
    use linfa_logistic::MultiLogisticRegression;
    use ndarray::array;

    fn fitted() -> (ModelArtefact, Array2<f64>) {
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
            MultiLogisticRegression::default().check().unwrap(),
        );
        let model = pipeline.fit(&Dataset::new(x.clone(), y.clone())).unwrap();
        let levels: Vec<String> = ["red", "green", "blue"].map(String::from).to_vec();
        let artefact = ModelArtefact::new(
            "1",
            model,
            vec![
                Feature::numeric("size"),
                Feature::categorical("colour", &levels),
            ],
            ["small", "medium", "large"].map(String::from).to_vec(),
            &x,
            &y,
        )
        .unwrap();
        (artefact, x)
    }

    #[test]
    fn both_encodings_round_trip_to_identical_probabilities() {
        let (artefact, x) = fitted();
        let before = artefact.probabilities(&x).unwrap();
        assert_eq!(
            artefact.predict(&x).unwrap(),
            array![0, 0, 0, 1, 1, 1, 2, 2, 2]
        );
        // The size feature saw 0.8 to 5.2, so requests may give -3.6 to 9.6.
        let range = artefact.metadata().features()[0].accepted_range().unwrap();
        assert!((range.0 + 3.6).abs() < 1e-12 && (range.1 - 9.6).abs() < 1e-12);
        for encoding in [Encoding::Text, Encoding::Binary] {
            let back = ModelArtefact::from_bytes(&artefact.to_bytes(encoding).unwrap()).unwrap();
            assert_eq!(back, artefact);
            let after = back.probabilities(&x).unwrap();
            assert!(
                before
                    .iter()
                    .zip(&after)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
    }

    #[test]
    fn damaged_or_foreign_files_are_refused() {
        let (artefact, _) = fitted();
        let bytes = artefact.to_bytes(Encoding::Binary).unwrap();
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let message = |b: &[u8]| ModelArtefact::from_bytes(b).unwrap_err().to_string();
        assert!(message(&flipped).contains("damaged"));
        assert!(message(&bytes[..20]).contains("not a workbook model"));
        assert!(message(b"hello, this is not a model at all, not at all").contains("not a"));
    }

    #[test]
    fn a_file_whose_parts_disagree_is_refused_even_with_a_good_checksum() {
        let (artefact, _) = fitted();
        // Another format number, and a schema that names a third feature: each is re-hashed,
        // so only the checks after decoding can refuse them.
        let text = String::from_utf8(artefact.to_bytes(Encoding::Text).unwrap()[HEADER..].to_vec())
            .unwrap();
        let rehash = |body: String| {
            let mut file = MAGIC.to_vec();
            file.push(b'T');
            file.extend_from_slice(blake3::hash(body.as_bytes()).as_bytes());
            file.extend_from_slice(body.as_bytes());
            ModelArtefact::from_bytes(&file).unwrap_err().to_string()
        };
        assert!(rehash(text.replacen("format = 1", "format = 2", 1)).contains("format 2"));
        let renamed = text.replacen("name = \"size\"", "name = \"weight\"", 1);
        assert!(rehash(renamed).contains("inconsistent"));
    }

    #[test]
    fn a_wrong_width_is_an_error_not_a_panic() {
        let (artefact, _) = fitted();
        assert!(matches!(
            artefact.probabilities(&array![[1.0, 0.0, 3.0]]),
            Err(crate::Error::Schema(_))
        ));
    }
}
