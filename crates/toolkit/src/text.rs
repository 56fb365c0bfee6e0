//! Text features: scikit-learn's `CountVectorizer` + `TfidfTransformer`, on top of
//! linfa-preprocessing's tokeniser and counts.
//!
//! linfa-preprocessing 0.8 has both vectorisers, with two differences that matter in a pipeline:
//!
//! * Its vocabulary comes out in hash-map order, so the column of a word changes from one fit to
//!   the next. [`count_vectorizer`] counts with linfa and renumbers the columns, so column `j` is
//!   the `j`-th word in sorted order on every run.
//! * Its `TfIdfVectorizer` learns no document frequencies at fit time: every `transform` counts
//!   them again over the documents it is given, so a message's weights depend on which other
//!   messages share its batch, and a single message gets every IDF equal to one. It also leaves
//!   rows unnormalised. [`TfIdf`] learns the IDF from the training counts and applies it to any
//!   batch, then scales each row to unit length, as scikit-learn does by default.
//! * linfa-bayes 0.8.1's `MultinomialNb` predicts correctly but prints every class's histogram
//!   to standard error on every fit (a `dbg!` left in its fit), about 1.5 MB for one run of the
//!   feature_extraction lesson. [`MultinomialNb`] is the same model, quiet; a test checks that
//!   both predict alike.

use linfa::prelude::*;
use linfa_preprocessing::CountVectorizer;
use linfa_preprocessing::CountVectorizerParams;
use ndarray::{Array1, Array2, ArrayView1, Axis};
use serde::{Deserialize, Serialize};
use sprs::CsMat;

use crate::Error;

/// A fitted count vectoriser: linfa's tokeniser and counts, with the columns in sorted word
/// order. linfa numbers its vocabulary in hash-map order, which differs from one fit to the next
/// (even on the same documents); this keeps linfa's counting and renumbers its columns.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    inner: CountVectorizer,
    words: Vec<String>,
    /// The sorted column of each of linfa's columns.
    sorted_column: Vec<usize>,
}

/// Learns the vocabulary of `documents` with linfa's `params` (tokeniser, case, n-grams,
/// document-frequency limits, stop words).
pub fn count_vectorizer(
    params: &CountVectorizerParams,
    documents: &[String],
) -> Result<Vocabulary, Error> {
    let inner = params
        .fit(&ArrayView1::from(documents))
        .map_err(|e| Error::Model(e.to_string()))?;
    let linfa_order = inner.vocabulary();
    if linfa_order.is_empty() {
        return Err(Error::Empty);
    }
    let mut by_word: Vec<usize> = (0..linfa_order.len()).collect();
    by_word.sort_unstable_by(|&a, &b| linfa_order[a].cmp(&linfa_order[b]));
    let mut sorted_column = vec![0; by_word.len()];
    for (sorted, &linfa) in by_word.iter().enumerate() {
        sorted_column[linfa] = sorted;
    }
    let words = by_word.iter().map(|&i| linfa_order[i].clone()).collect();
    Ok(Vocabulary {
        inner,
        words,
        sorted_column,
    })
}

impl Vocabulary {
    /// The words, in column order (sorted).
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// linfa's own vectoriser, with its own column order.
    pub fn linfa(&self) -> &CountVectorizer {
        &self.inner
    }

    /// A document × word matrix of counts (CSR), columns in [`Vocabulary::words`] order.
    /// Words outside the vocabulary are ignored.
    pub fn transform(&self, documents: &[String]) -> Result<CsMat<usize>, Error> {
        let counts = self
            .inner
            .transform(&ArrayView1::from(documents))
            .map_err(|e| Error::Model(e.to_string()))?;
        let mut indptr = Vec::with_capacity(counts.rows() + 1);
        let mut indices = Vec::with_capacity(counts.nnz());
        let mut data = Vec::with_capacity(counts.nnz());
        let mut row: Vec<(usize, usize)> = Vec::new();
        indptr.push(0);
        for document in counts.outer_iterator() {
            row.clear();
            row.extend(document.iter().map(|(j, &c)| (self.sorted_column[j], c)));
            row.sort_unstable();
            indices.extend(row.iter().map(|&(j, _)| j));
            data.extend(row.iter().map(|&(_, c)| c));
            indptr.push(indices.len());
        }
        CsMat::try_new((counts.rows(), self.words.len()), indptr, indices, data)
            .map_err(|(.., e)| Error::Model(e.to_string()))
    }
}

