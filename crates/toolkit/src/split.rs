//! Cross-validation splitters: each returns the folds as index lists into the samples.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::Error;

/// One fold: the rows to train on and the rows to test on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// Splits `0..n` into `k` contiguous parts whose sizes differ by at most one (the first `n % k`
/// parts are one longer), as scikit-learn does.
fn part_sizes(n: usize, k: usize) -> Vec<usize> {
    (0..k).map(|i| n / k + usize::from(i < n % k)).collect()
}

fn complement(n: usize, test: &[usize]) -> Vec<usize> {
    let mut is_test = vec![false; n];
    for &i in test {
        is_test[i] = true;
    }
    (0..n).filter(|&i| !is_test[i]).collect()
}

/// Turns each fold's test rows into a fold: the test rows sorted, everything else for training.
fn folds_from_tests(n: usize, tests: Vec<Vec<usize>>) -> Vec<Fold> {
    tests
        .into_iter()
        .map(|mut test| {
            test.sort_unstable();
            Fold {
                train: complement(n, &test),
                test,
            }
        })
        .collect()
}

fn check_k(k: usize, n: usize) -> Result<(), Error> {
    if k < 2 {
        return Err(Error::TooFewFolds(k));
    }
    if n < k {
        return Err(Error::TooFewSamples {
            folds: k,
            samples: n,
        });
    }
    Ok(())
}

/// K-fold on a shuffled order: every sample is tested exactly once (scikit-learn's
/// `KFold(shuffle=True, random_state=seed)`).
pub fn k_fold(n: usize, k: usize, seed: u64) -> Result<Vec<Fold>, Error> {
    check_k(k, n)?;
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    Ok(contiguous_parts(n, k, &order))
}

/// K-fold in the given row order: fold i tests the i-th contiguous block of rows
/// (scikit-learn's `KFold()` without shuffling; linfa's `Dataset::fold`).
pub fn k_fold_in_order(n: usize, k: usize) -> Result<Vec<Fold>, Error> {
    check_k(k, n)?;
    let order: Vec<usize> = (0..n).collect();
    Ok(contiguous_parts(n, k, &order))
}

/// Folds that test consecutive blocks of `order`, sized within one of each other.
fn contiguous_parts(n: usize, k: usize, order: &[usize]) -> Vec<Fold> {
    let mut start = 0;
    let tests = part_sizes(n, k)
        .into_iter()
        .map(|size| {
            start += size;
            order[start - size..start].to_vec()
        })
        .collect();
    folds_from_tests(n, tests)
}

/// Stratified k-fold: each class's members are shuffled (with `seed`) and dealt out so that every
/// fold holds each class in about the proportion of the whole. Every class needs at least `k`
/// members.
pub fn stratified_k_fold(y: &[usize], k: usize, seed: u64) -> Result<Vec<Fold>, Error> {
    let n = y.len();
    check_k(k, n)?;
    let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &c) in y.iter().enumerate() {
        by_class.entry(c).or_default().push(i);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut tests: Vec<Vec<usize>> = vec![Vec::new(); k];
    // Deal each class round-robin, continuing where the previous class stopped, so that the fold
    // sizes also stay within one of each other.
    let mut next = 0;
    for (&class, members) in by_class.iter_mut() {
        if members.len() < k {
            return Err(Error::ClassTooSmall {
                class,
                count: members.len(),
                folds: k,
            });
        }
        members.shuffle(&mut rng);
        for &i in members.iter() {
            tests[next % k].push(i);
            next += 1;
        }
    }
    Ok(folds_from_tests(n, tests))
}

/// Group k-fold: all samples of a group land in the same test fold, so no group is on both sides
/// (patients, users, sites). Groups are assigned largest first to the currently smallest fold,
/// which keeps fold sizes even, as scikit-learn's `GroupKFold` does.
pub fn group_k_fold(groups: &[usize], k: usize) -> Result<Vec<Fold>, Error> {
    let n = groups.len();
    check_k(k, n)?;
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &g) in groups.iter().enumerate() {
        members.entry(g).or_default().push(i);
    }
    if members.len() < k {
        return Err(Error::TooFewGroups {
            groups: members.len(),
            folds: k,
        });
    }
    let mut ordered: Vec<(usize, Vec<usize>)> = members.into_iter().collect();
    // Largest first; ties by group id, so the result does not depend on hashing.
    ordered.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let mut tests: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (_, rows) in ordered {
        let smallest = (0..k).min_by_key(|&f| (tests[f].len(), f)).unwrap_or(0);
        tests[smallest].extend(rows);
    }
    Ok(folds_from_tests(n, tests))
}

