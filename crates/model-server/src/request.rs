//! The request parser: a JSON body of named feature values, checked against the model's feature
//! schema, into the model's input matrix.
//!
//! A request is `{"rows": [{"feature": value, …}, …]}`. Numeric features take JSON numbers,
//! categorical features one of their level names as a string. Every problem is named by its
//! place in the request (`rows[2].sex`), so a client can fix its input without reading server
//! logs.

use ndarray::Array2;
use serde_json::Value;
use toolkit::artefact::{Feature, FeatureKind};

/// Why a body is refused; each maps to one HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The body is not JSON at all (400).
    #[error("malformed JSON: {0}")]
    Malformed(String),
    /// More rows than one request may carry (413).
    #[error("{rows} rows in one request; at most {limit} are accepted")]
    TooManyRows { rows: usize, limit: usize },
    /// JSON of the wrong shape or a value the schema refuses (422), named by its place.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

impl RequestError {
    fn invalid(field: impl Into<String>, message: impl Into<String>) -> RequestError {
        RequestError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The place in the request the error is about, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            RequestError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// Parses `body` into one row per request row, columns in `features` order, categorical levels
/// as their codes. At most `max_rows` rows are accepted.
pub fn parse_rows(
    features: &[Feature],
    body: &[u8],
    max_rows: usize,
) -> Result<Array2<f64>, RequestError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| RequestError::Malformed(e.to_string()))?;
    let Value::Object(mut top) = value else {
        return Err(RequestError::invalid(
            "body",
            format!(
                "expected an object with \"rows\", got {}",
                value_kind(&value)
            ),
        ));
    };
    if let Some(extra) = top.keys().find(|k| *k != "rows") {
        return Err(RequestError::invalid(
            extra.clone(),
            "unknown top-level field (only \"rows\" is accepted)",
        ));
    }
    let rows = match top.remove("rows") {
        Some(Value::Array(rows)) => rows,
        Some(other) => {
            return Err(RequestError::invalid(
                "rows",
                format!("expected an array of rows, got {}", value_kind(&other)),
            ));
        }
        None => return Err(RequestError::invalid("rows", "missing")),
    };
    if rows.is_empty() {
        return Err(RequestError::invalid("rows", "at least one row is needed"));
    }
    if rows.len() > max_rows {
        return Err(RequestError::TooManyRows {
            rows: rows.len(),
            limit: max_rows,
        });
    }
    let mut matrix = Array2::zeros((rows.len(), features.len()));
    for (i, row) in rows.iter().enumerate() {
        let Value::Object(row) = row else {
            return Err(RequestError::invalid(
                format!("rows[{i}]"),
                format!("expected an object, got {}", value_kind(row)),
            ));
        };
        if let Some(unknown) = row
            .keys()
            .find(|k| !features.iter().any(|f| f.name() == k.as_str()))
        {
            return Err(RequestError::invalid(
                format!("rows[{i}].{unknown}"),
                format!("not a feature of this model (it takes {})", names(features)),
            ));
        }
        for (j, feature) in features.iter().enumerate() {
            let field = || format!("rows[{i}].{}", feature.name());
            let value = row
                .get(feature.name())
                .ok_or_else(|| RequestError::invalid(field(), "missing"))?;
            matrix[[i, j]] = match (feature.kind(), value) {
                (FeatureKind::Numeric, Value::Number(n)) => {
                    let v = n
                        .as_f64()
                        .filter(|v| v.is_finite())
                        .ok_or_else(|| RequestError::invalid(field(), "not a finite number"))?;
                    if let Some((low, high)) = feature.accepted_range()
                        && !(low..=high).contains(&v)
                    {
                        return Err(RequestError::invalid(
                            field(),
                            format!(
                                "{} is outside the accepted range {} to {} (the training range widened by its width on each side)",
                                number(v),
                                number(low),
                                number(high)
                            ),
                        ));
                    }
                    v
                }
                (FeatureKind::Numeric, other) => {
                    return Err(RequestError::invalid(
                        field(),
                        format!("expected a number, got {}", value_kind(other)),
                    ));
                }
                (FeatureKind::Categorical { levels }, Value::String(level)) => {
                    feature.level_code(level).ok_or_else(|| {
                        RequestError::invalid(
                            field(),
                            format!("{level:?} is not one of {}", quoted(levels)),
                        )
                    })? as f64
                }
                (FeatureKind::Categorical { levels }, other) => {
                    return Err(RequestError::invalid(
                        field(),
                        format!(
                            "expected one of {} as a string, got {}",
                            quoted(levels),
                            value_kind(other)
                        ),
                    ));
                }
            };
        }
    }
    Ok(matrix)
}

fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A number as a person reads it: plain, or in scientific notation when very large or small.
fn number(v: f64) -> String {
    if v != 0.0 && !(1e-4..1e9).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

fn names(features: &[Feature]) -> String {
    features
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn quoted(levels: &[String]) -> String {
    levels
        .iter()
        .map(|l| format!("{l:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Vec<Feature> {
        vec![
            Feature::numeric("mass"),
            Feature::categorical("sex", &["female".to_string(), "male".to_string()]),
        ]
    }

    fn refuse(body: &str) -> RequestError {
        parse_rows(&schema(), body.as_bytes(), 3).unwrap_err()
    }

    #[test]
    fn rows_become_the_model_matrix() {
        let x = parse_rows(
            &schema(),
            br#"{"rows": [{"sex": "male", "mass": 4200.5}, {"mass": -1, "sex": "female"}]}"#,
            3,
        )
        .unwrap();
        assert_eq!(x, ndarray::array![[4200.5, 1.0], [-1.0, 0.0]]);
    }

    #[test]
    fn every_refusal_names_its_place() {
        assert!(matches!(
            refuse("{\"rows\": [}"),
            RequestError::Malformed(_)
        ));
        assert!(matches!(
            refuse(r#"{"rows": [{}, {}, {}, {}]}"#),
            RequestError::TooManyRows { rows: 4, limit: 3 }
        ));
        let cases = [
            (r#"[1, 2]"#, "body"),
            (r#"{"row": []}"#, "row"),
            (r#"{"rows": 3}"#, "rows"),
            (r#"{"rows": []}"#, "rows"),
            (r#"{"rows": [7]}"#, "rows[0]"),
            (r#"{"rows": [{"sex": "male"}]}"#, "rows[0].mass"),
            (
                r#"{"rows": [{"mass": 1, "sex": "male", "age": 3}]}"#,
                "rows[0].age",
            ),
            (
                r#"{"rows": [{"mass": "heavy", "sex": "male"}]}"#,
                "rows[0].mass",
            ),
            (r#"{"rows": [{"mass": 1, "sex": "other"}]}"#, "rows[0].sex"),
            (r#"{"rows": [{"mass": 1, "sex": 1}]}"#, "rows[0].sex"),
            (
                r#"{"rows": [{"mass": 1, "sex": "male"}, {"mass": null, "sex": "male"}]}"#,
                "rows[1].mass",
            ),
        ];
        for (body, field) in cases {
            assert_eq!(refuse(body).field(), Some(field), "{body}");
        }
    }
}
