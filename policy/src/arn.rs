//! The ARN pattern algebra (filled in by the next commits).
