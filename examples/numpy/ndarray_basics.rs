//! # Arrays and operations (NumPy → ndarray)
//!
//! **Question:** What is an n-dimensional array, and how do you build, combine and reduce one?
//!
//! **Answer:** An n-dimensional array is one contiguous buffer plus a shape and strides.
//! Element-wise arithmetic, `mapv` and reductions along an axis (`sum_axis`, `mean_axis`,
//! `std_axis`) run over that flat memory, like NumPy's ufuncs and `axis=` reductions. A
//! `Vec<Vec<f64>>` can hold the same numbers, but every row is a separate heap allocation and a
//! row-by-row walk chases pointers.
//!
//! **Evidence:** On iris, the Array2 is one allocation of 4.7 KiB with element [i, j] at offset
//! 8·(4i + j), while the Vec<Vec<f64>> takes 151 allocations and 8.2 KiB; both give identical
//! column means and row sums. Summing a 2000 × 2000 matrix takes 1.1 ms as an Array2 and 3.2 ms as
//! nested Vecs (a printed timing, not a claim).
//!
//! **Run:** `cargo run --example ndarray_basics` (add `-- --quick` for a short run).

use harness::measure::{self, count_allocations};
use harness::prelude::*;
use ndarray::{Array, Array2, Axis, array, s};
use plotters::prelude::*;

