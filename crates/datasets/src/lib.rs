//! Typed loaders for the data sets bundled in `datasets/` (see `datasets/README.md` for origin and
//! licence), as ndarray matrices and plain vectors. A missing file or a malformed row is an
//! [`Error`] naming the file and the row.
//!
//! Two rules hold for every loader here:
//! - **Reader.** Files are read with the `csv` crate (gzip through flate2), never with polars, so
//!   that a lesson on arrays builds no data-frame engine; `lessons_frames::frame` reads the same
//!   files as polars DataFrames for the lessons that want one.
//! - **Class numbers.** Classes are numbered in the sorted order of their labels: numerically when
//!   every label is an integer, alphabetically otherwise (scikit-learn's `LabelEncoder` order).
//!   A missing cell (empty or `NA`) is NaN in a numeric column and `None` in a text column.

use std::io::Read;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};

/// The errors of the loaders. Each names the file (and row) it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // The cause is part of the message (and not a `source`: thiserror would treat a field of that name as one), so the error prints as one line.
    #[error("cannot read {path}: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("data set {path} is missing: copy it into datasets/ (see datasets/README.md)")]
    MissingData { path: PathBuf },
    /// `row` counts data rows from 1 (the header is line 1 of the file, so row r is line r + 1).
    #[error("{path}, row {row} (line {}): {message}", row + 1)]
    Malformed {
        path: PathBuf,
        row: usize,
        message: String,
    },
}

impl Error {
    /// An input/output error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            cause: source,
        }
    }
}

/// The folder of bundled data sets: `datasets/` in the workspace, or `WORKBOOK_DATASETS`.
pub fn dir() -> PathBuf {
    match std::env::var_os("WORKBOOK_DATASETS") {
        Some(dir) => PathBuf::from(dir),
        None => catalogue::workspace_root().join("datasets"),
    }
}

/// The path of a bundled file, checked to exist.
pub fn path(file: &str) -> Result<PathBuf, Error> {
    let path = dir().join(file);
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::MissingData { path })
    }
}

/// A classification data set: a feature matrix (one row per sample) and class indices.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub name: String,
    pub feature_names: Vec<String>,
    pub features: Array2<f64>,
    /// Class index of each row, into `classes`.
    pub target: Array1<usize>,
    pub classes: Vec<String>,
}

/// A regression data set: a feature matrix and a numeric target.
#[derive(Debug, Clone)]
pub struct Regression {
    pub name: String,
    pub feature_names: Vec<String>,
    pub features: Array2<f64>,
    pub target: Array1<f64>,
}

/// Fisher's iris: 150 × 4, three species.
pub fn iris() -> Result<Labelled, Error> {
    labelled("iris.csv", "species")
}

/// Wine chemistry: 178 × 13, three cultivars.
pub fn wine() -> Result<Labelled, Error> {
    labelled("wine.csv", "target")
}

/// Wisconsin diagnostic breast cancer: 569 × 30; class 0 is malignant, 1 benign.
pub fn breast_cancer() -> Result<Labelled, Error> {
    labelled("breast_cancer.csv", "target")
}

/// Handwritten digits: 1797 × 64 pixels (0–16) of 8 × 8 images, classes 0–9.
pub fn digits() -> Result<Labelled, Error> {
    labelled("digits.csv.gz", "target")
}

/// Diabetes progression: 442 × 10 unscaled features and a numeric target.
pub fn diabetes() -> Result<Regression, Error> {
    let table = numeric_table("diabetes.csv", "target")?;
    let target = table
        .target
        .iter()
        .enumerate()
        .map(|(i, v)| parse_number(&table.path, i + 1, "target", v))
        .collect::<Result<Array1<f64>, Error>>()?;
    Ok(Regression {
        name: "diabetes".into(),
        feature_names: table.feature_names,
        features: table.features,
        target,
    })
}

