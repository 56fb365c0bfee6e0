//! Typed loaders for the data sets bundled in `datasets/` (see `datasets/README.md` for origin and
//! licence). A missing file or a malformed row is an [`Error`] naming the file and the row.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use polars::prelude::*;

use crate::Error;

/// The folder of bundled data sets: `datasets/` in the workspace, or `WORKBOOK_DATASETS`.
pub fn dir() -> PathBuf {
    match std::env::var_os("WORKBOOK_DATASETS") {
        Some(dir) => PathBuf::from(dir),
        None => crate::workspace_root().join("datasets"),
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
    let file = "penguins.csv";
    let frame = frame(file)?;
    let path = path(file)?;
    let fail = |message: String| Error::Frame {
        path: path.clone(),
        message,
    };
    let numeric = [
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
    ];
    let categorical = ["island", "sex"];
    let n = frame.height();
    let mut features = Array2::from_elem((n, numeric.len() + categorical.len()), f64::NAN);
    for (j, name) in numeric.iter().enumerate() {
        let values = frame
            .column(name)
            .and_then(|c| c.cast(&DataType::Float64))
            .map_err(|e| fail(e.to_string()))?;
        for (i, v) in values
            .f64()
            .map_err(|e| fail(e.to_string()))?
            .iter()
            .enumerate()
        {
            features[[i, j]] = v.unwrap_or(f64::NAN);
        }
    }
    let text = |name: &str| text_column(&frame, &path, name);
    let mut levels = Vec::new();
    for (k, name) in categorical.iter().enumerate() {
        let (names, coded) = codes(&text(name)?);
        for (i, c) in coded.iter().enumerate() {
            features[[i, numeric.len() + k]] = c.map_or(f64::NAN, |c| c as f64);
        }
        levels.push(names);
    }
    let (classes, species) = codes(&text("species")?);
    let target = species
        .iter()
        .enumerate()
        .map(|(i, c)| c.ok_or_else(|| fail(format!("row {}: no species", i + 1))))
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
    let file = "support_messages.csv";
    let frame = frame(file)?;
    let path = path(file)?;
    let fail = |message: String| Error::Frame {
        path: path.clone(),
        message,
    };
    // Every message and every label must be present: a blank cell is an error naming its row.
    let complete = |name: &str| -> Result<Vec<String>, Error> {
        text_column(&frame, &path, name)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                v.filter(|v| !v.trim().is_empty())
                    .ok_or_else(|| fail(format!("row {}: empty {name}", i + 1)))
            })
            .collect()
    };
    let documents = complete("text")?;
    let (classes, coded) = codes(&complete("label")?.into_iter().map(Some).collect::<Vec<_>>());
    let target = coded.into_iter().map(|c| c.unwrap_or(0)).collect();
    Ok(Texts {
        name: "support messages".into(),
        documents,
        target,
        classes,
    })
}

