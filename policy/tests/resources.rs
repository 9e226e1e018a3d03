//! One resource answer for every command, over the snapshot shipped in
//! `data/` (every service, as `iamref arn` loads them): for ARNs written
//! as AWS's documentation writes them, the type `Catalog::resolve` ranks
//! first, a policy granting an action on it that `check` finds nothing
//! wrong with, a writer that scopes the action to exactly that ARN, and
//! the recorder's judge taking the ARN for the same format.

use iamref_policy::arn::{Matcher, Pattern};
use iamref_policy::check::check;
use iamref_policy::document;
use iamref_policy::record::arns::Judge;
use iamref_policy::resources::GroupClass;
use iamref_policy::write::{write_policy, Catalog, Need, NoteCode, Request, WriteError};
use std::path::Path;
use std::sync::OnceLock;

fn catalog() -> &'static Catalog {
    static CAT: OnceLock<Catalog> = OnceLock::new();
    CAT.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
        let (_, services) = iamref_dataset::snapshot::read_snapshot(&dir).unwrap();
        Catalog::from_services(services)
    })
}

/// (ARN as AWS documents it, the type ranked first, an action taking it).
const CASES: &[(&str, &str, &str)] = &[
    ("arn:aws:s3:::amzn-s3-demo-bucket", "s3:bucket", "s3:ListBucket"),
    ("arn:aws:s3:::amzn-s3-demo-bucket/photos/2024/cat.jpg", "s3:object", "s3:GetObject"),
    ("arn:aws:s3:::logs-bucket/2024-01-01T00:00:00Z.json", "s3:object", "s3:PutObject"),
    ("arn:aws:s3:::amzn-s3-demo-bucket/sessions/user:42/*", "s3:object", "s3:GetObject"),
    ("arn:aws:s3:us-west-2:123456789012:accesspoint/my-access-point", "s3:accesspoint", "s3:GetAccessPointPolicy"),
    ("arn:aws:dynamodb:us-east-1:123456789012:table/Books", "dynamodb:table", "dynamodb:GetItem"),
    // Query requires the table (`table*`); the index is optional: a
    // policy names both (AWS's fine-grained access examples do).
    ("arn:aws:dynamodb:us-east-1:123456789012:table/Books/index/ByAuthor", "dynamodb:index", "dynamodb:Query"),
    ("arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000", "dynamodb:stream", "dynamodb:GetRecords"),
    ("arn:aws:lambda:us-east-1:123456789012:function:my-function", "lambda:function", "lambda:InvokeFunction"),
    ("arn:aws:lambda:us-east-1:123456789012:function:my-function:prod", "lambda:function alias", "lambda:GetProvisionedConcurrencyConfig"),
    ("arn:aws:lambda:us-east-1:123456789012:layer:my-layer", "lambda:layer", "lambda:PublishLayerVersion"),
    ("arn:aws:lambda:us-east-1:123456789012:layer:my-layer:3", "lambda:layerVersion", "lambda:GetLayerVersion"),
    ("arn:aws:ecs:us-east-1:123456789012:task-definition/web:12", "ecs:task-definition", "ecs:TagResource"),
    ("arn:aws:ecs:us-east-1:123456789012:service/prod-cluster/web", "ecs:service", "ecs:UpdateService"),
    ("arn:aws:ecs:us-east-1:123456789012:task/prod-cluster/0123456789abcdef0", "ecs:task", "ecs:StopTask"),
    ("arn:aws:ecs:us-east-1:123456789012:cluster/prod-cluster", "ecs:cluster", "ecs:DescribeClusters"),
    ("arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld", "states:statemachine", "states:StartExecution"),
    ("arn:aws:states:us-east-1:123456789012:execution:HelloWorld:run-1", "states:execution", "states:DescribeExecution"),
    ("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0", "bedrock:foundation-model", "bedrock:InvokeModel"),
    ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0", "bedrock:inference-profile", "bedrock:InvokeModel"),
    ("arn:aws:bedrock:us-east-1:123456789012:agent/ABCDEFGHIJ", "bedrock:agent", "bedrock:GetAgent"),
    ("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "kms:key", "kms:Decrypt"),
    ("arn:aws:kms:us-east-1:123456789012:alias/my-key", "kms:alias", "kms:UpdateAlias"),
    ("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/my-fn", "logs:log-group", "logs:DescribeLogStreams"),
    ("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/my-fn:*", "logs:log-group", "logs:DescribeLogStreams"),
    ("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/my-fn:log-stream:2024/01/01/[$LATEST]abc", "logs:log-stream", "logs:PutLogEvents"),
    ("arn:aws:sns:us-east-1:123456789012:my-topic", "sns:topic", "sns:Publish"),
    ("arn:aws:sqs:us-east-1:123456789012:my-queue", "sqs:queue", "sqs:SendMessage"),
    ("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf", "secretsmanager:Secret", "secretsmanager:GetSecretValue"),
    ("arn:aws:ssm:us-east-1:123456789012:parameter/app/prod/db-url", "ssm:parameter", "ssm:GetParameter"),
    ("arn:aws:iam::123456789012:user/division/alice", "iam:user", "iam:GetUser"),
    ("arn:aws:iam::123456789012:role/service-role/my-role", "iam:role", "iam:GetRole"),
    ("arn:aws:iam::123456789012:instance-profile/web", "iam:instance-profile", "iam:GetInstanceProfile"),
    ("arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0", "ec2:instance", "ec2:StopInstances"),
    ("arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0", "ec2:volume", "ec2:DeleteVolume"),
    ("arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0123456789abcdef0", "ec2:subnet", "ec2:DeleteSubnet"),
    ("arn:aws:backup:us-east-1:123456789012:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45", "backup:recoveryPoint", "backup:DescribeRecoveryPoint"),
    ("arn:aws:backup:us-east-1:123456789012:backup-vault:my-vault", "backup:backupVault", "backup:DescribeBackupVault"),
    ("arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod", "apigateway:Stage", "apigateway:GET"),
    ("arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/pets", "execute-api:execute-api-general", "execute-api:Invoke"),
    ("arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE", "cloudfront:distribution", "cloudfront:CreateInvalidation"),
    ("arn:aws:ecr:us-east-1:123456789012:repository/my-app", "ecr:repository", "ecr:BatchGetImage"),
    ("arn:aws:kinesis:us-east-1:123456789012:stream/clicks", "kinesis:stream", "kinesis:PutRecord"),
    ("arn:aws:events:us-east-1:123456789012:rule/my-rule", "events:rule-on-default-event-bus", "events:PutRule"),
];

fn first(arn: &str) -> (String, String) {
    let cat = catalog();
    let mut m = Matcher::new();
    let p = Pattern::parse(arn).unwrap();
    let found = cat.resolve(&mut m, &p);
    let r = found.first().unwrap_or_else(|| panic!("{arn}: no type"));
    let s = cat.service_at(r.service);
    let rt = &s.resource_types[r.resource_type as usize];
    (
        format!("{}:{}", s.prefix, rt.name),
        cat.formats(r.service, r.resource_type)[r.format as usize]
            .as_str()
            .to_string(),
    )
}

fn policy(action: &str, resources: &[&str]) -> String {
    serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": action, "Resource": resources}
    ]})
    .to_string()
}

