//! Round trip over many generated requests (random actions and ARNs from
//! the snapshot shipped in `data/`, a fixed seed, bounded): every policy
//! the writer produces checks with no error, every requested (action,
//! ARN) pair that fits is granted exactly, and nothing outside the given
//! ARNs is granted unless a note reports it.

use iamref_dataset::model::Service;
use iamref_policy::arn::{Format, Matcher, Pattern};
use iamref_policy::check::check;
use iamref_policy::document;
use iamref_policy::finding::Severity;
use iamref_policy::write::render::{render, Render};
use iamref_policy::write::{write_policy, Catalog, Need, NoteCode, Request, WriteError};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.next() % 100 < pct
    }
}

const PREFIXES: &[&str] = &[
    "s3",
    "logs",
    "secretsmanager",
    "ec2",
    "dynamodb",
    "iam",
    "kms",
    "sqs",
    "sns",
    "ssm",
    "lambda",
    "sts",
    "ecr",
    "states",
    "cloudwatch",
    "events",
    "kinesis",
    "rds",
    "elasticfilesystem",
    "glue",
];

fn catalog() -> Catalog {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/services");
    let services: Vec<Service> = PREFIXES
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(dir.join(format!("{p}.json"))).unwrap();
            serde_json::from_str(&text).unwrap()
        })
        .collect();
    Catalog::from_services(services)
}

/// A concrete ARN (or, sometimes, a pattern) of a format.
fn instance(rng: &mut Rng, format: &str) -> String {
    let mut out = String::new();
    let mut rest = format;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('}').expect("closed placeholder");
        let name = &rest[i + 2..i + end];
        let v = match name {
            "Partition" => "aws".to_string(),
            "Region" => ["us-east-1", "eu-west-1"][rng.below(2)].to_string(),
            "Account" => "123456789012".to_string(),
            _ => match rng.below(6) {
                0 => "*".to_string(),
                1 => "team/app-1".to_string(),
                _ => format!("name{}", rng.below(3)),
            },
        };
        out.push_str(&v);
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    out
}

/// Can `arn` name a resource of some type of `action` (as the writer and
/// the checker decide it)?
fn fits(cat: &Catalog, m: &mut Matcher, action: &str, arn: &str) -> bool {
    let id = cat.action_by_full_name(action).unwrap();
    let (svc, a) = cat.get(id);
    let p = Pattern::parse(arn).unwrap();
    let _ = svc;
    a.resource_types.iter().any(|r| {
        cat.resource_type(id.service, &r.name)
            .is_some_and(|(ti, _)| cat.pattern_reaches(m, &p, id.service, ti))
    })
}