/// A table of numeric and categorical columns in one `f64` matrix, as a scikit-learn
/// `ColumnTransformer` receives it: categorical columns hold integer codes into `levels`, and a
/// missing cell is NaN.
#[derive(Debug, Clone)]
pub struct Mixed {
    pub name: String,
    pub numeric: Vec<String>,
    pub categorical: Vec<String>,
    /// Numeric columns first, then categorical codes, in the order of the two name lists.
    pub features: Array2<f64>,
    /// The level names of each categorical column, indexed by code (sorted).
    pub levels: Vec<Vec<String>>,
    pub target: Array1<usize>,
    pub classes: Vec<String>,
}

/// Palmer penguins, all 344 birds: four measurements (NaN where missing), island and sex as
/// codes (sex NaN for the 11 birds without one), species as the target.
pub fn penguins() -> Result<Mixed, Error> {
    let table = TextTable::read("penguins.csv")?;
    let numeric = [
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
    ];
    let categorical = ["island", "sex"];
    let n = table.rows.len();
    let mut features = Array2::from_elem((n, numeric.len() + categorical.len()), f64::NAN);
    for (j, name) in numeric.iter().enumerate() {
        for (i, cell) in table.column(name)?.into_iter().enumerate() {
            if let Some(text) = cell {
                features[[i, j]] = parse_number(&table.path, i + 1, name, text)?;
            }
        }
    }
    let mut levels = Vec::new();
    for (k, name) in categorical.iter().enumerate() {
        let (names, coded) = codes(&table.column(name)?);
        for (i, c) in coded.iter().enumerate() {
            features[[i, numeric.len() + k]] = c.map_or(f64::NAN, |c| c as f64);
        }
        levels.push(names);
    }
    let (classes, species) = codes(&table.column("species")?);
    let target = species
        .iter()
        .enumerate()
        .map(|(i, c)| c.ok_or_else(|| table.malformed(i + 1, "no species".into())))
        .collect::<Result<Array1<usize>, Error>>()?;
    Ok(Mixed {
        name: "penguins".into(),
        numeric: numeric.iter().map(|s| s.to_string()).collect(),
        categorical: categorical.iter().map(|s| s.to_string()).collect(),
        features,
        levels,
        target,
        classes,
    })
}

/// A labelled text corpus: one document per row and its class index.
#[derive(Debug, Clone)]
pub struct Texts {
    pub name: String,
    pub documents: Vec<String>,
    /// Class index of each document, into `classes`.
    pub target: Array1<usize>,
    /// Class names, sorted.
    pub classes: Vec<String>,
}

/// 120 short customer-support messages written for this workbook, 40 each about billing,
/// delivery and the customer's account (`datasets/README.md`).
pub fn support_messages() -> Result<Texts, Error> {
    let table = TextTable::read("support_messages.csv")?;
    // Every message and every label must be present: a blank cell is an error naming its row.
    let complete = |name: &str| -> Result<Vec<String>, Error> {
        table
            .column(name)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                v.map(str::to_string)
                    .ok_or_else(|| table.malformed(i + 1, format!("empty {name}")))
            })
            .collect()
    };
    let documents = complete("text")?;
    let labels = complete("label")?;
    let (classes, coded) = codes(&labels.iter().map(|l| Some(l.as_str())).collect::<Vec<_>>());
    let target = coded.into_iter().map(|c| c.unwrap_or(0)).collect();
    Ok(Texts {
        name: "support messages".into(),
        documents,
        target,
        classes,
    })
}

/// A CSV file's cells as text, `None` where a cell is empty or `NA`.
struct TextTable {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
}

impl TextTable {
    fn read(file: &str) -> Result<TextTable, Error> {
        let path = path(file)?;
        TextTable::parse(&path, &open_text(&path)?)
    }

