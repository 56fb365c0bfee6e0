//! Metrics linfa lacks: a per-class report with binary, macro and weighted averages; the
//! precision–recall curve and average precision; ROC AUC as a rank statistic; multi-class log loss;
//! the adjusted Rand index; the two-sample Kolmogorov–Smirnov test (scipy's `ks_2samp`, for drift
//! checks). Labels are class indices `0..k`; scores are f64.

use ndarray::ArrayView2;

use crate::Error;

fn same_len(a: usize, b: usize) -> Result<(), Error> {
    if a != b {
        return Err(Error::LengthMismatch(a, b));
    }
    if a == 0 {
        return Err(Error::Empty);
    }
    Ok(())
}

/// Counts of (true class, predicted class): `counts[t][p]`, as scikit-learn's `confusion_matrix`
/// lays it out (rows are the truth).
#[derive(Debug, Clone, PartialEq)]
pub struct Confusion {
    pub counts: Vec<Vec<usize>>,
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// How per-class scores are combined into one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Average {
    /// The scores of one class, the positive one (scikit-learn's `average="binary"`).
    Binary { positive: usize },
    /// The plain mean over classes: every class counts the same.
    Macro,
    /// The mean weighted by each class's support: large classes count more.
    Weighted,
}

impl Confusion {
    /// Builds the matrix for `classes` classes; labels outside `0..classes` are an error.
    pub fn new(truth: &[usize], predicted: &[usize], classes: usize) -> Result<Confusion, Error> {
        same_len(truth.len(), predicted.len())?;
        let mut counts = vec![vec![0; classes]; classes];
        for (&t, &p) in truth.iter().zip(predicted) {
            if t >= classes || p >= classes {
                return Err(Error::LengthMismatch(t.max(p), classes));
            }
            counts[t][p] += 1;
        }
        Ok(Confusion { counts })
    }

    pub fn classes(&self) -> usize {
        self.counts.len()
    }

    pub fn total(&self) -> usize {
        self.counts.iter().flatten().sum()
    }

    pub fn accuracy(&self) -> f64 {
        let right: usize = (0..self.classes()).map(|c| self.counts[c][c]).sum();
        right as f64 / self.total() as f64
    }

    /// One class's scores. A ratio with a zero denominator is 0, as scikit-learn reports it with
    /// `zero_division=0` (a class never predicted has precision 0).
    pub fn class(&self, c: usize) -> ClassScores {
        let tp = self.counts[c][c] as f64;
        let predicted: usize = (0..self.classes()).map(|t| self.counts[t][c]).sum();
        let support: usize = self.counts[c].iter().sum();
        let ratio = |a: f64, b: usize| if b == 0 { 0.0 } else { a / b as f64 };
        let precision = ratio(tp, predicted);
        let recall = ratio(tp, support);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        ClassScores {
            precision,
            recall,
            f1,
            support,
        }
    }

    /// Precision, recall and F1 combined as `average` says.
    pub fn scores(&self, average: Average) -> ClassScores {
        let all: Vec<ClassScores> = (0..self.classes()).map(|c| self.class(c)).collect();
        let total = self.total();
        let combine = |weight: &dyn Fn(&ClassScores) -> f64| {
            let w: f64 = all.iter().map(weight).sum();
            let mean =
                |f: fn(&ClassScores) -> f64| all.iter().map(|s| weight(s) * f(s)).sum::<f64>() / w;
            ClassScores {
                precision: mean(|s| s.precision),
                recall: mean(|s| s.recall),
                f1: mean(|s| s.f1),
                support: total,
            }
        };
        match average {
            Average::Binary { positive } => all[positive],
            Average::Macro => combine(&|_| 1.0),
            Average::Weighted => combine(&|s| s.support as f64),
        }
    }
}

/// A curve of points with the score thresholds that produce them.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// (x, y): (false-positive rate, true-positive rate) for ROC, (recall, precision) for PR.
    pub points: Vec<(f64, f64)>,
    pub thresholds: Vec<f64>,
}

