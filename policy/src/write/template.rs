//! policy_sentry's YAML templates, read into a [`Request`].
//!
//! Both modes are accepted as policy_sentry writes them (its
//! `create-template` output included, with its `- ''` placeholders):
//!
//! ```yaml
//! mode: crud            # read / write / list / tagging / permissions-management: ARNs
//! name: MyRole          # the Terraform label; otherwise unused
//! effect: Allow         # or Deny
//! read: [arn:aws:s3:::mybucket/*]
//! wildcard-only:
//!   single-actions: [ecr:GetAuthorizationToken]
//!   service-read: [s3]  # also service-write, -list, -tagging, -permissions-management
//! skip-resource-constraints: [ssm:GetParameter]
//! exclude-actions: ["s3:Delete*"]
//! sts: {assume-role: [arn:aws:iam::123456789012:role/other]}
//! ---
//! mode: actions
//! actions: [s3:GetObject, kms:Decrypt]
//! ```
//!
//! Unknown keys and wrong types are errors naming the key, line and
//! column (policy_sentry prints a schema error and writes nothing).

use super::{AccessLevel, Effect, Need, Request};
use serde::Deserialize;

/// A template that cannot be used: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct TemplateError {
    pub file: String,
    pub message: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    mode: Option<String>,
    name: Option<String>,
    effect: Option<String>,
    read: Option<Vec<String>>,
    write: Option<Vec<String>>,
    list: Option<Vec<String>>,
    tagging: Option<Vec<String>>,
    permissions_management: Option<Vec<String>>,
    wildcard_only: Option<WildcardOnly>,
    skip_resource_constraints: Option<Vec<String>>,
    exclude_actions: Option<Vec<String>>,
    sts: Option<Sts>,
    actions: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct WildcardOnly {
    single_actions: Option<Vec<String>>,
    service_read: Option<Vec<String>>,
    service_write: Option<Vec<String>>,
    service_list: Option<Vec<String>>,
    service_tagging: Option<Vec<String>>,
    service_permissions_management: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Sts {
    assume_role: Option<Vec<String>>,
    assume_role_with_saml: Option<Vec<String>>,
    assume_role_with_web_identity: Option<Vec<String>>,
}

/// What a template asks for, ready to merge into a [`Request`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    /// `crud` or `actions`.
    pub mode: String,
    /// The template's `name` (policy_sentry's role name), if any.
    pub name: Option<String>,
    pub effect: Effect,
    request: Request,
}

