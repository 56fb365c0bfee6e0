//! # Indexing and slicing (NumPy → ndarray)
//!
//! **Question:** When does indexing return a view and when a copy?
//!
//! **Answer:** Slicing with `s![..]` — ranges, steps and negative indices — returns a view: a new
//! shape and strides over the parent's buffer, so writing through a mutable slice changes the
//! parent, exactly as in NumPy. Picking arbitrary rows (`select`, NumPy's fancy indexing) and
//! boolean masks build new arrays that own their memory. In Rust the borrow checker also stops the
//! parent being changed while a view of it is alive.
//!
//! **Evidence:** Writing −1 through the view `a[1:4, ::2]` changes `a[2, 4]` from 20 to −1, and the
//! view lies inside the parent's buffer after zero allocations; a `select` result's buffer does not
//! overlap its parent, which stays unchanged when 99 is written into the selection; a mask on iris
//! keeps exactly the 42 flowers with petal length above 5, and a masked assignment zeroes exactly
//! the cells it should.
//!
//! **Run:** `cargo run --example indexing_slicing` (add `-- --quick` for a short run).

use harness::measure::count_allocations;
use harness::prelude::*;
use ndarray::{Array2, ArrayBase, Axis, Data, Ix2, s};
use plotters::prelude::*;

/// True when every element of `part` lies inside the memory of `whole`.
fn shares_buffer<S: Data<Elem = f64>, T: Data<Elem = f64>>(
    part: &ArrayBase<S, Ix2>,
    whole: &ArrayBase<T, Ix2>,
) -> bool {
    let start = whole.as_ptr() as usize;
    let end = start + whole.len() * std::mem::size_of::<f64>();
    part.iter().all(|v| {
        let p = v as *const f64 as usize;
        (start..end).contains(&p)
    })
}

/// The (row, column) pairs of an `rows × cols` grid for which `pick` is true.
fn cells(rows: usize, cols: usize, pick: impl Fn(usize, usize) -> bool) -> Vec<(usize, usize)> {
    (0..rows)
        .flat_map(|i| (0..cols).map(move |j| (i, j)))
        .filter(|&(i, j)| pick(i, j))
        .collect()
}

