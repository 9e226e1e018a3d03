//! Outcomes and exit codes (documented in `iamref --help` and the README).

/// What a successful command found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Exit 0.
    Found,
    /// Exit 1: nothing matched (or, for `check`, the action needs `"*"`).
    NotFound,
    /// Exit 2 with the output written: some input records could not be
    /// read (each named on stderr); the output covers the others.
    Skipped,
}

/// An error with a specific exit code (anything else exits 2).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Exit 2: bad input; the message says what and where.
    #[error("{0}")]
    Input(String),
    /// Exit 3: a result refused because it would replace good data with
    /// broken or shrunken data.
    #[error("{0}")]
    Refused(String),
}

impl Failure {
    pub fn code(&self) -> u8 {
        match self {
            Failure::Input(_) => 2,
            Failure::Refused(_) => 3,
        }
    }
}

/// Shorthand for an input error.
pub fn input(msg: impl Into<String>) -> anyhow::Error {
    Failure::Input(msg.into()).into()
}

/// Did this error come from writing to a closed pipe (`iamref … | head`)?
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
