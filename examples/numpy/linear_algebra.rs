//! # Linear algebra (NumPy → ndarray + faer)
//!
//! **Question:** How do you multiply, solve, decompose and fit with matrices, and what is
//! numerically safe?
//!
//! **Answer:** Multiply with a blocked, SIMD kernel (ndarray's `dot`, faer, BLAS), never a textbook
//! triple loop. To solve `A x = b`, factorise (LU) and solve; do not form `inv(A)`, which costs
//! more and loses accuracy. Decompositions (eigen, SVD, QR) are checked by the identities that
//! define them. Solve least squares with QR or the SVD, not the normal equations: forming XᵀX
//! squares the condition number, so it loses twice as many digits.
//!
//! **Evidence:** At n = 512 the naive loop runs at 0.7 GFLOP/s and the best single-threaded kernel
//! at 56 GFLOP/s (79×), all variants agreeing within rounding. On Hilbert(10) the LU solve's
//! residual is 5e-16 and inv(H)·b's 3e-4. Eigenpairs, SVD and QR rebuild their matrices to 1e-14.
//! QR least squares reproduces the diabetes data's published R² of 0.518. On a degree-9 Vandermonde
//! design (cond 3.6e6) QR's coefficient error is 3.6e-12 and the normal equations' 9.3e-5.
//!
//! **Run:** `cargo run --example linear_algebra` (add `-- --quick` for a short run).

use anyhow::{Context, Result};
use faer::linalg::solvers::{DenseSolveCore, Solve, SolveLstsq};
use harness::plot::LineChart;
use harness::prelude::*;
use lessons_arrays::{from_faer, matmul_faer, matmul_naive, to_faer};
use ndarray::{Array1, Array2, ArrayView2, Axis, concatenate};
use ndarray_rand::RandomExt;
use rand_distr::StandardNormal;

/// Least squares through a QR factorisation of `x` (NumPy's `lstsq` uses the SVD; both avoid XᵀX).
fn least_squares_by_qr(x: &Array2<f64>, y: &Array1<f64>) -> Array1<f64> {
    let y = to_faer(&y.clone().insert_axis(Axis(1)));
    from_faer(to_faer(x).qr().solve_lstsq(&y).as_ref())
        .column(0)
        .to_owned()
}

/// Least squares through the normal equations XᵀX·β = Xᵀy, solved by LU.
fn least_squares_by_normal_equations(x: &Array2<f64>, y: &Array1<f64>) -> Array1<f64> {
    let xty = to_faer(&x.t().dot(&y.clone().insert_axis(Axis(1))));
    from_faer(to_faer(&x.t().dot(x)).partial_piv_lu().solve(&xty).as_ref())
        .column(0)
        .to_owned()
}

/// The 2-norm condition number: the largest singular value over the smallest.
fn condition_number(x: &Array2<f64>) -> Result<f64> {
    let s = to_faer(x)
        .singular_values()
        .ok()
        .context("the SVD did not converge")?;
    Ok(s[0] / s[s.len() - 1])
}

fn max_abs(a: &Array2<f64>) -> f64 {
    a.iter().fold(0.0_f64, |m, v| m.max(v.abs()))
}

/// The correlation matrix of the columns of `x`.
fn correlation(x: &Array2<f64>) -> Array2<f64> {
    let centred = x - &x.mean_axis(Axis(0)).expect("rows");
    let norms = centred.map_axis(Axis(0), |c| c.dot(&c).sqrt());
    let scaled: Array2<f64> = &centred / &norms;
    let view: ArrayView2<f64> = scaled.view();
    view.t().dot(&view)
}