/// The largest absolute difference between two sequences of numbers.
fn max_abs_diff<'a>(a: impl Iterator<Item = &'a f64>, b: impl Iterator<Item = &'a f64>) -> f64 {
    a.zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // %%
    // Construction. Like np.zeros, np.linspace, np.array and np.fromfunction, each of these builds
    // an owned array with a shape known at run time and an element type known at compile time.
    let zeros = Array2::<f64>::zeros((2, 3));
    let grid = Array::linspace(0.0, 1.0, 5);
    let literal = array![[1.0, 2.0], [3.0, 4.0]];
    let table = Array2::from_shape_fn((3, 4), |(i, j)| (10 * i + j) as f64);
    println!(
        "zeros {:?}, linspace {grid}, literal\n{literal}",
        zeros.shape()
    );
    println!("from_shape_fn (10·i + j):\n{table}");

    // %%
    // The iris measurements arrive as a 150 × 4 matrix (sepal length, sepal width, petal
    // length, petal width, in cm) and a vector of species indices.
    let datasets::Labelled {
        features: x,
        target: species,
        classes,
        feature_names,
        ..
    } = datasets::iris()?;
    println!(
        "\niris: shape {:?}, features {:?}",
        x.shape(),
        feature_names
    );

    // %%
    // Element-wise arithmetic works on whole arrays: scale to millimetres, multiply two columns
    // for a petal "area", and apply a function to every element with mapv (NumPy's ufuncs).
    let millimetres = &x * 10.0;
    let petal_area = &x.column(2) * &x.column(3);
    let log_x = x.mapv(f64::ln);
    println!(
        "first row in mm {}, petal area of the first three {:.2}, ln of the first row {:.3}",
        millimetres.row(0),
        petal_area.slice(s![..3]),
        log_x.row(0)
    );

    // %%
    // Reductions along an axis. Axis(0) runs down the rows, giving one value per column (NumPy's
    // axis=0); Axis(1) runs along each row, giving one value per sample.
    let column_means = x.mean_axis(Axis(0)).expect("iris has rows");
    let column_std = x.std_axis(Axis(0), 1.0);
    let row_sums = x.sum_axis(Axis(1));
    println!("column means {column_means:.3}");
    println!("column std   {column_std:.3}");
    println!("row sums of the first five {:.1}", row_sums.slice(s![..5]));

    // %%
    // Group means: select the rows of each species and reduce them.
    let species_means = Array2::from_shape_fn((classes.len(), x.ncols()), |(c, j)| {
        let rows: Vec<usize> = (0..x.nrows()).filter(|&i| species[i] == c).collect();
        x.select(Axis(0), &rows)
            .column(j)
            .mean()
            .expect("every species has rows")
    });
    for (c, name) in classes.iter().enumerate() {
        println!("{name:<11} means {:.3}", species_means.row(c));
    }

    // %%
    // The same statistics from a Vec<Vec<f64>>, the structure a Python list of lists maps to.
    let nested: Vec<Vec<f64>> = x.rows().into_iter().map(|r| r.to_vec()).collect();
    let mut nested_means = vec![0.0; x.ncols()];
    for row in &nested {
        for (m, v) in nested_means.iter_mut().zip(row) {
            *m += v;
        }
    }
    nested_means
        .iter_mut()
        .for_each(|m| *m /= nested.len() as f64);
    let nested_row_sums: Vec<f64> = nested.iter().map(|r| r.iter().sum()).collect();

    // %%
    // Both add the same numbers, possibly in a different order, so they may differ only by
    // rounding: at most (number of terms) × machine epsilon × the largest magnitude involved.
    let mean_gap = max_abs_diff(column_means.iter(), nested_means.iter());
    let row_gap = max_abs_diff(row_sums.iter(), nested_row_sums.iter());
    let tolerance = x.nrows() as f64 * f64::EPSILON * x.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    lesson.claim(
        "Vec<Vec<f64>> and Array2 give the same column means and row sums",
        mean_gap <= tolerance && row_gap <= tolerance,
        format!(
            "largest difference {:.1e} (means) and {:.1e} (row sums), rounding bound {tolerance:.1e}",
            mean_gap, row_gap
        ),
        &[("mean_gap", mean_gap), ("row_sum_gap", row_gap), ("tolerance", tolerance)],
    );

    // %%
    // Memory: an Array2 is one buffer, a Vec<Vec<f64>> one buffer per row plus the outer vector.
    // The counting allocator counts the allocations each construction makes.
    let (array, array_stats) = count_allocations(|| Array2::from_shape_fn(x.dim(), |ij| x[ij]))?;
    let (nested_copy, nested_stats) =
        count_allocations(|| x.rows().into_iter().map(|r| r.to_vec()).collect::<Vec<_>>())?;
    let base = array.as_ptr() as usize;
    let contiguous = array.is_standard_layout()
        && array.as_slice().is_some()
        && (0..x.nrows()).all(|i| {
            (0..x.ncols())
                .all(|j| &array[[i, j]] as *const f64 as usize == base + 8 * (i * x.ncols() + j))
        });
    lesson.claim(
        "the Array2 is one contiguous buffer; the nested Vec needs one allocation per row",
        contiguous && array_stats.allocations == 1 && nested_stats.allocations == x.nrows() + 1,
        format!(
            "Array2: {} allocation of {}, element [i, j] at offset 8·(4i + j); Vec<Vec<f64>>: {} allocations, {} in all",
            array_stats.allocations,
            measure::bytes(array_stats.allocated as f64),
            nested_stats.allocations,
            measure::bytes(nested_stats.allocated as f64)
        ),
        &[
            ("array_allocations", array_stats.allocations as f64),
            ("nested_allocations", nested_stats.allocations as f64),
        ],
    );
    drop(nested_copy);

    // %%
    // Cost of the nested structure at scale: summing a large matrix stored both ways. The Array2
    // sum walks one buffer; the nested sum follows a pointer per row. Reported, not asserted: the
    // gap depends on the machine, and benches/numpy.rs measures it with criterion.
    let n: usize = lesson.pick(2000, 400);
    let big: Array2<f64> = Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 11) as f64);
    let big_nested: Vec<Vec<f64>> = big.rows().into_iter().map(|r| r.to_vec()).collect();
    let runs: usize = lesson.pick(10, 5);
    let t_array = best_of(runs, || big.sum());
    let t_nested = best_of(runs, || lessons_arrays::sum_nested(&big_nested));
    println!(
        "sum of {n}×{n}: Array2 {}, Vec<Vec<f64>> {} ({:.1}× the Array2 time)",
        measure::duration(t_array.best),
        measure::duration(t_nested.best),
        t_array.speedup_over(&t_nested)
    );
    lesson.metric("sum_array2_s", t_array.secs());
    lesson.metric("sum_nested_s", t_nested.secs());
    lesson.metric("matrix_side", n as f64);

    // %%
    // The figure: petal length against petal width, one colour per species, with the species
    // means (a reduction per group) drawn as crosses.
    figure!(lesson, "iris_petals", plot::SIZE, |root| {
        let mut chart = plot::chart(&root, "Iris petals, with each species' mean")
            .build_cartesian_2d(0.5..7.5, 0.0..2.8)?;
        plot::axes(&mut chart, "petal length (cm)", "petal width (cm)")?;
        for (c, name) in classes.iter().enumerate() {
            let colour = plot::color(c);
            let points = (0..x.nrows())
                .filter(|&i| species[i] == c)
                .map(|i| Circle::new((x[[i, 2]], x[[i, 3]]), 4, colour.mix(0.7).filled()));
            chart
                .draw_series(points)?
                .label(name.as_str())
                .legend(move |(px, py)| Circle::new((px + 10, py), 5, colour.filled()));
            chart.draw_series(std::iter::once(Cross::new(
                (species_means[[c, 2]], species_means[[c, 3]]),
                10,
                BLACK.stroke_width(3),
            )))?;
        }
        plot::legend(&mut chart)?;
    })?;

    lesson.finish()?;
    Ok(())
}
