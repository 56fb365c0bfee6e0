//! Managed by cargo-hakari: this crate has no code, only dependencies with the feature sets the
//! whole workspace uses, so that every build resolves each third-party crate the same way.