fn main() -> Outcome {
    let mut lesson = start_lesson!()?;

    // %%
    // 1. Matrix product. The naive loop does 2n³ floating-point operations like the others, but
    // walks B down its columns and keeps one running sum, so it waits on memory and on the adder.
    // ndarray's `dot` (the matrixmultiply crate) and faer work on cache-sized blocks with SIMD.
    let sizes: Vec<usize> = lesson.pick(vec![64, 128, 256, 512, 1024], vec![32, 64, 128, 256]);
    let naive_limit: usize = lesson.pick(512, 256);
    let runs: usize = 3;
    let mut rng = lesson.rng(1);
    let mut curves: [(&'static str, Vec<(f64, f64)>); 4] = [
        ("naive triple loop", vec![]),
        ("ndarray dot", vec![]),
        ("faer, 1 thread", vec![]),
        ("faer, all threads", vec![]),
    ];
    let mut worst_gap = 0.0_f64;
    for &n in &sizes {
        let a: Array2<f64> = Array2::random_using((n, n), StandardNormal, &mut rng);
        let b: Array2<f64> = Array2::random_using((n, n), StandardNormal, &mut rng);
        let flops = 2.0 * (n as f64).powi(3);
        let reference = matmul_faer(&a.view(), &b.view(), faer::Par::Seq);
        // Each entry is a sum of n products; its rounding error is at most about n·ε·Σ|a||b|,
        // and Σ|a||b| ≤ n·max|a|·max|b|.
        let scale = n as f64
            * a.iter().fold(0.0_f64, |m, v| m.max(v.abs()))
            * b.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        let tolerance = n as f64 * f64::EPSILON * scale;
        let mut check = |c: &Array2<f64>| {
            let gap = (c - &reference).iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            worst_gap = worst_gap.max(gap / tolerance);
        };
        if n <= naive_limit {
            let t = best_of(runs, || matmul_naive(&a.view(), &b.view()));
            check(&matmul_naive(&a.view(), &b.view()));
            curves[0].1.push((n as f64, t.rate(flops) / 1e9));
        }
        let t = best_of(runs, || a.dot(&b));
        check(&a.dot(&b));
        curves[1].1.push((n as f64, t.rate(flops) / 1e9));
        let t = best_of(runs, || matmul_faer(&a.view(), &b.view(), faer::Par::Seq));
        curves[2].1.push((n as f64, t.rate(flops) / 1e9));
        let t = best_of(runs, || {
            matmul_faer(&a.view(), &b.view(), faer::Par::rayon(0))
        });
        check(&matmul_faer(&a.view(), &b.view(), faer::Par::rayon(0)));
        curves[3].1.push((n as f64, t.rate(flops) / 1e9));
        let row: Vec<String> = curves
            .iter()
            .filter_map(|(name, points)| {
                points
                    .last()
                    .filter(|p| p.0 == n as f64)
                    .map(|p| format!("{name} {:.2}", p.1))
            })
            .collect();
        println!("n = {n:>4}: GFLOP/s  {}", row.join(" · "));
    }
    for (name, points) in &curves {
        for (n, gflops) in points {
            lesson.metric(format!("gflops_{name}_n{}", *n as usize), *gflops);
        }
    }
    lesson.claim(
        "every matrix-product variant gives the same product",
        worst_gap <= 1.0,
        format!(
            "the largest difference from faer is {worst_gap:.2e} of the rounding bound n·ε·Σ|a||b|"
        ),
        &[("worst_gap_over_bound", worst_gap)],
    );
    let (naive, tuned) = {
        // A curve's speed at size n, in GFLOP/s.
        let at = |curve: usize, n: usize| {
            curves[curve]
                .1
                .iter()
                .find(|p| p.0 == n as f64)
                .map(|p| p.1)
                .unwrap_or(0.0)
        };
        (
            at(0, naive_limit),
            at(1, naive_limit).max(at(2, naive_limit)),
        )
    };
    lesson.claim(
        "a blocked single-threaded kernel is at least 5× faster than the naive loop",
        tuned >= 5.0 * naive,
        format!(
            "at n = {naive_limit}: naive {naive:.2} GFLOP/s, best single-threaded kernel {tuned:.2} GFLOP/s ({:.0}×)",
            tuned / naive
        ),
        &[("naive_gflops", naive), ("tuned_gflops", tuned)],
    );

    // %%
    // 2. Solve versus inverse on the Hilbert matrix H[i, j] = 1 / (i + j + 1), whose condition
    // number at n = 10 is about 1.6e13. With x = (1, …, 1) and b = H·x, compare the residual
    // ‖H·x̂ − b‖ of an LU solve with that of x̂ = inv(H)·b.
    let n: usize = 10;
    let hilbert = Array2::from_shape_fn((n, n), |(i, j)| 1.0 / (i + j + 1) as f64);
    let truth = Array1::<f64>::ones(n);
    let b = hilbert.dot(&truth);
    // faer's factorisations stay inside the block; what leaves it is ndarray (a notebook keeps
    // only values whose type it can name from one cell to the next).
    let (x_solve, x_inverse, condition) = {
        let h = to_faer(&hilbert);
        let lu = h.partial_piv_lu();
        let x_solve = from_faer(lu.solve(&to_faer(&b.clone().insert_axis(Axis(1)))).as_ref())
            .column(0)
            .to_owned();
        let x_inverse = from_faer(lu.inverse().as_ref()).dot(&b);
        let s = h
            .singular_values()
            .ok()
            .context("the SVD of Hilbert(10) did not converge")?;
        (x_solve, x_inverse, s[0] / s[n - 1])
    };
    let (r_solve, r_inverse, e_solve, e_inverse) = {
        // The residual ‖H·x − b‖ and the largest error against the truth, for both answers.
        let residual = |x: &Array1<f64>| (hilbert.dot(x) - &b).mapv(|v| v * v).sum().sqrt();
        let error = |x: &Array1<f64>| (x - &truth).iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        (
            residual(&x_solve),
            residual(&x_inverse),
            error(&x_solve),
            error(&x_inverse),
        )
    };
    println!(
        "Hilbert(10): condition number {condition:.2e}; residual ‖Hx − b‖ solve {r_solve:.2e}, inverse {r_inverse:.2e}; largest error in x: solve {e_solve:.1e}, inverse {e_inverse:.1e}"
    );
    lesson.claim(
        "solve's residual beats inverse's on Hilbert(10)",
        r_solve < r_inverse,
        format!(
            "‖Hx − b‖: LU solve {r_solve:.2e}, inv(H)·b {r_inverse:.2e} ({:.1e} times larger)",
            r_inverse / r_solve
        ),
        &[
            ("residual_solve", r_solve),
            ("residual_inverse", r_inverse),
            ("hilbert10_condition", condition),
        ],
    );

    // %%
    // 3. Eigen-decomposition of a symmetric matrix: the correlation matrix of the wine features.
    // Each eigenpair must satisfy A·v = λ·v, and the eigenvalues must add up to the trace.
    let wine = datasets::wine()?;
    let corr = correlation(&wine.features);
    let eig = to_faer(&corr)
        .self_adjoint_eigen(faer::Side::Lower)
        .ok()
        .context("the eigen-decomposition did not converge")?;
    let vectors = from_faer(eig.U());
    let values: Vec<f64> = eig.S().column_vector().iter().copied().collect();
    let eigen_residual = (0..values.len())
        .map(|k| {
            let v = vectors.column(k);
            (corr.dot(&v) - &v * values[k])
                .iter()
                .fold(0.0_f64, |m, x| m.max(x.abs()))
        })
        .fold(0.0, f64::max);
    let trace_gap = (values.iter().sum::<f64>() - corr.diag().sum()).abs();
    let explained = values.last().copied().unwrap_or(0.0) / values.iter().sum::<f64>();
    println!(
        "wine correlation matrix: eigenvalues {:?}; the largest explains {:.1} % of the variance",
        values
            .iter()
            .rev()
            .map(|v| format!("{v:.3}"))
            .collect::<Vec<_>>(),
        100.0 * explained
    );
    lesson.claim(
        "A·v = λ·v to 1e-9 for every eigenpair, and the eigenvalues sum to the trace",
        eigen_residual <= 1e-9 && trace_gap <= 1e-9,
        format!("largest |A·v − λ·v| {eigen_residual:.1e}; |Σλ − trace| {trace_gap:.1e}"),
        &[("eigen_residual", eigen_residual), ("trace_gap", trace_gap)],
    );
    lesson.metric("wine_first_component_share", explained);

    // %%
    // 4. SVD and QR of a random 60 × 25 matrix, checked by reconstruction and orthogonality.
    let m: Array2<f64> = Array2::random_using((60, 25), StandardNormal, &mut rng);
    let (u, s, v, q, r) = {
        let fm = to_faer(&m);
        let svd = fm.thin_svd().ok().context("the SVD did not converge")?;
        let qr = fm.qr();
        (
            from_faer(svd.U()),
            svd.S()
                .column_vector()
                .iter()
                .copied()
                .collect::<Vec<f64>>(),
            from_faer(svd.V()),
            from_faer(qr.compute_thin_Q().as_ref()),
            from_faer(qr.thin_R()),
        )
    };
    let rebuilt = (&u * &Array1::from(s.clone())).dot(&v.t());
    let svd_gap = max_abs(&(&rebuilt - &m));
    let sorted = s.windows(2).all(|w| w[0] >= w[1]) && s.iter().all(|&x| x >= 0.0);
    let qr_gap = max_abs(&(q.dot(&r) - &m));
    let orthogonality = max_abs(&(q.t().dot(&q) - Array2::<f64>::eye(q.ncols())));
    lesson.claim(
        "U·S·Vᵀ and Q·R rebuild the matrix, and Q has orthonormal columns",
        svd_gap <= 1e-12 && qr_gap <= 1e-12 && orthogonality <= 1e-12 && sorted,
        format!(
            "largest error: SVD {svd_gap:.1e}, QR {qr_gap:.1e}, QᵀQ − I {orthogonality:.1e}; singular values sorted and ≥ 0: {sorted}"
        ),
        &[("svd_gap", svd_gap), ("qr_gap", qr_gap), ("orthogonality_gap", orthogonality)],
    );

    // %%
    // 5. Least squares on the diabetes data: y ≈ X·β with an intercept column. QR solves it
    // without forming XᵀX; the normal equations square the condition number. Both must agree
    // here, and the fit must explain the share of variance published for this data (R² ≈ 0.518).
    let diabetes = datasets::diabetes()?;
    let x = concatenate(
        Axis(1),
        &[
            Array2::ones((diabetes.features.nrows(), 1)).view(),
            diabetes.features.view(),
        ],
    )?;
    let beta_qr = least_squares_by_qr(&x, &diabetes.target);
    let beta_normal = least_squares_by_normal_equations(&x, &diabetes.target);
    let fitted = x.dot(&beta_qr);
    let mean_y = diabetes.target.mean().unwrap_or(0.0);
    let ss_res = (&diabetes.target - &fitted).mapv(|v| v * v).sum();
    let ss_tot = diabetes.target.mapv(|v| (v - mean_y).powi(2)).sum();
    let r2 = 1.0 - ss_res / ss_tot;
    let beta_gap = (&beta_qr - &beta_normal)
        .iter()
        .zip(&beta_qr)
        .map(|(d, b)| d.abs() / b.abs().max(1e-12))
        .fold(0.0, f64::max);
    let x_condition = condition_number(&x)?;
    println!(
        "diabetes least squares: cond(X) = {x_condition:.2e}, so cond(XᵀX) ≈ {:.2e}; R² = {r2:.4}",
        x_condition * x_condition
    );
    lesson.claim(
        "least squares by QR matches the normal equations and the published R² of 0.518",
        beta_gap <= 1e-6 && (r2 - 0.518).abs() <= 0.001,
        format!("largest relative coefficient difference {beta_gap:.1e}; R² = {r2:.4}"),
        &[
            ("r2", r2),
            ("coefficient_gap", beta_gap),
            ("x_condition", x_condition),
        ],
    );
    lesson.metric("diabetes_r2", r2);

    // %%
    // The diabetes design is well conditioned, so both routes agree. On an ill-conditioned one
    // they do not: a degree-9 polynomial in t ∈ [0, 1] (a Vandermonde matrix, 60 × 10) with
    // coefficients all 1 and y = X·β exactly. QR's error grows with cond(X); the normal equations
    // work with XᵀX, whose condition number is cond(X)², and lose about twice as many digits.
    let t = Array1::<f64>::linspace(0.0, 1.0, 60);
    let vandermonde = Array2::from_shape_fn((60, 10), |(i, j)| t[i].powi(j as i32));
    let beta_true = Array1::<f64>::ones(10);
    let y_exact = vandermonde.dot(&beta_true);
    let by_qr = least_squares_by_qr(&vandermonde, &y_exact);
    let by_normal = least_squares_by_normal_equations(&vandermonde, &y_exact);
    let (qr_error, normal_error) = {
        let relative_error = |beta: &Array1<f64>| {
            (beta - &beta_true).mapv(|v| v * v).sum().sqrt()
                / beta_true.mapv(|v| v * v).sum().sqrt()
        };
        (relative_error(&by_qr), relative_error(&by_normal))
    };
    let v_condition = condition_number(&vandermonde)?;
    println!(
        "degree-9 polynomial fit: cond(X) = {v_condition:.1e}; relative coefficient error {qr_error:.1e} by QR, {normal_error:.1e} by the normal equations"
    );
    lesson.claim(
        "on an ill-conditioned design the normal equations lose far more accuracy than QR",
        // Both beyond noise: 100× QR's error, and 100× the cond(X)·ε a backward-stable method
        // may make. Where the normal equations land inside their cond(X)²·ε scale depends on the
        // summation order: forming Xᵀy as a matrix–vector instead of a matrix–matrix product was
        // measured to move their error from 9.3e-5 to 4.2e-6, so the bound does not ask for more.
        normal_error >= 100.0 * qr_error && normal_error > 100.0 * f64::EPSILON * v_condition,
        format!(
            "cond(X) = {v_condition:.1e}: error {qr_error:.1e} by QR (scale cond·ε = {:.0e}) against {normal_error:.1e} by XᵀX·β = Xᵀy (scale cond²·ε = {:.0e}), {:.0}× as large",
            v_condition * f64::EPSILON,
            v_condition * v_condition * f64::EPSILON,
            normal_error / qr_error.max(f64::MIN_POSITIVE)
        ),
        &[
            ("vandermonde_condition", v_condition),
            ("qr_error", qr_error),
            ("normal_equations_error", normal_error),
        ],
    );

    figure!(lesson, "matmul_gflops", plot::SIZE, |root| {
        let mut chart = LineChart::new(
            "Matrix product speed (best of 3)",
            "n (n×n matrices)",
            "GFLOP/s",
        )
        .log_log();
        for (name, points) in &curves {
            chart = chart.series(*name, points.clone());
        }
        chart.draw(&root)?;
    })?;

    lesson.finish()?;
    Ok(())
}
