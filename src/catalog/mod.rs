//! The national procedure catalog (being written).