/// Sorts by descending score and returns, at each distinct score, the cumulative true and false
/// positives when everything scoring at least that much is called positive.
fn cumulative_counts(positive: &[bool], scores: &[f64]) -> Result<Vec<(f64, f64, f64)>, Error> {
    same_len(positive.len(), scores.len())?;
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tp, mut fp) = (0.0, 0.0);
    let mut out: Vec<(f64, f64, f64)> = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        if positive[i] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_tie = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_tie {
            out.push((scores[i], tp, fp));
        }
    }
    Ok(out)
}

fn class_counts(positive: &[bool], what: &'static str) -> Result<(f64, f64), Error> {
    let p = positive.iter().filter(|&&b| b).count() as f64;
    let n = positive.len() as f64 - p;
    if p == 0.0 || n == 0.0 {
        return Err(Error::OneClass(what));
    }
    Ok((p, n))
}

/// The ROC curve from (0, 0) to (1, 1), one point per distinct score.
pub fn roc_curve(positive: &[bool], scores: &[f64]) -> Result<Curve, Error> {
    let (p, n) = class_counts(positive, "a ROC curve")?;
    let counts = cumulative_counts(positive, scores)?;
    let mut points = vec![(0.0, 0.0)];
    let mut thresholds = vec![f64::INFINITY];
    for (s, tp, fp) in counts {
        points.push((fp / n, tp / p));
        thresholds.push(s);
    }
    Ok(Curve { points, thresholds })
}

/// The area under a curve by the trapezoidal rule (x must be non-decreasing).
pub fn trapezoid(points: &[(f64, f64)]) -> f64 {
    points
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum()
}

/// ROC AUC as the Mann–Whitney rank statistic: the probability that a random positive scores
/// above a random negative, ties counting one half. Equals the area under [`roc_curve`].
pub fn roc_auc_rank(positive: &[bool], scores: &[f64]) -> Result<f64, Error> {
    same_len(positive.len(), scores.len())?;
    let (p, n) = class_counts(positive, "ROC AUC")?;
    // Average ranks (1-based) with ties sharing the mean of their positions.
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut rank = vec![0.0; scores.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            rank[k] = mean_rank;
        }
        i = j + 1;
    }
    let positive_ranks: f64 = (0..scores.len())
        .filter(|&k| positive[k])
        .map(|k| rank[k])
        .sum();
    Ok((positive_ranks - p * (p + 1.0) / 2.0) / (p * n))
}

/// The precision–recall curve, from the highest threshold down; recall rises from 0 to 1.
pub fn pr_curve(positive: &[bool], scores: &[f64]) -> Result<Curve, Error> {
    let (p, _) = class_counts(positive, "a precision–recall curve")?;
    let counts = cumulative_counts(positive, scores)?;
    let mut points = vec![(0.0, 1.0)];
    let mut thresholds = vec![f64::INFINITY];
    for (s, tp, fp) in counts {
        points.push((tp / p, tp / (tp + fp)));
        thresholds.push(s);
    }
    Ok(Curve { points, thresholds })
}

/// Average precision: Σ (Rₙ − Rₙ₋₁)·Pₙ over the thresholds, the step-wise area under the PR curve
/// that scikit-learn's `average_precision_score` computes (no interpolation).
pub fn average_precision(positive: &[bool], scores: &[f64]) -> Result<f64, Error> {
    let curve = pr_curve(positive, scores)?;
    Ok(curve
        .points
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * w[1].1)
        .sum())
}

/// Mean negative log-likelihood of the true classes: `probabilities` has one row per sample and
/// one column per class. Probabilities are clipped to [1e-15, 1 − 1e-15], as scikit-learn does.
pub fn log_loss(probabilities: ArrayView2<f64>, truth: &[usize]) -> Result<f64, Error> {
    same_len(probabilities.nrows(), truth.len())?;
    let mut total = 0.0;
    for (row, &t) in probabilities.rows().into_iter().zip(truth) {
        let p = *row.get(t).ok_or(Error::LengthMismatch(t, row.len()))?;
        total -= p.clamp(1e-15, 1.0 - 1e-15).ln();
    }
    Ok(total / truth.len() as f64)
}