/// How many of the selected rows belong to each class.
fn species_counts(
    rows: &[usize],
    target: &ndarray::Array1<usize>,
    classes: &[String],
) -> Vec<(String, usize)> {
    classes
        .iter()
        .enumerate()
        .map(|(c, name)| {
            (
                name.clone(),
                rows.iter().filter(|&&i| target[i] == c).count(),
            )
        })
        .collect()
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // %%
    // A 6 × 8 array holding 0..48, so every value names its own position (10·row would not fit).
    let mut a = Array2::from_shape_fn((6, 8), |(i, j)| (8 * i + j) as f64);
    println!("a =\n{a}");

    // %%
    // Basic slicing. Ranges, steps and negative indices work as in NumPy: `1..4` is rows 1–3,
    // `..;2` every second column, `-1` the last row, `..;-1` the rows reversed. The views borrow
    // `a`, so they live inside this block (a notebook keeps only owned values between cells).
    {
        let block = a.slice(s![1..4, ..;2]);
        let last_row = a.slice(s![-1, ..]);
        let reversed = a.slice(s![..;-1, -1]);
        println!("a[1:4, ::2] =\n{block}\na[-1, :] = {last_row}\na[::-1, -1] = {reversed}");
        println!(
            "strides: a {:?}, a[1:4, ::2] {:?}, a[::-1, -1] {:?}",
            a.strides(),
            block.strides(),
            reversed.strides()
        );
    }

    // %%
    // A slice is a view: its elements lie inside the parent's buffer. Taking one allocates
    // nothing, which the counting allocator confirms.
    let (inside, slice_stats) = count_allocations(|| {
        let view = a.slice(s![1..4, ..;2]);
        shares_buffer(&view, &a)
    })?;

    // %%
    // Writing through a mutable slice changes the parent.
    let before = a[[2, 4]];
    a.slice_mut(s![1..4, ..;2]).fill(-1.0);
    let after = a[[2, 4]];
    lesson.claim(
        "writing through a slice changes the parent",
        inside && slice_stats.allocations == 0 && before == 20.0 && after == -1.0,
        format!(
            "the view lies inside the parent's buffer and took {} allocations; a[2, 4] went from {before} to {after} after filling a[1:4, ::2] with -1",
            slice_stats.allocations
        ),
        &[("a24_before", before), ("a24_after", after), ("slice_allocations", slice_stats.allocations as f64)],
    );

    // %%
    // Fancy indexing: `select` picks rows (or columns) by index, in any order and with repeats.
    // The result owns a new buffer, so writing to it leaves the parent alone.
    let mut picked = a.select(Axis(0), &[5, 0, 0, 3]);
    let disjoint = !shares_buffer(&picked, &a) && !shares_buffer(&a, &picked);
    let parent_before = a.clone();
    picked.fill(99.0);
    let parent_unchanged = a == parent_before;
    println!("a[[5, 0, 0, 3]] (then filled with 99) =\n{picked}");
    lesson.claim(
        "a `select` result shares no memory with its parent",
        disjoint && parent_unchanged,
        format!(
            "buffers do not overlap: {disjoint}; parent unchanged after writing 99 into the selection: {parent_unchanged}"
        ),
        &[],
    );

    // %%
    // Boolean masks. ndarray has no `a[mask]`; the idiom is a mask array, the indices where it
    // is true, then `select`. A masked assignment (NumPy's `a[a > 40] = 0`) is one `mapv_inplace`.
    let datasets::Labelled {
        features: x,
        target: species,
        classes,
        ..
    } = datasets::iris()?;
    let mask = x.column(2).mapv(|petal_length| petal_length > 5.0);
    let rows: Vec<usize> = mask
        .iter()
        .enumerate()
        .filter(|(_, m)| **m)
        .map(|(i, _)| i)
        .collect();
    let long_petals = x.select(Axis(0), &rows);
    let direct_count = x.column(2).iter().filter(|&&v| v > 5.0).count();
    println!(
        "iris rows with petal length > 5 cm: {} (species of those rows: {:?})",
        long_petals.nrows(),
        species_counts(&rows, &species, &classes)
    );
    let mut clipped = a.clone();
    clipped.mapv_inplace(|v| if v > 40.0 { 0.0 } else { v });
    let clipped_count = clipped.iter().filter(|&&v| v == 0.0).count();
    let expected_zeros = a.iter().filter(|&&v| v > 40.0 || v == 0.0).count();
    lesson.claim(
        "a boolean mask selects exactly the rows where it is true, into a new array",
        long_petals.nrows() == direct_count
            && long_petals.column(2).iter().all(|&v| v > 5.0)
            && !shares_buffer(&long_petals, &x)
            && clipped_count == expected_zeros,
        format!(
            "{} rows selected, {direct_count} counted directly, all with petal length > 5; masked assignment zeroed {clipped_count} cells as expected",
            long_petals.nrows()
        ),
        &[("rows_selected", long_petals.nrows() as f64), ("rows_counted", direct_count as f64)],
    );
    lesson.metric("iris_rows_petal_over_5cm", long_petals.nrows() as f64);

    // %%
    // The figure: which cells of the 6 × 8 array each kind of indexing touches.
    let pictures: [(&'static str, Vec<(usize, usize)>); 4] = [
        (
            "a[1:4, ::2] (view)",
            cells(6, 8, |i, j| (1..4).contains(&i) && j % 2 == 0),
        ),
        ("a[::-1, -1] (view)", cells(6, 8, |_, j| j == 7)),
        (
            "a[[5, 0, 3]] (copy)",
            cells(6, 8, |i, _| [5, 0, 3].contains(&i)),
        ),
        ("a[a > 40] (copy)", cells(6, 8, |i, j| 8 * i + j > 40)),
    ];
    figure!(lesson, "selections", (1000, 640), |root| {
        let panels = root.split_evenly((2, 2));
        for (panel, (title, picked)) in panels.iter().zip(&pictures) {
            // No axes: the grid of cells is the picture.
            let mut chart = ChartBuilder::on(panel)
                .caption(title, plot::title_style())
                .margin(24)
                .build_cartesian_2d(0..8, 0..6)?;
            // Cell (i, j) of the array is drawn with row 0 at the top: filled when selected,
            // then outlined.
            let cell = |(i, j): (usize, usize)| {
                let (x, y) = (j as i32, 5 - i as i32);
                [(x, y), (x + 1, y + 1)]
            };
            let all = || (0..6).flat_map(|i| (0..8).map(move |j| (i, j)));
            chart.draw_series(all().map(|ij| {
                let fill = if picked.contains(&ij) {
                    plot::color(0).filled()
                } else {
                    WHITE.filled()
                };
                Rectangle::new(cell(ij), fill)
            }))?;
            chart.draw_series(
                all().map(|ij| Rectangle::new(cell(ij), BLACK.mix(0.3).stroke_width(1))),
            )?;
        }
    })?;

    lesson.finish()?;
    Ok(())
}