/// TF-IDF weighting of a document × term count matrix (scikit-learn's `TfidfTransformer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TfIdf {
    /// IDF = ln((1 + n) / (1 + df)) + 1, as if one extra document held every term; otherwise
    /// ln(n / df) + 1, which needs every term to occur in some training document.
    pub smooth_idf: bool,
    /// Use 1 + ln(count) instead of the count, so the tenth repeat of a word adds little.
    pub sublinear_tf: bool,
    /// Scale each row to unit Euclidean length, so long and short documents compare.
    pub l2_norm: bool,
}

impl Default for TfIdf {
    /// scikit-learn's defaults: smooth IDF, raw counts, unit rows.
    fn default() -> TfIdf {
        TfIdf {
            smooth_idf: true,
            sublinear_tf: false,
            l2_norm: true,
        }
    }
}

/// The inverse document frequency of every term, learned from training documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedTfIdf {
    pub settings: TfIdf,
    pub idf: Array1<f64>,
    /// How many training documents contain each term.
    pub document_frequency: Vec<usize>,
}

impl TfIdf {
    /// Learns each term's document frequency from `counts` (one row per training document).
    pub fn fit(&self, counts: &CsMat<usize>) -> Result<FittedTfIdf, Error> {
        let n = counts.rows();
        if n == 0 || counts.cols() == 0 {
            return Err(Error::Empty);
        }
        let mut df = vec![0usize; counts.cols()];
        for (&count, (_, term)) in counts.iter() {
            if count > 0 {
                df[term] += 1;
            }
        }
        let idf = df
            .iter()
            .enumerate()
            .map(|(term, &d)| {
                if self.smooth_idf {
                    Ok(((1.0 + n as f64) / (1.0 + d as f64)).ln() + 1.0)
                } else if d == 0 {
                    Err(Error::Parameter(format!(
                        "term {term} occurs in no training document; its unsmoothed IDF is infinite (use smooth_idf)"
                    )))
                } else {
                    Ok((n as f64 / d as f64).ln() + 1.0)
                }
            })
            .collect::<Result<Array1<f64>, Error>>()?;
        Ok(FittedTfIdf {
            settings: *self,
            idf,
            document_frequency: df,
        })
    }
}

impl FittedTfIdf {
    /// Weights `counts` (any number of documents, same vocabulary) with the learned IDF. Each
    /// row depends on its own document only.
    pub fn transform(&self, counts: &CsMat<usize>) -> Result<CsMat<f64>, Error> {
        if counts.cols() != self.idf.len() {
            return Err(Error::Schema(format!(
                "{} terms given, the IDF was learned for {}",
                counts.cols(),
                self.idf.len()
            )));
        }
        let sublinear = self.settings.sublinear_tf;
        let mut weights = counts.map(|&c| {
            if sublinear && c > 0 {
                1.0 + (c as f64).ln()
            } else {
                c as f64
            }
        });
        if !weights.is_csr() {
            weights = weights.to_csr();
        }
        for mut row in weights.outer_iterator_mut() {
            for (term, w) in row.iter_mut() {
                *w *= self.idf[term];
            }
            if self.settings.l2_norm {
                let norm = row.squared_l2_norm().sqrt();
                if norm > 0.0 {
                    row.map_inplace(|w| w / norm);
                }
            }
        }
        Ok(weights)
    }
}

/// Multinomial naive Bayes (scikit-learn's `MultinomialNB`): each class is a bag of words with
/// its own word probabilities, estimated from the class's total counts with `alpha` added to
/// every word (Laplace smoothing when 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MultinomialNb {
    pub alpha: f64,
}

/// A fitted multinomial naive Bayes model: log class priors and log word probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedMultinomialNb {
    /// ln P(class), one per class index.
    pub log_prior: Array1<f64>,
    /// ln P(word | class), classes × words.
    pub log_prob: Array2<f64>,
}

impl Fit<Array2<f64>, Array1<usize>, Error> for MultinomialNb {
    type Object = FittedMultinomialNb;