/// A text column of `frame` (read from `path`), None where a cell is missing.
fn text_column(frame: &DataFrame, path: &Path, name: &str) -> Result<Vec<Option<String>>, Error> {
    let fail = |e: PolarsError| Error::Frame {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    Ok(frame
        .column(name)
        .map_err(fail)?
        .str()
        .map_err(fail)?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// Integer codes for text values: the sorted distinct values, and each value's index among them
/// (None stays None).
fn codes(values: &[Option<String>]) -> (Vec<String>, Vec<Option<usize>>) {
    let mut levels: Vec<String> = values.iter().flatten().cloned().collect();
    levels.sort();
    levels.dedup();
    let coded = values
        .iter()
        .map(|v| v.as_ref().and_then(|v| levels.binary_search(v).ok()))
        .collect();
    (levels, coded)
}

/// Reads a bundled CSV or Parquet file into a polars DataFrame (nulls where the file has `NA` or
/// nothing).
pub fn frame(file: &str) -> Result<DataFrame, Error> {
    let path = path(file)?;
    let to_error = |e: PolarsError| Error::Frame {
        path: path.clone(),
        message: e.to_string(),
    };
    if file.ends_with(".parquet") {
        let handle = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        ParquetReader::new(handle).finish().map_err(to_error)
    } else {
        // Types are inferred from the whole file: the weather table's first rows hold only whole
        // numbers in a column that later has decimals.
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(None)
            .map_parse_options(|o| {
                o.with_null_values(Some(NullValues::AllColumnsSingle("NA".into())))
            })
            .try_into_reader_with_file_path(Some(path.clone()))
            .and_then(|r| r.finish())
            .map_err(to_error)
    }
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
    let target_at = header
        .iter()
        .position(|h| h == target)
        .ok_or_else(|| malformed(0, format!("no column named {target:?} in the header")))?;
    let feature_names: Vec<String> = header
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != target_at)
        .map(|(_, h)| h.clone())
        .collect();
    let width = feature_names.len();
    let mut values = Vec::new();
    let mut targets = Vec::new();
    for (i, record) in reader.records().enumerate() {
        // Rows are counted from 1 for the first data row (line 2 of the file).
        let row = i + 1;
        let record = record.map_err(|e| malformed(row, e.to_string()))?;
        if record.len() != header.len() {
            return Err(malformed(
                row,
                format!(
                    "{} fields where the header has {}",
                    record.len(),
                    header.len()
                ),
            ));
        }
        for (j, field) in record.iter().enumerate() {
            if j == target_at {
                targets.push(field.trim().to_string());
            } else {
                values.push(parse_number(path, row, &header[j], field)?);
            }
        }
    }
    if targets.is_empty() {
        return Err(malformed(1, "the file has a header but no rows".into()));
    }
    let features = Array2::from_shape_vec((targets.len(), width), values)
        .expect("every row was checked to have the header's width");
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

/// Class indices for labels: integer labels keep their numeric order, text labels the order in
/// which they first appear (as scikit-learn's bundled copies number them).
fn encode_classes(labels: &[String]) -> (Array1<usize>, Vec<String>) {
    let numeric: Option<Vec<usize>> = labels.iter().map(|l| l.parse::<usize>().ok()).collect();
    if let Some(codes) = numeric {
        let k = codes.iter().max().map_or(0, |m| m + 1);
        return (Array1::from(codes), (0..k).map(|c| c.to_string()).collect());
    }
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut classes = Vec::new();
    let codes = labels
        .iter()
        .map(|l| {
            *index.entry(l.as_str()).or_insert_with(|| {
                classes.push(l.clone());
                classes.len() - 1
            })
        })
        .collect();
    (codes, classes)
}

/// Linear interpolation of the nulls in `column` as a polars expression, with `position` (a
/// numeric expression: a row index or a time) as the x axis: each null gets the straight line
/// between the nearest known values before and after it; nulls before the first or after the last
/// known value stay null. (polars' own `interpolate` sits behind a crate feature this workspace
/// does not build; this is the same computation from forward and backward fills.)
pub fn interpolate_linear(column: &str, position: Expr) -> Expr {
    let known = col(column).is_not_null();
    let fill = |e: Expr, forward: bool| {
        e.fill_null_with_strategy(if forward {
            FillNullStrategy::Forward(None)
        } else {
            FillNullStrategy::Backward(None)
        })
    };
    let at = when(known.clone())
        .then(position.clone())
        .otherwise(lit(NULL))
        .cast(DataType::Float64);
    let (prev_v, next_v) = (fill(col(column), true), fill(col(column), false));
    let (prev_x, next_x) = (fill(at.clone(), true), fill(at, false));
    let gap = next_x.clone() - prev_x.clone();
    let line = prev_v.clone()
        + (next_v - prev_v) * (position.cast(DataType::Float64) - prev_x) / gap.clone();
    when(known).then(col(column)).otherwise(line).alias(column)
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
    fn linear_interpolation_fills_inner_gaps_only() {
        let df = df!("v" => [None, Some(1.0), None, None, Some(4.0), None], "t" => [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        let out = df
            .lazy()
            .select([interpolate_linear("v", col("t"))])
            .collect()
            .unwrap();
        let v: Vec<Option<f64>> = out
            .column("v")
            .unwrap()
            .f64()
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(
            v,
            vec![None, Some(1.0), Some(2.0), Some(3.0), Some(4.0), None]
        );
        // Uneven positions: the line follows x, not the row count.
        let df = df!("v" => [Some(0.0), None, Some(10.0)], "t" => [0.0, 9.0, 10.0]).unwrap();
        let out = df
            .lazy()
            .select([interpolate_linear("v", col("t"))])
            .collect()
            .unwrap();
        assert_eq!(out.column("v").unwrap().f64().unwrap().get(1), Some(9.0));
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
    fn text_classes_keep_first_appearance_order() {
        let labels: Vec<String> = ["b", "a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let (codes, classes) = encode_classes(&labels);
        assert_eq!(codes.to_vec(), vec![0, 1, 0, 2]);
        assert_eq!(classes, vec!["b", "a", "c"]);
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
        let penguins = frame("penguins.csv").unwrap();
        assert_eq!(penguins.height(), 344);
        assert_eq!(penguins.column("sex").unwrap().null_count(), 11);
    }
}