    /// The cells of a CSV text read from `path`; a row wider or narrower than the header is an
    /// error naming it.
    fn parse(path: &Path, text: &str) -> Result<TextTable, Error> {
        let malformed = |row: usize, message: String| Error::Malformed {
            path: path.to_path_buf(),
            row,
            message,
        };
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| malformed(0, format!("unreadable header: {e}")))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let record = record.map_err(|e| malformed(i + 1, e.to_string()))?;
            if record.len() != header.len() {
                return Err(malformed(
                    i + 1,
                    format!(
                        "{} fields where the header has {}",
                        record.len(),
                        header.len()
                    ),
                ));
            }
            rows.push(
                record
                    .iter()
                    .map(|cell| {
                        let cell = cell.trim();
                        (!cell.is_empty() && cell != "NA").then(|| cell.to_string())
                    })
                    .collect(),
            );
        }
        Ok(TextTable {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    fn column(&self, name: &str) -> Result<Vec<Option<&str>>, Error> {
        let at =
            self.header.iter().position(|h| h == name).ok_or_else(|| {
                self.malformed(0, format!("no column named {name:?} in the header"))
            })?;
        Ok(self.rows.iter().map(|row| row[at].as_deref()).collect())
    }

    fn malformed(&self, row: usize, message: String) -> Error {
        Error::Malformed {
            path: self.path.clone(),
            row,
            message,
        }
    }
}

/// Integer codes for text values by the crate's one rule (sorted labels, see the module
/// documentation): the sorted distinct values, and each value's index among them (None stays None).
fn codes(values: &[Option<&str>]) -> (Vec<String>, Vec<Option<usize>>) {
    let mut levels: Vec<&str> = values.iter().flatten().copied().collect();
    levels.sort();
    levels.dedup();
    let coded = values
        .iter()
        .map(|v| v.and_then(|v| levels.binary_search(&v).ok()))
        .collect();
    (levels.into_iter().map(str::to_string).collect(), coded)
}

/// The rows of a numeric CSV: every column but `target` parsed as f64; the target kept as text.
struct NumericTable {
    path: PathBuf,
    feature_names: Vec<String>,
    features: Array2<f64>,
    target: Vec<String>,
}

fn open_text(path: &Path) -> Result<String, Error> {
    let mut bytes = Vec::new();
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(file)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e))?;
    } else {
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::io(path, e))?;
    }
    String::from_utf8(bytes).map_err(|e| Error::Malformed {
        path: path.to_path_buf(),
        row: 0,
        message: format!("not UTF-8 text: {e}"),
    })
}

fn parse_number(path: &Path, row: usize, column: &str, text: &str) -> Result<f64, Error> {
    text.trim().parse::<f64>().map_err(|_| Error::Malformed {
        path: path.to_path_buf(),
        row,
        message: format!("column {column}: {text:?} is not a number"),
    })
}

fn numeric_table(file: &str, target: &str) -> Result<NumericTable, Error> {
    let path = path(file)?;
    parse_numeric_table(&path, &open_text(&path)?, target)
}

fn parse_numeric_table(path: &Path, text: &str, target: &str) -> Result<NumericTable, Error> {
    let table = TextTable::parse(path, text)?;
    if table.rows.is_empty() {
        return Err(table.malformed(1, "the file has a header but no rows".into()));
    }
    let targets = table
        .column(target)?
        .into_iter()
        .enumerate()
        .map(|(i, cell)| {
            cell.map(str::to_string)
                .ok_or_else(|| table.malformed(i + 1, format!("empty {target}")))
        })
        .collect::<Result<Vec<String>, Error>>()?;
    let feature_names: Vec<String> = table
        .header
        .iter()
        .filter(|h| *h != target)
        .cloned()
        .collect();
    let mut features = Array2::zeros((table.rows.len(), feature_names.len()));
    for (j, name) in feature_names.iter().enumerate() {
        for (i, cell) in table.column(name)?.into_iter().enumerate() {
            // Rows are counted from 1 for the first data row (line 2 of the file).
            features[[i, j]] = parse_number(path, i + 1, name, cell.unwrap_or_default())?;
        }
    }
    Ok(NumericTable {
        path: path.to_path_buf(),
        feature_names,
        features,
        target: targets,
    })
}

fn labelled(file: &str, target: &str) -> Result<Labelled, Error> {
    let table = numeric_table(file, target)?;
    let (target, classes) = encode_classes(&table.target);
    Ok(Labelled {
        name: file.split('.').next().unwrap_or(file).to_string(),
        feature_names: table.feature_names,
        features: table.features,
        target,
        classes,
    })
}