    fn fit(
        &self,
        data: &DatasetBase<Array2<f64>, Array1<usize>>,
    ) -> Result<FittedMultinomialNb, Error> {
        let (x, y) = (data.records(), data.targets());
        if !(self.alpha.is_finite() && self.alpha >= 0.0) {
            return Err(Error::Parameter(format!(
                "alpha = {} must be finite and ≥ 0",
                self.alpha
            )));
        }
        if x.nrows() != y.len() {
            return Err(Error::LengthMismatch(x.nrows(), y.len()));
        }
        if x.is_empty() {
            return Err(Error::Empty);
        }
        if x.iter().any(|&v| !(v.is_finite() && v >= 0.0)) {
            return Err(Error::Parameter(
                "multinomial naive Bayes needs finite, non-negative counts".into(),
            ));
        }
        let classes = y.iter().max().map_or(0, |m| m + 1);
        // One pass over the rows adds each document's counts to its class's total.
        let mut totals = Array2::<f64>::zeros((classes, x.ncols()));
        let mut members = vec![0.0; classes];
        for (row, &c) in x.rows().into_iter().zip(y) {
            totals.row_mut(c).scaled_add(1.0, &row);
            members[c] += 1.0;
        }
        let smoothed = totals + self.alpha;
        let sums = smoothed.sum_axis(Axis(1)).insert_axis(Axis(1));
        let log_prob = (smoothed / sums).mapv(f64::ln);
        let log_prior = members.iter().map(|&m| (m / y.len() as f64).ln()).collect();
        Ok(FittedMultinomialNb {
            log_prior,
            log_prob,
        })
    }
}

impl FittedMultinomialNb {
    /// ln P(class) + Σ count · ln P(word | class) for each row and class: one matrix product.
    pub fn joint_log_likelihood(&self, x: &Array2<f64>) -> Array2<f64> {
        x.dot(&self.log_prob.t()) + &self.log_prior
    }
}

