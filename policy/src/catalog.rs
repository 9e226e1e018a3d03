//! The catalog (filled in by the next commits).
