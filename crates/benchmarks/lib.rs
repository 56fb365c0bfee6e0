//! The package of the criterion benchmarks in `benches/` (`cargo bench -p benchmarks`). The
//! benches time the kernels that the lesson packages export, so this library holds no code.
