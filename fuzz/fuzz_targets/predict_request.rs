//! Any body given to the service's request parser, then to the model: the parser refuses or
//! returns one row per request row, and an accepted request is scored (or refused as
//! unscorable), never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use model_server::request::parse_rows;
use toolkit::artefact::ModelArtefact;

#[path = "model.rs"]
mod model;

static MODEL: OnceLock<ModelArtefact> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let artefact = MODEL.get_or_init(model::artefact);
    let features = artefact.metadata().features();
    if let Ok(rows) = parse_rows(features, data, 16) {
        assert!(rows.nrows() >= 1 && rows.nrows() <= 16);
        assert_eq!(rows.ncols(), features.len());
        if let Ok(p) = artefact.probabilities(&rows) {
            assert!(p.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
        }
    }
});