/// Time-series split (expanding window): the samples are in time order; fold i trains on
/// everything before its test block, which is the next `n / (splits + 1)` samples. A `gap` drops
/// that many samples between training and test, so that lagged features cannot leak.
pub fn time_series_split(n: usize, splits: usize, gap: usize) -> Result<Vec<Fold>, Error> {
    if splits < 2 {
        return Err(Error::TooFewFolds(splits));
    }
    let test_size = n / (splits + 1);
    if test_size == 0 || n < gap + test_size * (splits + 1) {
        return Err(Error::TooFewSamples {
            folds: splits,
            samples: n,
        });
    }
    let first_test = n - splits * test_size;
    Ok((0..splits)
        .map(|i| {
            let start = first_test + i * test_size;
            Fold {
                train: (0..start - gap).collect(),
                test: (start..start + test_size).collect(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_sample_tested_once(folds: &[Fold], n: usize) {
        let mut seen = vec![0; n];
        for f in folds {
            for &i in &f.test {
                seen[i] += 1;
            }
            assert_eq!(f.train.len() + f.test.len(), n);
            assert!(f.train.iter().all(|i| !f.test.contains(i)));
        }
        assert!(seen.iter().all(|&c| c == 1), "{seen:?}");
    }

    #[test]
    fn k_fold_sizes_follow_scikit_learn() {
        // 10 samples in 3 folds: 4, 3, 3, contiguous without a seed.
        let folds = k_fold_in_order(10, 3).unwrap();
        assert_eq!(folds[0].test, vec![0, 1, 2, 3]);
        assert_eq!(folds[1].test, vec![4, 5, 6]);
        assert_eq!(folds[2].test, vec![7, 8, 9]);
        every_sample_tested_once(&folds, 10);
        let shuffled = k_fold(10, 3, 7).unwrap();
        every_sample_tested_once(&shuffled, 10);
        assert_ne!(shuffled, folds);
        assert_eq!(
            shuffled,
            k_fold(10, 3, 7).unwrap(),
            "seeded means repeatable"
        );
    }

    #[test]
    fn bad_fold_counts_are_errors() {
        assert_eq!(k_fold_in_order(10, 1), Err(Error::TooFewFolds(1)));
        assert_eq!(
            k_fold_in_order(2, 3),
            Err(Error::TooFewSamples {
                folds: 3,
                samples: 2
            })
        );
        assert!(matches!(
            stratified_k_fold(&[0, 0, 0, 1], 2, 0),
            Err(Error::ClassTooSmall { class: 1, .. })
        ));
        assert!(matches!(
            group_k_fold(&[1, 1, 2, 2], 3),
            Err(Error::TooFewGroups {
                groups: 2,
                folds: 3
            })
        ));
    }

    #[test]
    fn stratified_folds_keep_class_counts() {
        // 30 of class 0 and 10 of class 1 in 5 folds: each fold 6 + 2.
        let y: Vec<usize> = (0..40).map(|i| usize::from(i >= 30)).collect();
        let folds = stratified_k_fold(&y, 5, 3).unwrap();
        every_sample_tested_once(&folds, 40);
        for f in &folds {
            let ones = f.test.iter().filter(|&&i| y[i] == 1).count();
            assert_eq!((f.test.len(), ones), (8, 2));
        }
    }

    #[test]
    fn groups_never_straddle_folds() {
        let groups = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 4, 4];
        let folds = group_k_fold(&groups, 3).unwrap();
        every_sample_tested_once(&folds, groups.len());
        for f in &folds {
            for &i in &f.test {
                assert!(f.train.iter().all(|&j| groups[j] != groups[i]));
            }
        }
        // Largest group (2, four rows) first, then 0 (three), then 1 and 4 (two), then 3:
        // sizes 4, 3 + 1, 2 + 2 → 4, 4, 4.
        let sizes: Vec<usize> = folds.iter().map(|f| f.test.len()).collect();
        assert_eq!(sizes, vec![4, 4, 4]);
    }

    #[test]
    fn time_series_folds_train_only_on_the_past() {
        // scikit-learn's TimeSeriesSplit(n_splits=3) on 10 samples: test blocks [4,5], [6,7], [8,9].
        let folds = time_series_split(10, 3, 0).unwrap();
        assert_eq!(folds[0].train, vec![0, 1, 2, 3]);
        assert_eq!(folds[0].test, vec![4, 5]);
        assert_eq!(folds[2].train, (0..8).collect::<Vec<_>>());
        assert_eq!(folds[2].test, vec![8, 9]);
        let gapped = time_series_split(10, 3, 1).unwrap();
        assert_eq!(gapped[0].train, vec![0, 1, 2]);
        for f in &gapped {
            assert!(f.train.iter().max() < f.test.iter().min());
        }
    }
}
