//! Cases written from AWS's documentation of the policy evaluation logic
//! (same-account and cross-account requests, permissions boundaries,
//! session policies, SCP and RCP levels). The policies are constructed for
//! these tests.

use super::*;
use crate::document::parse;

const ME: &str = "111122223333";
const OTHER: &str = "444455556666";

fn doc(file: &str, text: &str) -> Doc {
    Doc {
        file: file.into(),
        position: None,
        policy: parse(text).unwrap(),
    }
}

/// A policy of one statement.
fn pol(file: &str, effect: &str, action: &str, resource: &str) -> Doc {
    doc(
        file,
        &format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "{effect}", "Action": "{action}", "Resource": "{resource}"}}]}}"#
        ),
    )
}

/// A resource-based policy granting `action` to `principal` (an `AWS`
/// principal value).
fn rbp(effect: &str, principal: &str, action: &str) -> Doc {
    doc(
        "bucket.json",
        &format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "Grant", "Effect": "{effect}", "Principal": {{"AWS": "{principal}"}}, "Action": "{action}", "Resource": "arn:aws:s3:::b/*"}}]}}"#
        ),
    )
}

fn req(action: &str, resource: &str, principal: &str) -> Request {
    Request {
        action: action.into(),
        resource: resource.into(),
        principal: Some(principal.into()),
        resource_account: Some(ME.into()),
        context: Context::new(),
    }
}

fn user() -> String {
    format!("arn:aws:iam::{ME}:user/ana")
}
fn session() -> String {
    format!("arn:aws:sts::{ME}:assumed-role/App/s1")
}
fn role() -> String {
    format!("arn:aws:iam::{ME}:role/App")
}

fn get(p: &Policies, r: &Request) -> (Decision, Vec<PolicyType>) {
    let o = evaluate(p, r);
    (o.decision, o.blocked_by)
}

#[test]
fn explicit_deny_wins_and_implicit_deny_is_the_default() {
    let mut p = Policies::default();
    let r = req("s3:GetObject", "arn:aws:s3:::b/k", &user());
    assert_eq!(
        get(&p, &r),
        (Decision::ImplicitDeny, vec![PolicyType::Identity])
    );
    p.identity.push(pol("id.json", "Allow", "s3:*", "*"));
    assert_eq!(get(&p, &r).0, Decision::Allowed);
    p.identity
        .push(pol("deny.json", "Deny", "s3:GetObject", "arn:aws:s3:::b/*"));
    assert_eq!(
        get(&p, &r),
        (Decision::ExplicitDeny, vec![PolicyType::Identity])
    );
    // A deny in a resource policy wins over an identity allow too.
    p.identity.pop();
    p.resource.push(rbp("Deny", "*", "s3:GetObject"));
    assert_eq!(
        get(&p, &r),
        (Decision::ExplicitDeny, vec![PolicyType::Resource])
    );
}

#[test]
fn statements_keep_file_index_sid_line_and_the_failing_element() {
    let mut p = Policies::default();
    p.identity.push(doc(
        "id.json",
        "{\"Version\": \"2012-10-17\", \"Statement\": [\n{\"Sid\": \"A\", \"Effect\": \"Allow\", \"Action\": \"s3:PutObject\", \"Resource\": \"*\"},\n{\"Sid\": \"B\", \"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::other/*\"},\n{\"Sid\": \"C\", \"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\", \"Condition\": {\"IpAddress\": {\"aws:SourceIp\": \"203.0.113.0/24\"}}}]}",
    ));
    let mut r = req("s3:GetObject", "arn:aws:s3:::b/k", &user());
    r.context.set("aws:SourceIp", vec!["198.51.100.7".into()]);
    let o = evaluate(&p, &r);
    assert_eq!(o.decision, Decision::ImplicitDeny);
    let f: Vec<(&str, &str, u32)> = o
        .statements
        .iter()
        .map(|t| {
            (
                t.sid.as_deref().unwrap(),
                t.failed.as_ref().unwrap().element,
                t.line,
            )
        })
        .collect();
    assert_eq!(
        f,
        [
            ("A", "Action", 2),
            ("B", "Resource", 3),
            ("C", "Condition", 4)
        ]
    );
    let c = o.statements[2]
        .failed
        .as_ref()
        .unwrap()
        .condition
        .as_ref()
        .unwrap();
    assert_eq!(c.key, "aws:SourceIp");
    assert_eq!(c.actual.as_deref(), Some(&["198.51.100.7".to_string()][..]));
    r.context.set("aws:sourceip", vec!["203.0.113.9".into()]);
    let o = evaluate(&p, &r);
    assert_eq!(o.decision, Decision::Allowed);
    assert!(o.statements[2].applied);
}