/// The adjusted Rand index of two labelings: 1 for identical partitions (whatever the label
/// names), about 0 for independent ones, negative when worse than chance (Hubert and Arabie, 1985).
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> Result<f64, Error> {
    same_len(a.len(), b.len())?;
    let ka = a.iter().max().map_or(0, |m| m + 1);
    let kb = b.iter().max().map_or(0, |m| m + 1);
    let mut table = vec![vec![0u64; kb]; ka];
    for (&i, &j) in a.iter().zip(b) {
        table[i][j] += 1;
    }
    let pairs = |x: u64| (x * x.saturating_sub(1)) as f64 / 2.0;
    let index: f64 = table.iter().flatten().map(|&x| pairs(x)).sum();
    let rows: f64 = table.iter().map(|r| pairs(r.iter().sum())).sum();
    let cols: f64 = (0..kb)
        .map(|j| pairs(table.iter().map(|r| r[j]).sum()))
        .sum();
    let total = pairs(a.len() as u64);
    let expected = rows * cols / total;
    let max = (rows + cols) / 2.0;
    if max == expected {
        // Both partitions are trivial (one cluster each, or all singletons): identical.
        return Ok(1.0);
    }
    Ok((index - expected) / (max - expected))
}

/// The share of equal entries (scikit-learn's `accuracy_score`), also a score function for
/// [`cross_val_score`](crate::cv::cross_val_score).
pub fn accuracy<T: PartialEq>(truth: &ndarray::Array1<T>, predicted: &ndarray::Array1<T>) -> f64 {
    let right = truth.iter().zip(predicted).filter(|(a, b)| a == b).count();
    right as f64 / truth.len().max(1) as f64
}

/// The mean squared error (scikit-learn's `mean_squared_error`), also a score function for
/// [`cross_val_score`](crate::cv::cross_val_score); NaN for no entries.
pub fn mean_squared_error(truth: &ndarray::Array1<f64>, predicted: &ndarray::Array1<f64>) -> f64 {
    (predicted - truth)
        .mapv(|e| e * e)
        .mean()
        .unwrap_or(f64::NAN)
}

/// A two-sample Kolmogorov–Smirnov test: the largest gap between the two empirical distribution
/// functions, and its asymptotic p-value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KsTest {
    pub statistic: f64,
    pub p_value: f64,
}

/// Kolmogorov's survival function Q(λ) = 2 Σ (−1)^(k−1) exp(−2k²λ²): the probability that the
/// scaled largest gap between two samples of one distribution exceeds λ.
pub fn kolmogorov_survival(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let sum: f64 = (1..=100)
        .map(|k| {
            let k = k as f64;
            let sign = if k % 2.0 == 1.0 { 1.0 } else { -1.0 };
            sign * (-2.0 * k * k * lambda * lambda).exp()
        })
        .sum();
    (2.0 * sum).clamp(0.0, 1.0)
}