/// Class indices for labels by the crate's one rule: integer labels in numeric order (class `k` is
/// label `k`, so labels 0–9 stay 0–9), any other labels in sorted order.
fn encode_classes(labels: &[String]) -> (Array1<usize>, Vec<String>) {
    let numeric: Option<Vec<usize>> = labels.iter().map(|l| l.parse::<usize>().ok()).collect();
    if let Some(codes) = numeric {
        let k = codes.iter().max().map_or(0, |m| m + 1);
        return (Array1::from(codes), (0..k).map(|c| c.to_string()).collect());
    }
    let (classes, coded) = codes(&labels.iter().map(|l| Some(l.as_str())).collect::<Vec<_>>());
    (coded.into_iter().map(|c| c.unwrap_or(0)).collect(), classes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn support_messages_are_balanced_and_quoted_text_survives() {
        let t = support_messages().unwrap();
        assert_eq!(t.documents.len(), 120);
        assert_eq!(t.classes, vec!["account", "billing", "delivery"]);
        for c in 0..3 {
            assert_eq!(t.target.iter().filter(|&&k| k == c).count(), 40);
        }
        // The first message holds a comma inside its quotes; the CSV reader keeps it whole.
        assert_eq!(t.target[0], 1);
        assert_eq!(
            t.documents[0],
            "I was charged twice for the same order, please refund the second payment."
        );
    }

    #[test]
    fn penguins_keep_every_bird_with_codes_and_gaps() {
        let p = penguins().unwrap();
        assert_eq!(p.features.dim(), (344, 6));
        assert_eq!(p.classes, vec!["Adelie", "Chinstrap", "Gentoo"]);
        assert_eq!(p.levels[0], vec!["Biscoe", "Dream", "Torgersen"]);
        assert_eq!(p.levels[1], vec!["female", "male"]);
        // Two birds lack every measurement; eleven lack a sex.
        assert_eq!(
            p.features.column(0).iter().filter(|v| v.is_nan()).count(),
            2
        );
        assert_eq!(
            p.features.column(5).iter().filter(|v| v.is_nan()).count(),
            11
        );
        // The first bird: Adelie, Torgersen, male, bill 39.1 mm.
        assert_eq!(
            (
                p.target[0],
                p.features[[0, 4]],
                p.features[[0, 5]],
                p.features[[0, 0]]
            ),
            (0, 2.0, 1.0, 39.1)
        );
    }

    #[test]
    fn a_bad_number_names_file_row_and_column() {
        let text = "a,b,target\n1,2,x\n3,oops,y\n";
        let err = parse_numeric_table(Path::new("t.csv"), text, "target")
            .err()
            .expect("the second row is malformed");
        let message = err.to_string();
        assert!(message.contains("t.csv, row 2"), "{message}");
        assert!(message.contains("column b"), "{message}");
    }

    #[test]
    fn a_short_row_is_an_error() {
        let err = parse_numeric_table(Path::new("t.csv"), "a,target\n1,x\n2\n", "target")
            .err()
            .expect("the second row is short");
        assert!(err.to_string().contains("row 2"), "{err}");
    }

    #[test]
    fn text_classes_are_numbered_in_sorted_order() {
        let labels: Vec<String> = ["b", "a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let (codes, classes) = encode_classes(&labels);
        assert_eq!(codes.to_vec(), vec![1, 0, 1, 2]);
        assert_eq!(classes, vec!["a", "b", "c"]);
        let numbers: Vec<String> = ["10", "2", "0"].iter().map(|s| s.to_string()).collect();
        let (codes, _) = encode_classes(&numbers);
        assert_eq!(codes.to_vec(), vec![10, 2, 0]);
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = path("no_such_file.csv").expect_err("missing");
        assert!(err.to_string().contains("no_such_file.csv"));
    }

    #[test]
    fn bundled_sets_have_their_published_shapes() {
        let iris = iris().unwrap();
        assert_eq!(iris.features.dim(), (150, 4));
        assert_eq!(iris.classes, vec!["setosa", "versicolor", "virginica"]);
        assert_eq!(wine().unwrap().features.dim(), (178, 13));
        assert_eq!(breast_cancer().unwrap().features.dim(), (569, 30));
        assert_eq!(digits().unwrap().features.dim(), (1797, 64));
        assert_eq!(diabetes().unwrap().features.dim(), (442, 10));
    }
}