/// The findings of `policy check`, but for the risk checks (credentials,
/// escalation), which judge the action, not its resource.
fn findings(text: &str) -> Vec<String> {
    let p = document::parse(text).unwrap();
    check(catalog(), &p)
        .into_iter()
        .filter(|f| !matches!(f.code, "credentials-exposure" | "privilege-escalation"))
        .map(|f| format!("{} {}", f.code, f.message))
        .collect()
}

#[test]
fn documented_arns_resolve_check_write_and_record_alike() {
    let services: std::collections::BTreeSet<&str> = CASES
        .iter()
        .map(|(_, t, _)| t.split(':').next().unwrap())
        .collect();
    assert!(
        CASES.len() >= 40 && services.len() >= 20,
        "{} ARNs, {} services",
        CASES.len(),
        services.len()
    );
    let formats: Vec<String> = catalog()
        .services()
        .iter()
        .flat_map(|s| {
            s.resource_types
                .iter()
                .flat_map(|t| t.arns.iter().map(|a| a.arn.clone()))
        })
        .collect();
    let mut judge = Judge::new(formats.iter().map(String::as_str));
    for (arn, want, action) in CASES {
        let (got, format) = first(arn);
        assert_eq!(got, *want, "iamref arn {arn}");
        // The index's table goes with it (see above).
        let with: Vec<&str> = match *want {
            "dynamodb:index" => vec![*arn, "arn:aws:dynamodb:us-east-1:123456789012:table/Books"],
            _ => vec![*arn],
        };
        let f = findings(&policy(action, &with));
        assert!(f.is_empty(), "policy check of {action} on {arn}: {f:?}");
        let req = Request {
            needs: vec![Need::new(*action)],
            resources: with.iter().map(|s| s.to_string()).collect(),
            ..Request::default()
        };
        let w = write_policy(catalog(), &req)
            .unwrap_or_else(|e| panic!("write {action} -r {arn}: {e}"));
        let mut granted: Vec<&str> = w
            .statements
            .iter()
            .flat_map(|s| &s.resources)
            .map(String::as_str)
            .collect();
        granted.sort();
        let mut expected = with.clone();
        expected.sort();
        assert_eq!(granted, expected, "write {action} -r {arn}");
        assert!(!w.widened(), "write {action} -r {arn}: {:?}", w.notes);
        // The recorder's judge takes the concrete ARNs for the same format
        // (a log group's `:*` spelling is a pattern, not a recorded ARN).
        if !arn.contains('*') && !format.ends_with(":*") {
            assert!(judge.is_instance(&format, arn), "judge: {arn} is {format}");
        }
    }
}

