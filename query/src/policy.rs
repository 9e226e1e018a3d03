//! `iamref policy check` (lint policies against the data, in
//! `policy_check_cmd`), `iamref policy write` and `iamref policy tighten`
//! (in `write_cmd`): the subcommands and their dispatch.

use crate::exit::Exit;
use crate::output::Out;
use anyhow::Result;
use iamref_dataset::db::Connection;

#[derive(clap::Subcommand)]
pub enum PolicyCmd {
    /// Check IAM policies (identity or resource-based) against the data:
    /// structure, actions, resources, conditions, broad grants; files,
    /// folders of *.json, or `-`
    Check(crate::policy_check_cmd::CheckArgs),
    /// Write a least-privilege policy: actions scoped to the given ARNs (or
    /// derived from them), access levels on ARNs, policy_sentry templates
    Write(Box<crate::write_cmd::WriteArgs>),
    /// Rewrite a policy so each action keeps only the Resources it can use
    /// (never grants more; removals on stderr; exit 1 when changed)
    Tighten(crate::write_cmd::TightenArgs),
    /// Would AWS allow a request under these policies, and why: identity,
    /// resource, boundary, session, SCP/RCP levels, VPC endpoint (exit 0
    /// all allowed, 1 any denied, 2 bad input)
    Simulate(Box<crate::simulate_cmd::SimulateArgs>),
    /// Cut a policy down to what recorded calls used (CloudTrail or an
    /// `iamref record --log`): unused statements, actions and resources on
    /// stderr; never grants more (exit 1 when changed)
    Prune(crate::prune_cmd::PruneArgs),
}

impl PolicyCmd {
    /// The base output format of the subcommand's `--format`.
    pub fn format(&self) -> crate::output::Format {
        match self {
            PolicyCmd::Check(a) => a.format.into(),
            PolicyCmd::Write(a) => a.fmt.format.into(),
            PolicyCmd::Tighten(a) => a.fmt.format.into(),
            PolicyCmd::Simulate(a) => a.fmt.format.into(),
            PolicyCmd::Prune(a) => a.fmt.format.into(),
        }
    }
}

pub fn run(conn: &Connection, cmd: PolicyCmd, out: &mut Out) -> Result<Exit> {
    let quiet = out.quiet;
    match cmd {
        PolicyCmd::Check(a) => crate::policy_check_cmd::check(conn, a, out),
        PolicyCmd::Write(a) => crate::write_cmd::write(conn, *a, out, quiet),
        PolicyCmd::Tighten(a) => crate::write_cmd::tighten_cmd(conn, a, out, quiet),
        PolicyCmd::Simulate(a) => crate::simulate_cmd::simulate(conn, *a, out),
        PolicyCmd::Prune(a) => crate::prune_cmd::prune_cmd(conn, a, out, quiet),
    }
}
