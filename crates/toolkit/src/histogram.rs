//! Features cut once into quantile bins, the shared first step of the histogram tree builders
//! ([`crate::boosting`] and [`crate::forest`]): each feature's values become `u8` codes, so a
//! node's best split is found from a histogram over at most 256 bins instead of a sort.

use ndarray::{Array2, ArrayView1};

/// Quantile bin edges of one feature: at most `max_bins − 1` cut points between distinct values.
pub(crate) fn bin_edges(column: ArrayView1<f64>, max_bins: usize) -> Vec<f64> {
    let mut sorted: Vec<f64> = column.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut distinct = sorted.clone();
    distinct.dedup();
    if distinct.len() <= max_bins {
        return distinct.windows(2).map(|w| 0.5 * (w[0] + w[1])).collect();
    }
    // More distinct values than bins: cut at quantiles, halfway to the next distinct value.
    let mut edges: Vec<f64> = (1..max_bins)
        .map(|b| {
            let at = sorted[b * sorted.len() / max_bins];
            let next = distinct.partition_point(|&v| v <= at);
            if next < distinct.len() {
                0.5 * (at + distinct[next])
            } else {
                at
            }
        })
        .collect();
    edges.dedup();
    edges
}

/// The binned training matrix: column-major `u8` codes plus each feature's edges.
pub(crate) struct Binned {
    codes: Vec<u8>,
    n: usize,
    edges: Vec<Vec<f64>>,
}

impl Binned {
    pub(crate) fn new(x: &Array2<f64>, max_bins: usize) -> Binned {
        let n = x.nrows();
        let mut codes = Vec::with_capacity(n * x.ncols());
        let mut edges = Vec::with_capacity(x.ncols());
        for column in x.columns() {
            let e = bin_edges(column, max_bins);
            codes.extend(column.iter().map(|v| e.partition_point(|&t| t < *v) as u8));
            edges.push(e);
        }
        Binned { codes, n, edges }
    }
    pub(crate) fn column(&self, j: usize) -> &[u8] {
        &self.codes[j * self.n..(j + 1) * self.n]
    }

    /// Reorders `rows` in place so that those whose code for `feature` is at most `bin` (the left
    /// child of a split after that bin) come first, and returns how many they are.
    ///
    /// Without a branch: every row is swapped into the first slot past the left rows, and that
    /// slot is kept only when the row goes left (the rows between it and the current one all go
    /// right, so a swap that is not kept leaves a right row where a right row was). Which side a
    /// row goes is a coin toss to the processor; a branch on it would be mispredicted half the
    /// time.
    pub(crate) fn partition(&self, rows: &mut [u32], feature: usize, bin: u8) -> usize {
        let codes = self.column(feature);
        let mut left_len = 0;
        for i in 0..rows.len() {
            rows.swap(i, left_len);
            left_len += usize::from(codes[rows[left_len] as usize] <= bin);
        }
        left_len
    }

    /// Each feature's cut points: a split after bin `b` sends `x ≤ edges[b]` left.
    pub(crate) fn edges(&self) -> &[Vec<f64>] {
        &self.edges
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, array};

    #[test]
    fn a_partition_keeps_every_row_once_and_puts_the_left_ones_first() {
        let x = Array2::from_shape_fn((500, 1), |(i, _)| ((i * 7919) % 500) as f64);
        let binned = Binned::new(&x, 16);
        let mut rows: Vec<u32> = (0..500).rev().collect();
        let left = binned.partition(&mut rows, 0, 6);
        let codes = binned.column(0);
        assert!(rows[..left].iter().all(|&r| codes[r as usize] <= 6));
        assert!(rows[left..].iter().all(|&r| codes[r as usize] > 6));
        assert!(left > 0 && left < 500);
        let mut sorted = rows.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..500).collect::<Vec<u32>>());
    }

    #[test]
    fn bins_cut_between_distinct_values() {
        let col = array![3.0, 1.0, 2.0, 2.0, 1.0];
        assert_eq!(bin_edges(col.view(), 255), vec![1.5, 2.5]);
        // Many values, few bins: edges are increasing and there are at most max_bins − 1.
        let many = Array1::from_iter((0..1000).map(|i| (i * 37 % 1000) as f64));
        let e = bin_edges(many.view(), 8);
        assert_eq!(e.len(), 7);
        assert!(e.windows(2).all(|w| w[0] < w[1]));
        // Equal-frequency: about 125 values in each bin.
        let first = many.iter().filter(|&&v| v <= e[0]).count();
        assert!((120..=130).contains(&first), "{first}");
    }
}