#[test]
fn generated_requests_round_trip() {
    let cat = catalog();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut m = Matcher::new();
    let all: Vec<(usize, usize)> = cat
        .services()
        .iter()
        .enumerate()
        .flat_map(|(si, s)| (0..s.actions.len()).map(move |ai| (si, ai)))
        .collect();
    let (mut written, mut stopped, mut derived, mut widened) = (0, 0, 0, 0);
    for case in 0..200 {
        // Actions from one or two services, so that ARNs often fit.
        let n = 1 + rng.below(5);
        let mut actions: Vec<String> = Vec::new();
        let (si0, _) = all[rng.below(all.len())];
        for _ in 0..n {
            let si = if rng.chance(80) {
                si0
            } else {
                all[rng.below(all.len())].0
            };
            let s: &Service = &cat.services()[si];
            let a = &s.actions[rng.below(s.actions.len())];
            actions.push(format!("{}:{}", s.prefix, a.name));
        }
        // ARNs of resource types those actions take.
        let mut arns: Vec<String> = Vec::new();
        for a in &actions {
            let id = cat.action_by_full_name(a).unwrap();
            let (s, act) = cat.get(id);
            // Mostly a type the action takes; sometimes another type of
            // its service (derivation or a stop).
            let name = if !act.resource_types.is_empty() && rng.chance(60) {
                act.resource_types[rng.below(act.resource_types.len())]
                    .name
                    .clone()
            } else if !s.resource_types.is_empty() && rng.chance(50) {
                s.resource_types[rng.below(s.resource_types.len())]
                    .name
                    .clone()
            } else {
                continue;
            };
            if let Some(rt) = s.resource_types.iter().find(|t| t.name == name) {
                if let Some(f) = rt.arns.first() {
                    let arn = instance(&mut rng, &f.arn);
                    if Pattern::parse(&arn).is_ok() && !arns.contains(&arn) {
                        arns.push(arn);
                    }
                }
            }
        }
        let mut req = Request {
            needs: actions.iter().map(|a| Need::new(a.clone())).collect(),
            resources: arns.clone(),
            ..Request::default()
        };
        req.options.widen = rng.chance(40);
        req.options.include_dependent = rng.chance(20);
        let w = match write_policy(&cat, &req) {
            Ok(w) => w,
            Err(WriteError::Unscoped(stops)) => {
                assert!(
                    !req.options.widen,
                    "case {case}: a stop with --widen: {stops:?}"
                );
                stopped += 1;
                // A stop names ARNs that were given and formats it needs;
                // --widen always writes something.
                for s in &stops {
                    assert!(!s.missing.is_empty() && !s.widen_to.is_empty(), "{s:?}");
                    assert_eq!(
                        s.given.iter().collect::<BTreeSet<_>>(),
                        {
                            let mut g: BTreeSet<&String> = BTreeSet::new();
                            g.extend(arns.iter());
                            g
                        }
                        .into_iter()
                        .filter(|x| s.given.contains(x))
                        .collect()
                    );
                }
                req.options.widen = true;
                write_policy(&cat, &req).unwrap_or_else(|e| panic!("case {case}: {e}"))
            }
            Err(e) => panic!("case {case} {actions:?} {arns:?}: {e}"),
        };
        written += 1;
        // 1. It checks with no error.
        let text = render(&w.policy(), Render::Json, "");
        let doc = document::parse(&text).unwrap();
        let errors: Vec<_> = check(&cat, &doc)
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        assert!(
            errors.is_empty(),
            "case {case}: {actions:?} -r {arns:?}\n{text}\n{errors:#?}"
        );
        // 2. Every requested (action, ARN) pair that fits is granted.
        let mut granted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for s in &w.statements {
            for a in &s.actions {
                granted
                    .entry(a.to_ascii_lowercase())
                    .or_default()
                    .extend(s.resources.iter().cloned());
            }
        }
        for a in &actions {
            let got = granted.get(&a.to_ascii_lowercase());
            let id = cat.action_by_full_name(a).unwrap();
            if cat.get(id).1.resource_types.is_empty() {
                assert_eq!(
                    got.unwrap().iter().collect::<Vec<_>>(),
                    ["*"],
                    "case {case}: {a}"
                );
                continue;
            }
            for arn in &arns {
                if fits(&cat, &mut m, a, arn) {
                    assert!(
                        got.is_some_and(|g| g.contains(arn)),
                        "case {case}: {a} not granted on {arn}\n{text}"
                    );
                }
            }
        }
        // 3. Nothing outside the given ARNs unless a note reports it.
        let mut reported: BTreeSet<(String, String)> = BTreeSet::new();
        for n in &w.notes {
            if let Some(a) = &n.action {
                for r in &n.resources {
                    reported.insert((a.to_ascii_lowercase(), r.clone()));
                }
            }
            derived += (n.code == NoteCode::Derived) as usize;
            widened += (n.code == NoteCode::Widened) as usize;
        }
        for (a, res) in &granted {
            let wildcard_only = cat
                .action_by_full_name(a)
                .is_some_and(|id| cat.get(id).1.resource_types.is_empty());
            for r in res {
                assert!(
                    arns.contains(r)
                        || reported.contains(&(a.clone(), r.clone()))
                        || (wildcard_only && r == "*" && arns.is_empty()),
                    "case {case}: {a} on {r} is neither given nor reported\n{text}\n{:?}",
                    w.notes
                );
            }
        }
        // Generic patterns come from the reference's formats.
        for r in granted.values().flatten() {
            if r != "*" && !arns.contains(r) {
                assert!(Pattern::parse(r).is_ok(), "case {case}: {r}");
            }
        }
        let _ = Format::parse("");
    }
    // The generator exercises every path.
    eprintln!("written {written}, stopped {stopped}, derived {derived}, widened {widened}");
    assert!(
        written == 200 && stopped > 10 && derived > 10 && widened > 10,
        "written {written}, stopped {stopped}, derived {derived}, widened {widened}"
    );
}