impl<'a> Predict<&'a Array2<f64>, Array1<usize>> for FittedMultinomialNb {
    /// The most likely class; a tie goes to the lower class index. A class absent from the
    /// training data has a prior of zero and is never predicted.
    fn predict(&self, x: &'a Array2<f64>) -> Array1<usize> {
        crate::argmax_rows(&self.joint_log_likelihood(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documents() -> Vec<String> {
        ["the cat sat", "the cat ate the fish", "a dog barked"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn vocabulary_is_sorted_and_counts_follow_it() {
        let v = count_vectorizer(&CountVectorizerParams::default(), &documents()).unwrap();
        // The default tokeniser keeps words of two or more letters, so "a" is dropped.
        assert_eq!(
            v.words(),
            &["ate", "barked", "cat", "dog", "fish", "sat", "the"]
        );
        let counts = v.transform(&documents()[1..2]).unwrap();
        assert_eq!(counts.to_dense().row(0).to_vec(), vec![1, 0, 1, 0, 1, 0, 2]);
    }

    #[test]
    fn idf_and_unit_rows_match_a_hand_computation() {
        let v = count_vectorizer(&CountVectorizerParams::default(), &documents()).unwrap();
        let counts = v.transform(&documents()).unwrap();
        let fitted = TfIdf::default().fit(&counts).unwrap();
        // "the" is in 2 of 3 documents: ln(4/3) + 1; "fish" in 1: ln(4/2) + 1.
        let the = (4.0f64 / 3.0).ln() + 1.0;
        let fish = 2.0f64.ln() + 1.0;
        assert!((fitted.idf[6] - the).abs() < 1e-15);
        assert!((fitted.idf[4] - fish).abs() < 1e-15);
        assert_eq!(fitted.document_frequency, vec![1, 1, 2, 1, 1, 1, 2]);
        let w = fitted.transform(&counts).unwrap().to_dense();
        // Document 2, "the cat ate the fish": "ate" and "fish" occur in one training document,
        // "cat" and "the" in two, and "the" twice in this one. Columns: ate, cat, fish, the.
        let raw = [fish, the, fish, 2.0 * the];
        let norm = raw.iter().map(|r| r * r).sum::<f64>().sqrt();
        let expected = [
            raw[0] / norm,
            0.0,
            raw[1] / norm,
            0.0,
            raw[2] / norm,
            0.0,
            raw[3] / norm,
        ];
        for (got, want) in w.row(1).iter().zip(expected) {
            assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        }
        for row in w.rows() {
            assert!((row.dot(&row) - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn a_document_gets_the_same_weights_alone_or_in_a_batch() {
        let docs = documents();
        let v = count_vectorizer(&CountVectorizerParams::default(), &docs).unwrap();
        let fitted = TfIdf::default().fit(&v.transform(&docs).unwrap()).unwrap();
        let batch = fitted
            .transform(&v.transform(&docs).unwrap())
            .unwrap()
            .to_dense();
        let alone = fitted
            .transform(&v.transform(&docs[1..2]).unwrap())
            .unwrap()
            .to_dense();
        assert_eq!(alone.row(0), batch.row(1));
    }

    #[test]
    fn sublinear_counts_and_bad_inputs() {
        let docs = vec!["spam spam spam eggs".to_string(), "eggs ham".to_string()];
        let v = count_vectorizer(&CountVectorizerParams::default(), &docs).unwrap();
        let counts = v.transform(&docs).unwrap();
        let settings = TfIdf {
            sublinear_tf: true,
            l2_norm: false,
            smooth_idf: false,
        };
        let w = settings
            .fit(&counts)
            .unwrap()
            .transform(&counts)
            .unwrap()
            .to_dense();
        // Columns eggs, ham, spam: spam occurs 3 times in 1 of 2 documents.
        assert!((w[[0, 2]] - (1.0 + 3f64.ln()) * (2f64.ln() + 1.0)).abs() < 1e-15);
        assert_eq!(w[[0, 0]], 1.0);
        // A matrix with a different vocabulary is refused, not silently misread.
        let other = count_vectorizer(&CountVectorizerParams::default(), &documents()).unwrap();
        let fitted = settings.fit(&counts).unwrap();
        let wrong = other.transform(&documents()).unwrap();
        assert!(matches!(fitted.transform(&wrong), Err(Error::Schema(_))));
        // Unsmoothed IDF of a term no training document holds is an error, not infinity.
        let empty_column = CsMat::new((1, 2), vec![0, 1], vec![0], vec![1usize]);
        assert!(matches!(
            settings.fit(&empty_column),
            Err(Error::Parameter(_))
        ));
        assert!(TfIdf::default().fit(&empty_column).is_ok());
        assert!(matches!(
            count_vectorizer(&CountVectorizerParams::default(), &["a b c".to_string()]),
            Err(Error::Empty)
        ));
    }

    #[test]
    fn naive_bayes_matches_a_hand_computation_and_linfa() {
        use rand::{Rng, SeedableRng};
        // Two classes, three words. Class 0 saw counts (2, 1, 0), class 1 saw (0, 1, 3).
        let x = ndarray::array![[2.0, 1.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 2.0]];
        let y = ndarray::array![0, 1, 1];
        let nb = MultinomialNb { alpha: 1.0 }
            .fit(&DatasetBase::new(x.clone(), y.clone()))
            .unwrap();
        // Smoothed: class 0 (3, 2, 1) / 6, class 1 (1, 2, 4) / 7; priors 1/3 and 2/3.
        assert!((nb.log_prob[[0, 0]] - 0.5f64.ln()).abs() < 1e-15);
        assert!((nb.log_prob[[1, 2]] - (4.0f64 / 7.0).ln()).abs() < 1e-15);
        assert!((nb.log_prior[1] - (2.0f64 / 3.0).ln()).abs() < 1e-15);
        assert_eq!(
            nb.predict(&ndarray::array![[3.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
            ndarray::array![0, 1]
        );

        // Random counts: the same predictions as linfa-bayes.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let x = Array2::from_shape_fn((200, 30), |_| f64::from(rng.gen_range(0u8..4)));
        let y: Array1<usize> = (0..200)
            .map(|i| (i * 7 + rng.gen_range(0..2)) % 3)
            .collect();
        let data = DatasetBase::new(x.clone(), y.clone());
        let ours = MultinomialNb { alpha: 0.5 }.fit(&data).unwrap().predict(&x);
        let linfa = linfa_bayes::MultinomialNb::params()
            .alpha(0.5)
            .fit(&data)
            .unwrap()
            .predict(&x);
        assert_eq!(ours, linfa);
        for bad in [-1.0, f64::NAN] {
            assert!(matches!(
                MultinomialNb { alpha: bad }.fit(&data),
                Err(Error::Parameter(_))
            ));
        }
        let negative = DatasetBase::new(ndarray::array![[-1.0]], ndarray::array![0]);
        assert!(matches!(
            MultinomialNb { alpha: 1.0 }.fit(&negative),
            Err(Error::Parameter(_))
        ));
    }
}
