//! `iamref policy write` and `iamref policy tighten`: argument parsing,
//! loading the catalog, output. The work is `iamref_policy::write`.

use crate::exit::{input, Exit};
use crate::output::{Out, PolicyFormat};
use anyhow::Result;
use iamref_dataset::db::Connection;
use iamref_policy::write::render::{render, Render};
use iamref_policy::write::tighten::{catalog_request, tighten, TightenOptions};
use iamref_policy::write::{
    template, write_policy, AccessLevel, Need, Request, RequestError, WriteError,
};
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;

const WRITE_HELP: &str = "\
Resources: each action is scoped to the -r ARNs its resource types accept. When none fits,
the ARN is derived from a given one where the formats share a name (bucket -> bucket/*,
log group -> its log streams), reported as a note; otherwise the command stops (exit 2)
naming the action, the ARNs given and the formats it needs. --widen grants the generic
pattern instead, reported. Actions that take only \"*\" get their own statement.

Access-level mode: --read/--write/--list/--tagging/--permissions-management ARN grant the
actions of that level whose resource types the ARN names (arn:aws:s3:::b is bucket-level,
'arn:aws:s3:::b/*' object-level). --template FILE reads a policy_sentry template
(mode: crud or mode: actions).

Notes go to stderr, one per line: `note: CODE: ACTION: MESSAGE` (CODE is derived, widened,
generic, wildcard-only, skip-resource-constraints, dependent-action, dependent-included,
not-wildcard-only, left-out, nothing-at-level, exclude-unused). -q keeps only the notes
that widen. --format json prints {\"policy\": ..., \"notes\": [...]}; --format yaml and
--format terraform render the policy for CloudFormation and Terraform.

Standard input (`-`): one action per line, as `iamref calls` prints them; further
tab- or space-separated fields that are ARNs scope that action.";

#[derive(clap::Args)]
#[command(after_help = WRITE_HELP)]
pub struct WriteArgs {
    /// Actions or patterns (s3:GetObject s3:List*); `-` reads them from standard input
    #[arg(value_name = "ACTION")]
    pub actions: Vec<String>,
    /// Instead of actions: the calls of a CloudTrail log (file, .json.gz,
    /// folder tree in the S3 delivery layout, `iamref record --log` output,
    /// or `-`), granted on the resources the records name
    #[arg(long, value_name = "PATH", conflicts_with = "actions")]
    pub from_cloudtrail: Option<PathBuf>,
    #[command(flatten)]
    pub trail: crate::record_cmd::TrailArgs,
    /// With --from-cloudtrail: grant the parameter-dependent actions too
    #[arg(long)]
    pub include_conditional: bool,
    /// ARNs (or patterns) to scope the actions to; repeatable
    #[arg(long = "resource", short, value_name = "ARN")]
    pub resources: Vec<String>,
    /// Grant the generic ARN pattern where no given ARN fits or derives (each reported)
    #[arg(long)]
    pub widen: bool,
    /// Also grant the dependent actions the reference lists (otherwise notes)
    #[arg(long)]
    pub include_dependent: bool,
    /// Read actions on the resource type this ARN names; repeatable
    #[arg(long, value_name = "ARN")]
    pub read: Vec<String>,
    /// Write actions on the resource type this ARN names; repeatable
    #[arg(long, value_name = "ARN")]
    pub write: Vec<String>,
    /// List actions on the resource type this ARN names; repeatable
    #[arg(long, value_name = "ARN")]
    pub list: Vec<String>,
    /// Tagging actions on the resource type this ARN names; repeatable
    #[arg(long, value_name = "ARN")]
    pub tagging: Vec<String>,
    /// Permissions-management actions on the resource type this ARN names; repeatable
    #[arg(long, value_name = "ARN")]
    pub permissions_management: Vec<String>,
    /// Never grant actions matching this pattern (kms:Delete*); repeatable
    #[arg(long, value_name = "ACTION")]
    pub exclude: Vec<String>,
    /// The service's Read actions that take only "*"; repeatable
    #[arg(long, value_name = "PREFIX")]
    pub service_read: Vec<String>,
    /// The service's Write actions that take only "*"; repeatable
    #[arg(long, value_name = "PREFIX")]
    pub service_write: Vec<String>,
    /// The service's List actions that take only "*"; repeatable
    #[arg(long, value_name = "PREFIX")]
    pub service_list: Vec<String>,
    /// The service's Tagging actions that take only "*"; repeatable
    #[arg(long, value_name = "PREFIX")]
    pub service_tagging: Vec<String>,
    /// The service's Permissions-management actions that take only "*"; repeatable
    #[arg(long, value_name = "PREFIX")]
    pub service_permissions_management: Vec<String>,
    /// Actions to grant on "*" on purpose (reported); repeatable
    #[arg(long, value_name = "ACTION")]
    pub skip_resource_constraints: Vec<String>,
    /// A policy_sentry template (YAML, mode: crud or actions); `-` reads standard input
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Partition of generic ARN patterns
    #[arg(long, default_value = "aws")]
    pub partition: String,
    /// Label of the Terraform data block (default: the template's name, else `policy`)
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub split: crate::split::SplitArgs,
    #[command(flatten)]
    pub fmt: crate::output::PolicyFormatArg,
}

#[derive(clap::Args)]
pub struct TightenArgs {
    /// Policy document (JSON); `-` reads standard input
    pub file: PathBuf,
    /// Replace wildcard actions by the actions they match that can use a listed Resource
    #[arg(long)]
    pub expand_wildcards: bool,
    #[command(flatten)]
    pub split: crate::split::SplitArgs,
    #[command(flatten)]
    pub fmt: crate::output::PolicyFormatArg,
}

/// How `policy write` / `tighten` render their policy, and whether JSON
/// wraps it with its notes (`--format json`).
fn render_format(f: PolicyFormat) -> (Render, bool) {
    match f {
        PolicyFormat::Yaml => (Render::Yaml, false),
        PolicyFormat::Terraform => (Render::Terraform, false),
        PolicyFormat::Json => (Render::Json, true),
        PolicyFormat::Jsonl => (Render::JsonCompact, false),
        PolicyFormat::Table => (Render::Json, false),
    }
}

/// Actions from standard input (`iamref_policy::write::needs`): a list,
/// or `iamref calls` / `iamref api` rows; errors say where, and which
/// output was expected.
fn stdin_needs(text: &str) -> Result<Vec<Need>> {
    use iamref_policy::write::needs::{parse_needs, NeedsErrorKind};
    parse_needs(text).map_err(|e| {
        let at = format!("stdin, line {}", e.line);
        input(match &e.kind {
            NeedsErrorKind::HeaderWithoutAction => format!(
                "{at}: a header row without an `action` column (expected `iamref calls` or `iamref api` output)"
            ),
            NeedsErrorKind::NotAnAction(action) => format!(
                "{at}: {action:?} is not SERVICE:ACTION (expected one action per line, or `iamref calls` / `iamref api` output)"
            ),
            NeedsErrorKind::ContextNotKeyValue(part) => format!(
                "{at}: context {part:?} is not KEY=VALUE (as `iamref api` prints: iam:PassedToService=lambda.amazonaws.com)"
            ),
            NeedsErrorKind::ContextNotConditionKey(part) => {
                format!("{at}: context {part:?} is not CONDITION_KEY=VALUE[|VALUE...]")
            }
        })
    })
}

/// The writer's notes: those that widen the policy are warnings (shown
/// whatever `-q` says), the others notes.
fn print_notes<'a>(notes: impl Iterator<Item = &'a iamref_policy::write::Note>) {
    crate::diag::emit_mixed(notes.map(|n| {
        let level = if n.widens {
            crate::diag::Level::Warning
        } else {
            crate::diag::Level::Note
        };
        (level, n)
    }));
}

pub fn write(conn: &Connection, a: WriteArgs, out: &mut Out, quiet: bool) -> Result<Exit> {
    if let Some(p) = &a.from_cloudtrail {
        return crate::record_cmd::write_from_cloudtrail(
            conn,
            p,
            &a.trail,
            a.include_conditional,
            &a.split,
            out,
            quiet,
        );
    }
    crate::record_cmd::no_trail_flags(&a.trail, a.include_conditional)?;
    let (fmt, wrap) = render_format(a.fmt.format);
    split_format(a.fmt.format, &a.split)?;
    let mut req = Request::default();
    let mut name = a.name.clone();
    let mut stdin_used = false;
    if let Some(t) = &a.template {
        let (file, text) = crate::input::read_text(Some(t))?;
        stdin_used = t.as_os_str() == "-";
        let tpl = template::parse(&file, &text).map_err(|e| input(e.to_string()))?;
        tpl.merge_into(&mut req);
        if name.is_none() {
            name = tpl.name.clone();
        }
    }
    for p in &a.actions {
        if p == "-" {
            if stdin_used {
                return Err(input("standard input can be read once: `-` is given twice"));
            }
            stdin_used = true;
            let (_, text) = crate::input::read_text(None)?;
            req.needs.extend(stdin_needs(&text)?);
        } else {
            crate::lookup::check_name("action", p)?;
            req.needs.push(Need::new(p.clone()));
        }
    }
    for r in &a.resources {
        crate::lookup::check_name("--resource ARN", r)?;
    }
    req.resources = a.resources.clone();
    for (level, arns) in [
        (AccessLevel::Read, &a.read),
        (AccessLevel::Write, &a.write),
        (AccessLevel::List, &a.list),
        (AccessLevel::Tagging, &a.tagging),
        (
            AccessLevel::PermissionsManagement,
            &a.permissions_management,
        ),
    ] {
        for arn in arns {
            crate::lookup::check_name(&format!("--{} ARN", level.template_key()), arn)?;
            req.access.push((level, arn.clone()));
        }
    }
    for (level, prefixes) in [
        (AccessLevel::Read, &a.service_read),
        (AccessLevel::Write, &a.service_write),
        (AccessLevel::List, &a.service_list),
        (AccessLevel::Tagging, &a.service_tagging),
        (
            AccessLevel::PermissionsManagement,
            &a.service_permissions_management,
        ),
    ] {
        for p in prefixes {
            req.service_wildcard.push((level, p.clone()));
        }
    }
    req.exclude.extend(a.exclude.iter().cloned());
    req.skip_resource_constraints
        .extend(a.skip_resource_constraints.iter().cloned());
    req.options.widen = a.widen;
    req.options.include_dependent = a.include_dependent;
    if !iamref_policy::arn::PARTITIONS.contains(&a.partition.as_str()) {
        return Err(input(format!(
            "--partition {:?} is not an AWS partition ({})",
            a.partition,
            iamref_policy::arn::PARTITIONS.join(", ")
        )));
    }
    req.options.partition = a.partition.clone();
    req.check().map_err(|e| {
        input(match e {
            RequestError::Nothing => "nothing to write: give actions (s3:GetObject, or `-` for standard input), --read/--write/... ARNs, or --template FILE",
            RequestError::ResourcesWithoutActions => "-r ARNs scope named actions; with access levels use --read ARN, --write ARN, ... instead",
        })
    })?;
    let cat = crate::catalog::for_request(conn, &req)?;
    // Stops, unknown actions, bad ARNs: exit 2 with the writer's message.
    let written = write_policy(&cat, &req).map_err(|e| input(write_error(&e)))?;
    print_notes(written.notes.iter());
    let policy = written.policy();
    if let Some(paths) = crate::split::write_parts(&policy, &a.split)? {
        crate::split::print_paths(out.w(), &paths)?;
        return Ok(Exit::Found);
    }
    let w = out.w();
    if wrap {
        let doc = json!({"policy": policy, "notes": written.notes});
        w.write_all(render(&doc, Render::Json, "").as_bytes())?;
    } else {
        w.write_all(render(&policy, fmt, name.as_deref().unwrap_or("policy")).as_bytes())?;
    }
    Ok(Exit::Found)
}

/// `--split` writes JSON policy files: not with `--format yaml|terraform`.
fn split_format(f: PolicyFormat, split: &crate::split::SplitArgs) -> Result<()> {
    match (&split.split, f) {
        (Some(_), PolicyFormat::Yaml | PolicyFormat::Terraform) => Err(input(format!(
            "--split writes JSON policy files; it does not take --format {}",
            clap::ValueEnum::to_possible_value(&f)
                .map(|v| v.get_name().to_string())
                .unwrap_or_default()
        ))),
        _ => Ok(()),
    }
}

pub fn tighten_cmd(conn: &Connection, a: TightenArgs, out: &mut Out, quiet: bool) -> Result<Exit> {
    let (fmt, wrap) = render_format(a.fmt.format);
    split_format(a.fmt.format, &a.split)?;
    let (name, text) = crate::input::read_text(Some(&a.file))?;
    // A UTF-8 byte order mark (editors on Windows write one) is not JSON:
    // skipped, as `policy check` does.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let policy: Value = serde_json::from_str(text).map_err(|e| {
        input(format!(
            "{name}: not a JSON policy document: {e} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let cat = crate::catalog::for_request(conn, &catalog_request(&policy))?;
    let t = tighten(
        &cat,
        &policy,
        TightenOptions {
            expand_wildcards: a.expand_wildcards,
        },
    )
    .map_err(|e| input(format!("{name}: {e}")))?;
    {
        let mut err = std::io::stderr().lock();
        for r in &t.removed {
            writeln!(err, "{r}")?;
        }
        if !quiet {
            for (i, pat, acts) in &t.expanded {
                writeln!(
                    err,
                    "statement {i}: {pat} expanded to {} action(s): {}",
                    acts.len(),
                    acts.join(", ")
                )?;
            }
        }
    }
    if let Some(paths) = crate::split::write_parts(&t.policy, &a.split)? {
        crate::split::print_paths(out.w(), &paths)?;
        return Ok(Exit::check(t.changed));
    }
    let w = out.w();
    if wrap {
        let doc = json!({"policy": t.policy, "removed": t.removed, "changed": t.changed});
        w.write_all(render(&doc, Render::Json, "").as_bytes())?;
    } else {
        w.write_all(render(&t.policy, fmt, "policy").as_bytes())?;
    }
    // Exit 1 when something changed, as `diff` does.
    Ok(Exit::check(t.changed))
}

/// A writer's refusal as the binary words it: the stops name `--widen`
/// and `-r`.
pub fn write_error(e: &WriteError) -> String {
    match e {
        WriteError::Unscoped(stops) => iamref_policy::write::unscoped_text(
            stops,
            "--widen would grant",
            "give ARNs of those resource types (-r ARN), or pass --widen to grant the generic patterns (each reported as a note)",
        ),
        e => e.to_string(),
    }
}