/// The two-sample KS test of `a` against `b` (scipy's `ks_2samp`). The statistic is evaluated at
/// every observed value, ties included; the p-value is Kolmogorov's asymptotic one with Stephens'
/// small-sample correction, λ = (√nₑ + 0.12 + 0.11/√nₑ)·D with nₑ = nm/(n+m). Ties (rounded
/// measurements) make it conservative. NaN or an empty sample is an error.
pub fn ks_two_sample(a: &[f64], b: &[f64]) -> Result<KsTest, Error> {
    if a.is_empty() || b.is_empty() {
        return Err(Error::Empty);
    }
    if a.iter().chain(b).any(|v| v.is_nan()) {
        return Err(Error::NotFinite("samples"));
    }
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (mut i, mut j, mut statistic) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        statistic = statistic.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    let effective = (a.len() * b.len()) as f64 / (a.len() + b.len()) as f64;
    let lambda = (effective.sqrt() + 0.12 + 0.11 / effective.sqrt()) * statistic;
    Ok(KsTest {
        statistic,
        p_value: kolmogorov_survival(lambda),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::prelude::*;
    use ndarray::{Array1, array};

    #[test]
    fn mean_squared_error_averages_squared_differences() {
        let truth = array![1.0, 2.0, 3.0];
        let predicted = array![1.0, 4.0, 0.0];
        assert_eq!(
            mean_squared_error(&truth, &predicted),
            (0.0 + 4.0 + 9.0) / 3.0
        );
        let empty = Array1::<f64>::zeros(0);
        assert!(mean_squared_error(&empty, &empty).is_nan());
    }

    #[test]
    fn report_matches_hand_counts() {
        // truth 0 0 0 1 1 2, predicted 0 0 1 1 2 2:
        // class 0: P 2/2, R 2/3; class 1: P 1/2, R 1/2; class 2: P 1/2, R 1/1.
        let c = Confusion::new(&[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 2, 2], 3).unwrap();
        assert_eq!(c.counts, vec![vec![2, 1, 0], vec![0, 1, 1], vec![0, 0, 1]]);
        assert!((c.accuracy() - 4.0 / 6.0).abs() < 1e-12);
        let c0 = c.class(0);
        assert!((c0.precision - 1.0).abs() < 1e-12 && (c0.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((c0.f1 - 0.8).abs() < 1e-12);
        let m = c.scores(Average::Macro);
        assert!((m.precision - (1.0 + 0.5 + 0.5) / 3.0).abs() < 1e-12);
        assert!((m.recall - (2.0 / 3.0 + 0.5 + 1.0) / 3.0).abs() < 1e-12);
        let w = c.scores(Average::Weighted);
        assert!(
            (w.recall - c.accuracy()).abs() < 1e-12,
            "weighted recall is accuracy"
        );
        assert!((w.precision - (3.0 * 1.0 + 2.0 * 0.5 + 0.5) / 6.0).abs() < 1e-12);
    }

    #[test]
    fn macro_precision_and_recall_agree_with_linfa() {
        let truth = array![0usize, 1, 2, 2, 1, 0, 0, 2, 1, 1, 2, 0];
        let predicted = array![0usize, 2, 2, 1, 1, 0, 1, 2, 1, 0, 2, 0];
        let ours = Confusion::new(truth.as_slice().unwrap(), predicted.as_slice().unwrap(), 3)
            .unwrap()
            .scores(Average::Macro);
        let theirs = predicted.confusion_matrix(&truth).unwrap();
        assert!((ours.precision - theirs.precision() as f64).abs() < 1e-6);
        assert!((ours.recall - theirs.recall() as f64).abs() < 1e-6);
    }

    #[test]
    fn a_majority_guess_has_zero_f1_for_the_rare_class() {
        let truth: Vec<usize> = (0..100).map(|i| usize::from(i < 5)).collect();
        let c = Confusion::new(&truth, &[0; 100], 2).unwrap();
        assert!((c.accuracy() - 0.95).abs() < 1e-12);
        assert_eq!(c.scores(Average::Binary { positive: 1 }).f1, 0.0);
    }

    #[test]
    fn auc_by_curve_equals_auc_by_ranks_and_linfa() {
        let positive = [
            true, false, true, true, false, false, true, false, false, true,
        ];
        let scores = [0.9, 0.8, 0.7, 0.7, 0.6, 0.4, 0.35, 0.3, 0.3, 0.1];
        let by_curve = trapezoid(&roc_curve(&positive, &scores).unwrap().points);
        let by_rank = roc_auc_rank(&positive, &scores).unwrap();
        assert!(
            (by_curve - by_rank).abs() < 1e-12,
            "{by_curve} vs {by_rank}"
        );
        // Counted pair by pair over the 5 × 5 positive–negative pairs, ties counting one half.
        let mut won = 0.0;
        for i in 0..10 {
            for j in 0..10 {
                if positive[i] && !positive[j] {
                    won += if scores[i] > scores[j] {
                        1.0
                    } else if scores[i] == scores[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        assert!((by_rank - won / 25.0).abs() < 1e-12);
        let probabilities: Vec<f32> = scores.iter().map(|&s| s as f32).collect();
        let pr: Vec<Pr> = probabilities.iter().map(|&p| Pr::new(p)).collect();
        let linfa_auc = pr.as_slice().roc(&positive[..]).unwrap().area_under_curve();
        assert!(
            (linfa_auc as f64 - by_rank).abs() < 1e-6,
            "{linfa_auc} vs {by_rank}"
        );
    }

    #[test]
    fn average_precision_by_hand() {
        // Scores in order: +, -, +, -. Precision at the two recalls 0.5 and 1: 1 and 2/3.
        let ap = average_precision(&[true, false, true, false], &[0.9, 0.8, 0.7, 0.6]).unwrap();
        assert!((ap - (0.5 * 1.0 + 0.5 * 2.0 / 3.0)).abs() < 1e-12);
        assert!(matches!(
            average_precision(&[false, false], &[0.1, 0.2]),
            Err(crate::Error::OneClass(_))
        ));
    }

    #[test]
    fn log_loss_by_hand_and_against_linfa() {
        let p = array![[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]];
        let expected = -(0.9f64.ln() + 0.8f64.ln() + 0.4f64.ln()) / 3.0;
        assert!((log_loss(p.view(), &[0, 1, 1]).unwrap() - expected).abs() < 1e-12);
        // linfa's binary log loss takes P(positive) and booleans.
        let positive = Array1::from(vec![false, true, true]);
        let pr: Vec<Pr> = p.column(1).iter().map(|&x| Pr::new(x as f32)).collect();
        let theirs = pr
            .as_slice()
            .log_loss(positive.as_slice().unwrap())
            .unwrap();
        assert!(
            (theirs as f64 - expected).abs() < 1e-5,
            "{theirs} vs {expected}"
        );
    }

    #[test]
    fn adjusted_rand_index_known_values() {
        // Same partition under other names: 1.
        assert!((adjusted_rand_index(&[0, 0, 1, 1], &[1, 1, 0, 0]).unwrap() - 1.0).abs() < 1e-12);
        // scikit-learn's documented example: adjusted_rand_score([0, 0, 1, 2], [0, 0, 1, 1]) = 0.5714…
        let ari = adjusted_rand_index(&[0, 0, 1, 2], &[0, 0, 1, 1]).unwrap();
        assert!((ari - 0.571_428_571_428_571_4).abs() < 1e-12, "{ari}");
        // …and a perfectly split one scores below zero: [0, 0, 1, 1] vs [0, 1, 0, 1] = -0.5.
        let ari = adjusted_rand_index(&[0, 0, 1, 1], &[0, 1, 0, 1]).unwrap();
        assert!((ari + 0.5).abs() < 1e-12, "{ari}");
    }

    #[test]
    fn ks_statistic_matches_scipy_and_kolmogorovs_table() {
        // scipy.stats.ks_2samp on these samples: statistic 3/7 (0.428571…).
        let a = [1.0, 2.0, 2.0, 3.5, 4.0, 5.0, 6.5];
        let b = [2.5, 3.0, 4.5, 5.5, 7.0, 8.0];
        let test = ks_two_sample(&a, &b).unwrap();
        assert!((test.statistic - 3.0 / 7.0).abs() < 1e-15);
        // Kolmogorov's distribution: Q(1) = 0.26999967, Q(1.36) ≈ 0.0494 (the 5 % point).
        assert!((kolmogorov_survival(1.0) - 0.269_999_67).abs() < 1e-7);
        assert!((kolmogorov_survival(1.358_1) - 0.05).abs() < 1e-4);
        // A sample against itself: no gap, p = 1.
        let same = ks_two_sample(&a, &a).unwrap();
        assert_eq!((same.statistic, same.p_value), (0.0, 1.0));
        assert!(ks_two_sample(&a, &[]).is_err());
        assert!(ks_two_sample(&a, &[f64::NAN]).is_err());
    }
}
