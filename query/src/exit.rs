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

impl Exit {
    /// A lookup's outcome: exit 0 when it found something, 1 when nothing
    /// matched.
    pub fn lookup(found: bool) -> Exit {
        if found {
            Exit::Found
        } else {
            Exit::NotFound
        }
    }

    /// A checker's outcome (`crosscheck`, `diff`, `policy check`,
    /// `simulate`, `tighten`, `prune`): exit 0 when nothing was found or
    /// changed, 1 when something was.
    pub fn check(found: bool) -> Exit {
        Exit::lookup(!found)
    }
}

/// The process exit status, one rule for every command (README "Exit codes",
/// `iamref --help`): 0 nothing found or changed (or found what was asked),
/// 1 found or changed, 2 bad input, 3 refused to publish, 4 internal error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitStatus {
    /// 0: success; for the checkers (`crosscheck`, `diff`, `policy check`,
    /// `tighten`): nothing found or changed.
    Success = 0,
    /// 1: found or changed (for lookups: nothing matched).
    Found = 1,
    /// 2: bad arguments or input; the message says what and where.
    BadInput = 2,
    /// 3: refused to publish a result that would replace good data.
    Refused = 3,
    /// 4: an internal error (a bug in iamref, e.g. a panic).
    Internal = 4,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(s.code())
    }
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
    pub fn status(&self) -> ExitStatus {
        match self {
            Failure::Input(_) => ExitStatus::BadInput,
            Failure::Refused(_) => ExitStatus::Refused,
        }
    }

    pub fn code(&self) -> u8 {
        self.status().code()
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

/// A dataset error as the binary words it: a retired snapshot format
/// names the command and flag that regenerate it.
pub fn dataset_text(e: &iamref_dataset::Error) -> String {
    match e {
        iamref_dataset::Error::SnapshotFormat { found, .. }
            if *found < iamref_dataset::snapshot::FORMAT =>
        {
            format!("{e} with `iamref build ... --snapshot-dir DIR`")
        }
        e => e.to_string(),
    }
}

/// [`dataset_text`] as an error, the typed error kept when it needs no
/// words of the binary's.
pub fn dataset_error(e: iamref_dataset::Error) -> anyhow::Error {
    match e {
        iamref_dataset::Error::SnapshotFormat { .. } => anyhow::anyhow!(dataset_text(&e)),
        e => e.into(),
    }
}
