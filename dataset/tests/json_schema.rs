//! The JSON Schemas published in `schema/` describe what iamref writes: the
//! shipped snapshot (`data/manifest.json`, `data/services/*.json`) and the
//! JSON bundle (`iamref export --format json`) validate against them, and
//! the schemas are strict enough to reject a damaged file.

use iamref_dataset::snapshot::{self, Bundle};
use jsonschema::{Registry, Validator};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn load(p: &Path) -> Value {
    let text = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

const SCHEMAS: [&str; 3] = [
    "manifest.schema.json",
    "service.schema.json",
    "bundle.schema.json",
];

/// A validator for one of the schemas, the others registered so that
/// `$ref`s between them resolve offline.
fn validator(name: &str) -> Validator {
    let mut registry = Registry::new();
    for s in SCHEMAS {
        let v = load(&root().join("schema").join(s));
        let id = v["$id"]
            .as_str()
            .expect("every schema has an $id")
            .to_string();
        assert!(id.ends_with(s), "{s}: $id {id} does not name the file");
        registry = registry.add(id, v).expect("schema registers");
    }
    let registry = registry.prepare().expect("registry");
    let schema = load(&root().join("schema").join(name));
    jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn errors(v: &Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .take(10)
        .collect()
}

#[test]
fn the_shipped_snapshot_validates() {
    let data = root().join("data");
    let manifest = validator("manifest.schema.json");
    let m = load(&data.join("manifest.json"));
    assert_eq!(errors(&manifest, &m), Vec::<String>::new());

    let service = validator("service.schema.json");
    let mut files: Vec<PathBuf> = std::fs::read_dir(data.join("services"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() > 400, "only {} service files", files.len());
    for f in &files {
        let e = errors(&service, &load(f));
        assert!(e.is_empty(), "{}: {e:#?}", f.display());
    }
}

#[test]
fn the_json_bundle_validates() {
    let (manifest, services) = snapshot::read_snapshot(&root().join("data")).unwrap();
    let bundle = serde_json::to_value(Bundle { manifest, services }).unwrap();
    let v = validator("bundle.schema.json");
    assert_eq!(errors(&v, &bundle), Vec::<String>::new());
}

#[test]
fn damaged_files_are_rejected() {
    let service = validator("service.schema.json");
    let good = load(&root().join("data/services/s3.json"));
    assert!(service.is_valid(&good));
    type Damage = (&'static str, fn(&mut Value));
    let damage: [Damage; 6] = [
        ("unknown field", |s| {
            s["colour"] = json!("red");
        }),
        ("bad sources", |s| s["sources"] = json!("xml")),
        ("action without name", |s| {
            s["actions"][0].as_object_mut().unwrap().remove("name");
        }),
        ("access level", |s| {
            s["actions"][0]["access_level"] = json!("Everything")
        }),
        ("required flag as text", |s| {
            s["actions"][0]["resource_types"] = json!([{"name": "bucket", "required": "yes"}])
        }),
        ("page hash", |s| s["pages"][0]["sha256"] = json!("abc")),
    ];
    for (what, f) in damage {
        let mut bad = good.clone();
        f(&mut bad);
        assert!(!service.is_valid(&bad), "{what}: accepted");
    }
    let manifest = validator("manifest.schema.json");
    let mut m = load(&root().join("data/manifest.json"));
    assert!(manifest.is_valid(&m));
    m["format"] = json!(99);
    assert!(!manifest.is_valid(&m), "format 99 accepted");
}