impl Template {
    /// The request the template describes (options left at their
    /// defaults, except `effect`).
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Adds what the template asks for to `req` (so `--template` combines
    /// with actions and ARNs given on the command line) and sets its effect.
    pub fn merge_into(&self, req: &mut Request) {
        let r = &self.request;
        req.needs.extend(r.needs.iter().cloned());
        req.access.extend(r.access.iter().cloned());
        req.service_wildcard
            .extend(r.service_wildcard.iter().cloned());
        req.wildcard_only.extend(r.wildcard_only.iter().cloned());
        req.skip_resource_constraints
            .extend(r.skip_resource_constraints.iter().cloned());
        req.exclude.extend(r.exclude.iter().cloned());
        req.options.effect = self.effect;
    }
}

/// 1-based line and column of the first occurrence of `needle` in `text`.
fn locate(text: &str, needle: &str) -> Option<(usize, usize)> {
    let at = text.find(needle)?;
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    Some((line, col))
}

/// Non-empty entries (policy_sentry's templates carry `- ''` placeholders).
fn entries(v: &Option<Vec<String>>) -> impl Iterator<Item = &str> {
    v.iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
}

/// Parses a template. `file` names it in messages.
pub fn parse(file: &str, text: &str) -> Result<Template, TemplateError> {
    let err = |message: String| TemplateError {
        file: file.to_string(),
        message,
    };
    // A UTF-8 byte order mark is not YAML: skipped, as JSON inputs do.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(err(
            "the template is empty; it needs at least `mode: crud` or `mode: actions` (see `iamref policy write --help`)".into(),
        ));
    }
    let raw: Raw = serde_norway::from_str(text).map_err(|e| {
        let mut msg = e.to_string();
        if msg.contains("unknown field") {
            msg.push_str(" (policy_sentry's template keys; see `iamref policy write --help`)");
        }
        err(msg)
    })?;
    let at = |needle: &str| {
        locate(text, needle)
            .map(|(l, c)| format!("line {l}, column {c}: "))
            .unwrap_or_default()
    };
    let mode =
        match raw.mode.as_deref() {
            Some(m @ ("crud" | "actions")) => m.to_string(),
            Some(other) => {
                return Err(err(format!(
                    "{}mode {other:?} is not one of `crud` or `actions`",
                    at("mode")
                )))
            }
            None => return Err(err(
                "no `mode:`; policy_sentry templates start with `mode: crud` or `mode: actions`"
                    .into(),
            )),
        };
    let effect = match raw.effect.as_deref() {
        None | Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        Some(other) => {
            return Err(err(format!(
                "{}effect {other:?} must be `Allow` or `Deny`",
                at("effect")
            )))
        }
    };
    let crud_keys = [
        ("read", raw.read.is_some()),
        ("write", raw.write.is_some()),
        ("list", raw.list.is_some()),
        ("tagging", raw.tagging.is_some()),
        (
            "permissions-management",
            raw.permissions_management.is_some(),
        ),
        ("wildcard-only", raw.wildcard_only.is_some()),
        (
            "skip-resource-constraints",
            raw.skip_resource_constraints.is_some(),
        ),
        ("exclude-actions", raw.exclude_actions.is_some()),
        ("sts", raw.sts.is_some()),
    ];
    let mut request = Request::default();
    if mode == "actions" {
        if let Some((k, _)) = crud_keys.iter().find(|(_, present)| *present) {
            return Err(err(format!(
                "{}`{k}` belongs to `mode: crud`; this template says `mode: actions` (use `actions:` only, or switch the mode)",
                at(&format!("{k}:"))
            )));
        }
        if raw.actions.is_none() {
            return Err(err(
                "`mode: actions` needs an `actions:` list of IAM actions".into(),
            ));
        }
        for a in entries(&raw.actions) {
            check_action(a).map_err(|m| err(format!("{}actions: {m}", at(a))))?;
            request.needs.push(Need::new(a));
        }
    } else {
        if raw.actions.is_some() {
            return Err(err(format!(
                "{}`actions` belongs to `mode: actions`; this template says `mode: crud`",
                at("actions:")
            )));
        }
        let levels = [
            (AccessLevel::Read, &raw.read),
            (AccessLevel::Write, &raw.write),
            (AccessLevel::List, &raw.list),
            (AccessLevel::Tagging, &raw.tagging),
            (
                AccessLevel::PermissionsManagement,
                &raw.permissions_management,
            ),
        ];
        for (level, list) in levels {
            for arn in entries(list) {
                check_arn(arn)
                    .map_err(|m| err(format!("{}{}: {m}", at(arn), level.template_key())))?;
                request.access.push((level, arn.to_string()));
            }
        }
        if let Some(w) = &raw.wildcard_only {
            for a in entries(&w.single_actions) {
                check_action(a)
                    .map_err(|m| err(format!("{}wildcard-only.single-actions: {m}", at(a))))?;
                request.wildcard_only.push(a.to_string());
            }
            let services = [
                (AccessLevel::Read, &w.service_read),
                (AccessLevel::Write, &w.service_write),
                (AccessLevel::List, &w.service_list),
                (AccessLevel::Tagging, &w.service_tagging),
                (
                    AccessLevel::PermissionsManagement,
                    &w.service_permissions_management,
                ),
            ];
            for (level, list) in services {
                for p in entries(list) {
                    if !p
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
                    {
                        return Err(err(format!(
                            "{}wildcard-only.service-{}: {p:?} is not a service prefix (e.g. s3, ec2)",
                            at(p),
                            level.template_key()
                        )));
                    }
                    request.service_wildcard.push((level, p.to_string()));
                }
            }
        }
        for a in entries(&raw.skip_resource_constraints) {
            check_action(a).map_err(|m| err(format!("{}skip-resource-constraints: {m}", at(a))))?;
            request.skip_resource_constraints.push(a.to_string());
        }
        for a in entries(&raw.exclude_actions) {
            check_action(a).map_err(|m| err(format!("{}exclude-actions: {m}", at(a))))?;
            request.exclude.push(a.to_string());
        }
        if let Some(sts) = &raw.sts {
            let kinds = [
                ("assume-role", "sts:AssumeRole", &sts.assume_role),
                (
                    "assume-role-with-saml",
                    "sts:AssumeRoleWithSAML",
                    &sts.assume_role_with_saml,
                ),
                (
                    "assume-role-with-web-identity",
                    "sts:AssumeRoleWithWebIdentity",
                    &sts.assume_role_with_web_identity,
                ),
            ];
            for (key, action, list) in kinds {
                let arns: Vec<String> = entries(list).map(str::to_string).collect();
                for arn in &arns {
                    check_arn(arn).map_err(|m| err(format!("{}sts.{key}: {m}", at(arn))))?;
                }
                if !arns.is_empty() {
                    request.needs.push(Need {
                        action: action.to_string(),
                        resources: arns,
                        ..Need::default()
                    });
                }
            }
        }
    }
    request.options.effect = effect;
    Ok(Template {
        mode,
        name: raw.name.filter(|n| !n.trim().is_empty()),
        effect,
        request,
    })
}

