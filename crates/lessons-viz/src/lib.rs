//! The visualisation lessons (`examples/plotting/`): what plotters draws, read back from the PNG
//! and SVG files it wrote (see `harness::figure_file`), and the colour science the styling lessons
//! measure with.

pub mod color;
