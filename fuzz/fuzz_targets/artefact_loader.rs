//! Any bytes given to the artefact loader: it must refuse or load, never panic, and a model it
//! loads must predict (finite probabilities, or an error) and survive its own round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndarray::Array2;
use toolkit::artefact::{Encoding, ModelArtefact};

fuzz_target!(|data: &[u8]| {
    let Ok(artefact) = ModelArtefact::from_bytes(data) else {
        return;
    };
    let width = artefact.metadata().features().len();
    if let Ok(p) = artefact.probabilities(&Array2::zeros((2, width))) {
        assert!(p.iter().all(|v| v.is_finite()));
    }
    for encoding in [Encoding::Text, Encoding::Binary] {
        if let Ok(bytes) = artefact.to_bytes(encoding) {
            let back = ModelArtefact::from_bytes(&bytes).expect("a saved artefact loads");
            assert_eq!(back.metadata(), artefact.metadata());
        }
    }
});