/// `service:Action`, wildcards allowed.
fn check_action(a: &str) -> Result<(), String> {
    let ok = |p: &str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.*?".contains(&b))
    };
    match a.split_once(':') {
        Some((p, n)) if ok(p) && ok(n) => Ok(()),
        _ => Err(format!(
            "{a:?} is not SERVICE:ACTION (e.g. s3:GetObject; wildcards allowed)"
        )),
    }
}

/// The shape of an ARN (the writer checks partition, region, account and
/// which resource types it names).
fn check_arn(a: &str) -> Result<(), String> {
    if a == "*" {
        return Ok(());
    }
    if !a.starts_with("arn:") || a.splitn(6, ':').count() < 6 {
        return Err(format!(
            "{a:?} is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crud_template_with_placeholders() {
        let t = parse(
            "t.yml",
            "mode: crud\nname: ''\nread:\n- 'arn:aws:s3:::b/*'\n- ''\nwrite:\n- ''\nlist:\ntagging: []\n\
             wildcard-only:\n  single-actions:\n  - ''\n  service-read:\n  - s3 # comment\n\
             exclude-actions:\n- 's3:Delete*'\nsts:\n  assume-role:\n  - arn:aws:iam::123456789012:role/x\n",
        )
        .unwrap();
        assert_eq!(t.mode, "crud");
        assert_eq!(t.name, None);
        let r = t.request();
        assert_eq!(
            r.access,
            vec![(AccessLevel::Read, "arn:aws:s3:::b/*".to_string())]
        );
        assert_eq!(
            r.service_wildcard,
            vec![(AccessLevel::Read, "s3".to_string())]
        );
        assert!(r.wildcard_only.is_empty());
        assert_eq!(r.exclude, vec!["s3:Delete*"]);
        assert_eq!(r.needs.len(), 1);
        assert_eq!(r.needs[0].action, "sts:AssumeRole");
        assert_eq!(
            r.needs[0].resources,
            vec!["arn:aws:iam::123456789012:role/x"]
        );
    }

    #[test]
    fn actions_template() {
        let t = parse(
            "a.yml",
            "mode: actions\nname: R\neffect: Deny\nactions:\n- kms:CreateGrant\n- ''\n",
        )
        .unwrap();
        assert_eq!(t.effect, Effect::Deny);
        assert_eq!(t.name.as_deref(), Some("R"));
        assert_eq!(t.request().needs, vec![Need::new("kms:CreateGrant")]);
    }

    #[test]
    fn errors_name_the_place() {
        let e = parse("t.yml", "mode: crud\nreed:\n- arn:aws:s3:::b\n").unwrap_err();
        assert!(
            e.to_string().starts_with("t.yml: unknown field `reed`"),
            "{e}"
        );
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = parse("t.yml", "mode: crud\nread:\n- 3\n- [x]\n").unwrap_err();
        assert!(e.to_string().contains("line 4"), "{e}");
        let e = parse(
            "t.yml",
            "mode: crud\nwrite:\n- 'arn:aws:s3:::b'\n- not-an-arn\n",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.yml: line 4, column 3: write: \"not-an-arn\" is not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)"
        );
        let e = parse(
            "t.yml",
            "mode: actions\nread: [x]\nactions: [s3:GetObject]\n",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("`read` belongs to `mode: crud`"),
            "{e}"
        );
        let e = parse("t.yml", "read: []\n").unwrap_err();
        assert!(e.to_string().contains("no `mode:`"), "{e}");
        let e = parse("t.yml", "mode: crud\neffect: allow\n").unwrap_err();
        assert!(
            e.to_string().contains("line 2, column 1: effect \"allow\""),
            "{e}"
        );
        let e = parse("t.yml", "mode: crud\nread: {a: 1}\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(parse("t.yml", "  \n").is_err());
        assert!(parse("t.yml", "mode: [crud\n").is_err());
    }
}