#[test]
fn not_action_and_not_resource() {
    let mut p = Policies::default();
    p.identity.push(pol("id.json", "Allow", "s3:*", "*"));
    p.identity.push(doc(
        "deny.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "NotAction": "s3:Get*", "NotResource": "arn:aws:s3:::public/*"}]}"#,
    ));
    let ok = |a: &str, res: &str| get(&p, &req(a, res, &user())).0;
    assert_eq!(ok("s3:GetObject", "arn:aws:s3:::b/k"), Decision::Allowed);
    assert_eq!(
        ok("s3:PutObject", "arn:aws:s3:::b/k"),
        Decision::ExplicitDeny
    );
    assert_eq!(
        ok("s3:PutObject", "arn:aws:s3:::public/k"),
        Decision::Allowed
    );
}

#[test]
fn policy_variables_in_resources() {
    let mut p = Policies::default();
    p.identity.push(pol(
        "id.json",
        "Allow",
        "s3:GetObject",
        "arn:aws:s3:::b/home/${aws:username}/*",
    ));
    let d = |res: &str| get(&p, &req("s3:GetObject", res, &user())).0;
    assert_eq!(d("arn:aws:s3:::b/home/ana/x"), Decision::Allowed);
    assert_eq!(d("arn:aws:s3:::b/home/bob/x"), Decision::ImplicitDeny);
    // A role session has no aws:username: the entry matches nothing.
    assert_eq!(
        get(
            &p,
            &req("s3:GetObject", "arn:aws:s3:::b/home/ana/x", &session())
        )
        .0,
        Decision::ImplicitDeny
    );
    // Version 2008-10-17 substitutes nothing.
    let mut old = Policies::default();
    old.identity.push(doc(
        "old.json",
        r#"{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/home/${aws:username}/*"}]}"#,
    ));
    assert_eq!(
        get(
            &old,
            &req("s3:GetObject", "arn:aws:s3:::b/home/ana/x", &user())
        )
        .0,
        Decision::ImplicitDeny
    );
    assert_eq!(
        get(
            &old,
            &req(
                "s3:GetObject",
                "arn:aws:s3:::b/home/${aws:username}/x",
                &user()
            )
        )
        .0,
        Decision::Allowed
    );
}

#[test]
fn same_account_resource_policy_grants_on_its_own() {
    // The User Guide: within one account, a resource-based policy naming
    // the IAM user or the role session is enough.
    let r_user = req("s3:GetObject", "arn:aws:s3:::b/k", &user());
    let r_sess = req("s3:GetObject", "arn:aws:s3:::b/k", &session());
    for (principal, r) in [(user(), &r_user), (session(), &r_sess)] {
        let mut p = Policies::default();
        p.resource.push(rbp("Allow", &principal, "s3:GetObject"));
        let o = evaluate(&p, r);
        assert_eq!(o.decision, Decision::Allowed, "{principal}");
        // ... even under a boundary that allows nothing, and a session
        // policy that allows nothing (the session named directly).
        p.boundary = Some(vec![pol("b.json", "Allow", "ec2:*", "*")]);
        p.session = Some(vec![pol("s.json", "Allow", "ec2:*", "*")]);
        assert_eq!(get(&p, r).0, Decision::Allowed, "{principal}");
    }
    // Naming the account delegates to identity policies.
    let mut p = Policies::default();
    p.resource.push(rbp("Allow", ME, "s3:GetObject"));
    assert_eq!(
        get(&p, &r_user),
        (Decision::ImplicitDeny, vec![PolicyType::Identity])
    );
    p.identity
        .push(pol("id.json", "Allow", "s3:GetObject", "*"));
    assert_eq!(get(&p, &r_user).0, Decision::Allowed);
}

#[test]
fn resource_policy_naming_the_role_is_limited_by_boundary_and_session() {
    let r = req("s3:GetObject", "arn:aws:s3:::b/k", &session());
    let mut p = Policies::default();
    p.resource.push(rbp("Allow", &role(), "s3:GetObject"));
    assert_eq!(
        get(&p, &r).0,
        Decision::Allowed,
        "no identity policy needed"
    );
    p.boundary = Some(vec![pol("b.json", "Allow", "ec2:*", "*")]);
    assert_eq!(
        get(&p, &r),
        (Decision::ImplicitDeny, vec![PolicyType::Boundary])
    );
    p.boundary = Some(vec![pol("b.json", "Allow", "s3:*", "*")]);
    p.session = Some(vec![pol("s.json", "Allow", "ec2:*", "*")]);
    assert_eq!(
        get(&p, &r),
        (Decision::ImplicitDeny, vec![PolicyType::Session])
    );
}

#[test]
fn cross_account_needs_both_sides() {
    let mut r = req("s3:GetObject", "arn:aws:s3:::b/k", &session());
    r.resource_account = Some(OTHER.into());
    let mut p = Policies::default();
    p.identity
        .push(pol("id.json", "Allow", "s3:GetObject", "*"));
    let o = evaluate(&p, &r);
    assert!(o.cross_account);
    assert_eq!(
        (o.decision, o.blocked_by),
        (Decision::ImplicitDeny, vec![PolicyType::Resource])
    );
    p.resource.push(rbp("Allow", ME, "s3:GetObject"));
    assert_eq!(get(&p, &r).0, Decision::Allowed);
    // The resource side alone is not enough across accounts.
    p.identity.clear();
    assert_eq!(
        get(&p, &r),
        (Decision::ImplicitDeny, vec![PolicyType::Identity])
    );
    // Nor is a grant naming the session itself.
    p.resource = vec![rbp("Allow", &session(), "s3:GetObject")];
    assert_eq!(
        get(&p, &r),
        (Decision::ImplicitDeny, vec![PolicyType::Identity])
    );
    // A resource policy naming a different account does not grant.
    p.identity
        .push(pol("id.json", "Allow", "s3:GetObject", "*"));
    p.resource = vec![rbp("Allow", "999988887777", "s3:GetObject")];
    assert_eq!(
        get(&p, &r),
        (Decision::ImplicitDeny, vec![PolicyType::Resource])
    );
    // The account ID comes from the ARN when it has one.
    let mut r2 = req(
        "sqs:SendMessage",
        &format!("arn:aws:sqs:us-east-1:{OTHER}:q"),
        &session(),
    );
    r2.resource_account = None;
    let mut p2 = Policies::default();
    p2.identity.push(pol("id.json", "Allow", "sqs:*", "*"));
    assert!(evaluate(&p2, &r2).cross_account);
}

#[test]
fn boundary_and_session_policy_intersect() {
    let r = req("s3:PutObject", "arn:aws:s3:::b/k", &session());
    let mut p = Policies::default();
    p.identity.push(pol("id.json", "Allow", "s3:*", "*"));
    p.boundary = Some(vec![pol("b.json", "Allow", "s3:GetObject", "*")]);
    assert_eq!(
        get(&p, &r),
        (Decision::ImplicitDeny, vec![PolicyType::Boundary])
    );
    p.boundary = Some(vec![
        pol("b.json", "Allow", "s3:GetObject", "*"),
        pol("b2.json", "Allow", "s3:PutObject", "*"),
    ]);
    assert_eq!(
        get(&p, &r).0,
        Decision::Allowed,
        "any boundary policy allows"
    );
    p.session = Some(vec![pol("s.json", "Allow", "s3:GetObject", "*")]);
    assert_eq!(
        get(&p, &r),
        (Decision::ImplicitDeny, vec![PolicyType::Session])
    );
    // The boundary alone grants nothing.
    p.identity.clear();
    p.session = None;
    assert_eq!(
        get(&p, &r),
        (Decision::ImplicitDeny, vec![PolicyType::Identity])
    );
    // An empty boundary list allows nothing.
    p.identity.push(pol("id.json", "Allow", "s3:*", "*"));
    p.boundary = Some(Vec::new());
    assert_eq!(
        get(&p, &r),
        (Decision::ImplicitDeny, vec![PolicyType::Boundary])
    );
}

#[test]
fn scp_every_level_must_allow() {
    let r = req("ec2:RunInstances", "*", &session());
    let mut p = Policies::default();
    p.identity.push(pol("id.json", "Allow", "*", "*"));
    let full = || pol("FullAWSAccess.json", "Allow", "*", "*");
    p.scp = vec![
        vec![full()],
        vec![pol("ou.json", "Allow", "s3:*", "*")],
        vec![full()],
    ];
    let o = evaluate(&p, &r);
    assert_eq!(
        (o.decision, o.blocked_by.clone()),
        (Decision::ImplicitDeny, vec![PolicyType::Scp])
    );
    let states: Vec<(Option<usize>, State)> = o
        .layers
        .iter()
        .filter(|l| l.policy_type == PolicyType::Scp)
        .map(|l| (l.level, l.state))
        .collect();
    assert_eq!(
        states,
        [
            (Some(0), State::Allow),
            (Some(1), State::ImplicitDeny),
            (Some(2), State::Allow)
        ]
    );
    // A level allows what any of its policies allows.
    p.scp[1].push(pol("ou2.json", "Allow", "ec2:*", "*"));
    assert_eq!(get(&p, &r).0, Decision::Allowed);
    // An SCP grants nothing by itself.
    p.identity.clear();
    assert_eq!(
        get(&p, &r),
        (Decision::ImplicitDeny, vec![PolicyType::Identity])
    );
    // A deny at any level wins.
    p.identity.push(pol("id.json", "Allow", "*", "*"));
    p.scp[2].push(pol("deny.json", "Deny", "ec2:RunInstances", "*"));
    assert_eq!(get(&p, &r), (Decision::ExplicitDeny, vec![PolicyType::Scp]));
    // SCPs do not restrict service-linked roles.
    let slr = req(
        "ec2:RunInstances",
        "*",
        &format!("arn:aws:sts::{ME}:assumed-role/AWSServiceRoleForX/s"),
    );
    let mut q = Policies::default();
    q.identity.push(pol("id.json", "Allow", "*", "*"));
    q.scp = vec![vec![pol("deny.json", "Deny", "*", "*")]];
    assert_eq!(
        get(&q, &slr).0,
        Decision::ExplicitDeny,
        "a role without the path is restricted"
    );
    let slr = req(
        "ec2:RunInstances",
        "*",
        &format!("arn:aws:iam::{ME}:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX"),
    );
    let o = evaluate(&q, &slr);
    assert_eq!(o.decision, Decision::Allowed);
    assert!(o.notes.iter().any(|n| n.contains("service-linked")));
}

#[test]
fn rcp_full_access_is_assumed_only_denies_count() {
    let r = req("s3:GetObject", "arn:aws:s3:::b/k", &session());
    let mut p = Policies::default();
    p.identity.push(pol("id.json", "Allow", "s3:*", "*"));
    // A level whose own policies allow nothing still allows: RCPFullAccess.
    p.rcp = vec![vec![pol("rcp.json", "Allow", "sqs:*", "*")], vec![]];
    let o = evaluate(&p, &r);
    assert_eq!(o.decision, Decision::Allowed);
    assert!(o
        .layers
        .iter()
        .filter(|l| l.policy_type == PolicyType::Rcp)
        .all(|l| l.state == State::Allow));
    p.rcp[1].push(doc(
        "rcp-deny.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc"}}}]}"#,
    ));
    assert_eq!(get(&p, &r), (Decision::ExplicitDeny, vec![PolicyType::Rcp]));
    let mut r2 = r.clone();
    r2.context.set("aws:PrincipalOrgID", vec!["o-abc".into()]);
    assert_eq!(get(&p, &r2).0, Decision::Allowed);
}

#[test]
fn endpoint_policy_must_allow() {
    let r = req("s3:GetObject", "arn:aws:s3:::b/k", &session());
    let mut p = Policies::default();
    p.identity.push(pol("id.json", "Allow", "s3:*", "*"));
    p.endpoint = Some(vec![doc(
        "vpce.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}]}"#,
    )]);
    assert_eq!(
        get(&p, &r),
        (Decision::ImplicitDeny, vec![PolicyType::Endpoint])
    );
}

#[test]
fn principal_kinds_in_resource_policies() {
    let svc = Request {
        action: "sqs:SendMessage".into(),
        resource: format!("arn:aws:sqs:us-east-1:{ME}:q"),
        principal: Some("sns.amazonaws.com".into()),
        resource_account: None,
        context: Context::new(),
    };
    let mut p = Policies::default();
    p.resource.push(doc(
        "queue.json",
        &format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"Service": "sns.amazonaws.com"}}, "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:{ME}:q", "Condition": {{"ArnEquals": {{"aws:SourceArn": "arn:aws:sns:us-east-1:{ME}:t"}}}}}}]}}"#
        ),
    ));
    assert_eq!(get(&p, &svc).0, Decision::ImplicitDeny, "no aws:SourceArn");
    let mut s2 = svc.clone();
    s2.context.set(
        "aws:SourceArn",
        vec![format!("arn:aws:sns:us-east-1:{ME}:t")],
    );
    assert_eq!(get(&p, &s2).0, Decision::Allowed);
    // NotPrincipal: applies to everyone it does not name.
    let mut q = Policies::default();
    q.identity.push(pol("id.json", "Allow", "s3:*", "*"));
    q.resource.push(doc(
        "bucket.json",
        &format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Deny", "NotPrincipal": {{"AWS": "{}"}}, "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}}]}}"#,
            user()
        ),
    ));
    assert_eq!(
        get(&q, &req("s3:GetObject", "arn:aws:s3:::b/k", &user())).0,
        Decision::Allowed
    );
    assert_eq!(
        get(&q, &req("s3:GetObject", "arn:aws:s3:::b/k", &session())).0,
        Decision::ExplicitDeny
    );
}

#[test]
fn derived_context_keys() {
    let mut p = Policies::default();
    p.identity.push(doc(
        "id.json",
        &format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {{"StringEquals": {{"aws:PrincipalAccount": "{ME}", "aws:ResourceAccount": "{ME}"}}, "ArnLike": {{"aws:PrincipalArn": "arn:aws:iam::{ME}:role/App"}}}}}}]}}"#
        ),
    ));
    assert_eq!(
        get(&p, &req("s3:GetObject", "arn:aws:s3:::b/k", &session())).0,
        Decision::Allowed
    );
    assert_eq!(
        get(&p, &req("s3:GetObject", "arn:aws:s3:::b/k", &user())).0,
        Decision::ImplicitDeny,
        "AND across operators: the user is not the role"
    );
    // A resource ARN without an account: the principal's is assumed, said.
    let mut r = req("s3:GetObject", "arn:aws:s3:::b/k", &session());
    r.resource_account = None;
    let o = evaluate(&p, &r);
    assert_eq!(o.decision, Decision::Allowed);
    assert!(o.notes[0].contains("names no account"));
}

#[test]
fn wildcard_only_actions_need_a_star_resource() {
    let mut p = Policies::default();
    p.identity.push(pol(
        "id.json",
        "Allow",
        "s3:ListAllMyBuckets",
        "arn:aws:s3:::*",
    ));
    assert_eq!(
        get(&p, &req("s3:ListAllMyBuckets", "*", &user())).0,
        Decision::ImplicitDeny
    );
    p.identity
        .push(pol("id2.json", "Allow", "s3:ListAllMyBuckets", "*"));
    assert_eq!(
        get(&p, &req("s3:ListAllMyBuckets", "*", &user())).0,
        Decision::Allowed
    );
}

#[test]
fn knowledge_of_the_reference() {
    use crate::arn::Matcher;
    let cat = crate::catalog::tests::small();
    let mut m = Matcher::new();
    let mut p = Policies::default();
    p.identity.push(pol(
        "id.json",
        "Allow",
        "s3:ListAllMyBuckets",
        "arn:aws:s3:::*",
    ));
    p.identity.push(doc(
        "tags.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEqualsIfExists": {"aws:RequestTag/x": "1"}}}]}"#,
    ));
    let k = knowledge::knowledge(
        &cat,
        &mut m,
        &p,
        &req("s3:GetObject", "arn:aws:s3:::b/k", &user()),
    );
    assert_eq!(k.resource_type.as_deref(), Some("s3:object"));
    assert!(
        k.notes
            .iter()
            .any(|n| n.contains("s3:GetObject supplies no aws:RequestTag/x")),
        "{:?}",
        k.notes
    );
    let k = knowledge::knowledge(
        &cat,
        &mut m,
        &p,
        &req("s3:GetObject", "arn:aws:s3:::b", &user()),
    );
    assert_eq!(k.resource_type, None);
    assert!(
        k.notes
            .iter()
            .any(|n| n.contains("cannot take this ARN: it is a s3:bucket")),
        "{:?}",
        k.notes
    );
    let k = knowledge::knowledge(&cat, &mut m, &p, &req("s3:ListAllMyBuckets", "*", &user()));
    assert!(
        k.notes.iter().any(|n| n.contains("takes only \"*\"")),
        "{:?}",
        k.notes
    );
    let k = knowledge::knowledge(&cat, &mut m, &p, &req("s3:GetObjekt", "*", &user()));
    assert!(k.notes[0].contains("no action s3:GetObjekt"));
}

// ---------------------------------------------------------------------------
// The writer and tighten, decided by the simulator
// ---------------------------------------------------------------------------

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:ListAllMyBuckets",
    "dynamodb:GetItem",
    "dynamodb:Query",
];
const ARNS: &[&str] = &[
    "arn:aws:s3:::b1",
    "arn:aws:s3:::b1/k",
    "arn:aws:s3:::b2",
    "arn:aws:s3:::b2/x/y",
    "arn:aws:dynamodb:us-east-1:111122223333:table/T",
    "arn:aws:dynamodb:us-east-1:111122223333:table/T/index/I",
    "arn:aws:dynamodb:us-east-1:111122223333:table/U",
    "*",
];

fn policy_doc(v: &serde_json::Value) -> Doc {
    doc("written.json", &v.to_string())
}

fn allowed(p: &Policies, action: &str, arn: &str) -> bool {
    let mut r = req(action, arn, &user());
    r.resource_account = Some(ME.into());
    evaluate(p, &r).decision == Decision::Allowed
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// What `policy write` produces allows every requested (action, ARN)
    /// the action can take, and nothing else except what its notes report.
    #[test]
    fn the_writer_allows_what_was_asked_and_no_more(
        picks in proptest::collection::vec((0..ACTIONS.len(), 0..ARNS.len() - 1), 1..5)
    ) {
        let cat = crate::catalog::tests::small();
        let mut m = crate::arn::Matcher::new();
        let mut needs: Vec<crate::write::Need> = Vec::new();
        for (a, r) in &picks {
            let action = ACTIONS[*a];
            match needs.iter_mut().find(|n| n.action == action) {
                Some(n) => n.resources.push(ARNS[*r].to_string()),
                None => {
                    let mut n = crate::write::Need::new(action);
                    n.resources.push(ARNS[*r].to_string());
                    needs.push(n);
                }
            }
        }
        let wreq = crate::write::Request { needs: needs.clone(), ..Default::default() };
        let Ok(w) = crate::write::write_policy(&cat, &wreq) else {
            // The writer stops (exit 2 in the CLI) rather than widen.
            return Ok(());
        };
        let mut p = Policies::default();
        p.identity.push(policy_doc(&w.policy()));
        // Asked: every pair the action can take is allowed.
        for n in &needs {
            for arn in &n.resources {
                let takes = {
                    let r = req(&n.action, arn, &user());
                    let k = knowledge::knowledge(&cat, &mut m, &Policies::default(), &r);
                    k.resource_type.is_some()
                };
                if takes {
                    prop_assert!(allowed(&p, &n.action, arn), "{} on {arn} not allowed by {}", n.action, w.policy());
                }
            }
        }
        // Not asked: allowed only where a note reports it.
        for action in ACTIONS {
            for arn in ARNS {
                if !allowed(&p, action, arn) {
                    continue;
                }
                let asked = needs.iter().any(|n| n.action == *action && n.resources.iter().any(|r| r == arn));
                let noted = w.notes.iter().any(|note| {
                    note.action.as_deref().is_none_or(|a| a.eq_ignore_ascii_case(action))
                        && note.resources.iter().any(|r| {
                            context::expand(r, &Context::new(), true, true)
                                .is_ok_and(|t| context::arn_match(&t, arn))
                        })
                });
                let wildcard_only = *action == "s3:ListAllMyBuckets" && needs.iter().any(|n| n.action == *action);
                prop_assert!(asked || noted || wildcard_only, "{action} on {arn} allowed unasked by {} (notes {:?})", w.policy(), w.notes);
            }
        }
    }

    /// `policy tighten` never allows a request the input denied.
    #[test]
    fn tighten_never_allows_more(
        stmts in proptest::collection::vec(
            (proptest::collection::vec(0..ACTIONS.len(), 1..4), proptest::collection::vec(0..ARNS.len(), 1..4)),
            1..4,
        ),
        expand in any::<bool>(),
    ) {
        let cat = crate::catalog::tests::small();
        let st: Vec<serde_json::Value> = stmts
            .iter()
            .map(|(a, r)| {
                serde_json::json!({
                    "Effect": "Allow",
                    "Action": a.iter().map(|i| ACTIONS[*i]).collect::<Vec<_>>(),
                    "Resource": r.iter().map(|i| ARNS[*i]).collect::<Vec<_>>(),
                })
            })
            .collect();
        let input = serde_json::json!({"Version": "2012-10-17", "Statement": st});
        let Ok(t) = crate::write::tighten::tighten(
            &cat,
            &input,
            crate::write::tighten::TightenOptions { expand_wildcards: expand },
        ) else {
            return Ok(());
        };
        let mut before = Policies::default();
        before.identity.push(policy_doc(&input));
        let mut after = Policies::default();
        after.identity.push(policy_doc(&t.policy));
        for action in ACTIONS {
            for arn in ARNS {
                if allowed(&after, action, arn) {
                    prop_assert!(allowed(&before, action, arn), "{action} on {arn}: tighten allowed what {input} denied: {}", t.policy);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// `policy prune` never allows a request the input denied, and allows
    /// every recorded call the input allowed.
    #[test]
    fn prune_never_allows_more_and_keeps_what_was_used(
        stmts in proptest::collection::vec(
            (proptest::collection::vec(0..ACTIONS.len() + 2, 1..4), proptest::collection::vec(0..ARNS.len(), 1..4)),
            1..4,
        ),
        calls in proptest::collection::vec((0..ACTIONS.len(), 0..ARNS.len()), 0..6),
    ) {
        let action = |i: usize| match i {
            i if i < ACTIONS.len() => ACTIONS[i],
            i if i == ACTIONS.len() => "s3:*",
            _ => "dynamodb:Get*",
        };
        let st: Vec<serde_json::Value> = stmts
            .iter()
            .map(|(a, r)| {
                serde_json::json!({
                    "Effect": "Allow",
                    "Action": a.iter().map(|i| action(*i)).collect::<Vec<_>>(),
                    "Resource": r.iter().map(|i| ARNS[*i]).collect::<Vec<_>>(),
                })
            })
            .collect();
        let input = serde_json::json!({"Version": "2012-10-17", "Statement": st});
        let calls: Vec<prune::Call> = calls
            .iter()
            .map(|(a, r)| prune::Call { action: ACTIONS[*a].into(), resource: ARNS[*r].into() })
            .collect();
        let out = prune::prune(&input, &calls, None).unwrap();
        let mut before = Policies::default();
        before.identity.push(policy_doc(&input));
        let mut after = Policies::default();
        after.identity.push(policy_doc(&out.policy));
        for a in ACTIONS {
            for arn in ARNS {
                if allowed(&after, a, arn) {
                    prop_assert!(allowed(&before, a, arn), "{a} on {arn}: prune allowed what {input} denied: {}", out.policy);
                }
            }
        }
        for (i, c) in calls.iter().enumerate() {
            let was = allowed(&before, &c.action, &c.resource);
            prop_assert_eq!(was, !out.denied.contains(&i));
            if was {
                prop_assert!(allowed(&after, &c.action, &c.resource), "{} on {} was used but pruned: {}", c.action, c.resource, out.policy);
            }
        }
    }
}

/// The fast type reading of concrete ARNs agrees with the catalog's answer.
#[test]
fn quick_type_agrees_with_the_catalog() {
    let cat = crate::catalog::tests::small();
    let mut m = crate::arn::Matcher::new();
    let mut seen = 0;
    for a in ACTIONS {
        let f = knowledge::ActionFormats::new(&cat, &mut m, a);
        for arn in ARNS {
            let slow = knowledge::about_resource(
                &cat,
                &mut m,
                &Policies::default(),
                &req(a, arn, &user()),
            );
            if let Some(t) = knowledge::quick_type(&f, arn) {
                assert_eq!(Some(t), slow.resource_type, "{a} {arn}");
                seen += 1;
            }
        }
    }
    assert!(seen >= 8, "{seen}");
}

#[test]
fn a_file_gives_its_policies_or_the_first_reason_it_gives_none() {
    // Constructed policies.
    let one = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
    let docs = Doc::all_of("a.json", one).unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!((&*docs[0].file, docs[0].position), ("a.json", None));
    let list = format!("[{one}, {one}]");
    let docs = Doc::all_of("l.json", &list).unwrap();
    let positions: Vec<_> = docs.iter().map(|d| d.position).collect();
    assert_eq!(positions, [Some(0), Some(1)]);
    match Doc::all_of("x.json", "{\n  \"Version\": ") {
        Err(e @ DocsError::NotJson(_)) => assert!(e.to_string().starts_with("2:"), "{e}"),
        other => panic!("{other:?}"),
    }
    let rejected = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:GetObject","Resource":"*"}]}"#;
    assert!(parse(rejected).unwrap().rejection().is_some());
    assert!(parse(one).unwrap().rejection().is_none());
    match Doc::all_of("r.json", &format!("[{one}, {rejected}]")) {
        Err(DocsError::Rejected(f)) => assert_eq!(f.severity, crate::finding::Severity::Error),
        other => panic!("{other:?}"),
    }
}