#[test]
fn owners_rank_before_copies_and_vendor_formats_last() {
    // Other services' copies of the same format follow the owner's type.
    let cat = catalog();
    let mut m = Matcher::new();
    for (arn, owner, copy) in [
        (
            "arn:aws:iam::123456789012:user/alice",
            "iam:user",
            "codestar:user",
        ),
        ("arn:aws:iam::123456789012:role/app", "iam:role", "ec2:role"),
        (
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "kms:key",
            "events:key",
        ),
    ] {
        let names: Vec<String> = cat
            .resolve(&mut m, &Pattern::parse(arn).unwrap())
            .iter()
            .map(|r| {
                let s = cat.service_at(r.service);
                format!(
                    "{}:{}",
                    s.prefix, s.resource_types[r.resource_type as usize].name
                )
            })
            .collect();
        assert_eq!(
            names.first().map(String::as_str),
            Some(owner),
            "{arn}: {names:?}"
        );
        assert!(names.iter().any(|n| n == copy), "{arn}: {names:?}");
    }
    // backup's `${Vendor}` format takes none of these (their own
    // namespace's formats do).
    for arn in [
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2:1",
        "arn:aws:ecs:us-east-1:123456789012:task-definition/web:12",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
    ] {
        let found = cat.resolve(&mut m, &Pattern::parse(arn).unwrap());
        assert!(found.iter().all(|r| !r.vendor), "{arn}: {found:?}");
    }
}

fn bedrock_policy(resource: &str) -> String {
    policy("bedrock:InvokeModel", &[resource])
}

#[test]
fn bedrock_models_are_alternatives() {
    let model =
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0";
    assert!(findings(&bedrock_policy(model)).is_empty());
    assert!(findings(&bedrock_policy("arn:aws:bedrock:*::foundation-model/*")).is_empty());
    let id = catalog()
        .action_by_full_name("bedrock:InvokeModel")
        .unwrap();
    assert_eq!(
        catalog().required_groups(id).class,
        GroupClass::Alternatives
    );
    let w = write_policy(
        catalog(),
        &Request {
            needs: vec![Need::new("bedrock:InvokeModel")],
            resources: vec![model.into()],
            ..Request::default()
        },
    )
    .unwrap();
    assert!(w
        .notes
        .iter()
        .any(|n| n.code == NoteCode::Alternatives && n.message.contains("inference-profile")));
}

#[test]
fn conjunctive_groups_still_stop_and_find() {
    let inst = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0";
    let vol = "arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0";
    let f = findings(&policy("ec2:AttachVolume", &[inst]));
    assert!(
        f.iter()
            .any(|f| f.starts_with("missing-required-resource") && f.contains("volume")),
        "{f:?}"
    );
    assert!(findings(&policy("ec2:AttachVolume", &[inst, vol])).is_empty());
    let e = write_policy(
        catalog(),
        &Request {
            needs: vec![Need::new("ec2:AttachVolume")],
            resources: vec![inst.into()],
            ..Request::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(e, WriteError::Unscoped(ref s) if s[0].missing[0].0 == "volume"),
        "{e}"
    );
    // RunInstances with no subnet: the reviewed override says every group.
    let f = findings(&policy(
        "ec2:RunInstances",
        &[
            "arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0",
            "arn:aws:ec2:us-east-1:123456789012:instance/*",
            "arn:aws:ec2:us-east-1:123456789012:network-interface/*",
            "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0123456789abcdef0",
            "arn:aws:ec2:us-east-1:123456789012:volume/*",
        ],
    ));
    assert!(
        f.iter()
            .any(|f| f.starts_with("missing-required-resource") && f.contains("subnet")),
        "{f:?}"
    );
}

#[test]
fn derivation_names_the_same_thing_only() {
    // The connection's global network, through `${GlobalNetworkId}`; never
    // the connection's own `${ResourceId}` as a global network's.
    let conn = "arn:aws:networkmanager::123456789012:connection/global-network-01231231231231231/connection-07f6fd08867abc123";
    let w = write_policy(
        catalog(),
        &Request {
            needs: vec![Need::new("networkmanager:UpdateConnection")],
            resources: vec![conn.into()],
            ..Request::default()
        },
    )
    .unwrap();
    let granted: Vec<&String> = w.statements.iter().flat_map(|s| &s.resources).collect();
    assert!(
        granted
            .iter()
            .any(|r| r.ends_with(":global-network/global-network-01231231231231231")),
        "{granted:?}"
    );
    assert!(
        !granted
            .iter()
            .any(|r| r.contains("global-network/connection-")),
        "{granted:?}"
    );
}

#[test]
fn secrets_without_suffix_are_reported() {
    let bare = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db";
    let f = findings(&policy("secretsmanager:GetSecretValue", &[bare]));
    assert!(
        f.iter().any(|f| f.starts_with("secret-without-suffix")),
        "{f:?}"
    );
    let w = write_policy(
        catalog(),
        &Request {
            needs: vec![Need::new("secretsmanager:GetSecretValue")],
            resources: vec![bare.into()],
            ..Request::default()
        },
    )
    .unwrap();
    assert!(
        w.notes.iter().any(
            |n| n.code == NoteCode::SecretSuffix && n.message.contains("secret:prod/db-??????")
        ),
        "{:?}",
        w.notes
    );
}
