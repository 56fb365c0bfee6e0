//! The ONNX lesson lives in `examples/deploy/model_serialization.rs`; this package only owns it.
