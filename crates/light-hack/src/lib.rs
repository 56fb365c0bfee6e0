//! No code: this package only names features (see its manifest).
