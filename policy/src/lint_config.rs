//! `policy check`'s configuration: finding codes muted everywhere or in
//! some paths, paths not checked, policy kinds per path. Written as TOML
//! or YAML (same keys), parsed from text here; the caller reads the file
//! and names the paths (the candidates globs are matched against).
//!
//! Errors are typed ([`ConfigError`]) and name what in the file is wrong,
//! never how the command was called: the binary adds the file's name and
//! its hints.

use crate::finding::CODES;
use crate::kinds::PolicyKind;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// The configuration file as written (TOML or YAML, same keys).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ConfigFile {
    /// Codes muted in every file.
    #[serde(default)]
    mute: Vec<String>,
    /// Globs of files not checked at all.
    #[serde(default)]
    exclude: Vec<String>,
    /// Codes muted in some files only.
    #[serde(default)]
    mute_in: Vec<MuteIn>,
    /// The policy kind of some files (instead of detecting it).
    #[serde(default)]
    kind_in: Vec<KindIn>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KindIn {
    paths: Vec<String>,
    kind: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MuteIn {
    paths: Vec<String>,
    /// Absent: every code.
    #[serde(default)]
    codes: Option<Vec<String>>,
}

/// How a configuration is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    Toml,
    Yaml,
}

impl ConfigFormat {
    /// By a file's extension (any case): `toml`, `yaml` or `yml`.
    pub fn from_extension(ext: &str) -> Option<ConfigFormat> {
        match ext.to_ascii_lowercase().as_str() {
            "toml" => Some(ConfigFormat::Toml),
            "yaml" | "yml" => Some(ConfigFormat::Yaml),
            _ => None,
        }
    }
}

/// A policy kind that is not one (`kind-in`, and the binary's own flag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all: Vec<&str> = PolicyKind::ALL.iter().map(|k| k.as_str()).collect();
        write!(
            f,
            "{:?} is not a policy kind; one of {}",
            self.0,
            all.join(", ")
        )
    }
}

impl std::error::Error for UnknownKind {}

/// A policy kind by name, any case.
pub fn parse_kind(s: &str) -> Result<PolicyKind, UnknownKind> {
    PolicyKind::parse(s).ok_or_else(|| UnknownKind(s.to_string()))
}

/// What is wrong with a configuration. `what` names the entry
/// (`mute`, `exclude`, `mute-in[0]`, `kind-in[1]`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML / YAML of the configuration's keys; `at` is the line and
    /// column (YAML only; TOML's message carries its own).
    #[error("not a valid configuration{}: {message}", at.map(|(l, c)| format!(" (line {l}, column {c})")).unwrap_or_default())]
    Syntax {
        at: Option<(usize, usize)>,
        message: String,
    },
    #[error("{what}: bad glob {glob:?}: {message}")]
    BadGlob {
        what: String,
        glob: String,
        message: String,
    },
    /// The globs of an entry do not compile together.
    #[error("{what}: {message}")]
    Globs { what: String, message: String },
    /// A finding code that is not one, with the nearest code if any.
    #[error("{what}: unknown finding code {code:?}{}", suggestion.as_ref().map(|s| format!("; did you mean {s:?}?")).unwrap_or_default())]
    UnknownCode {
        what: String,
        code: String,
        suggestion: Option<String>,
    },
    /// A `mute-in` entry without paths.
    #[error("{what}: paths is empty; list the globs of the files to mute in (or use `mute` for every file)")]
    NoPaths { what: String },
    #[error("{what}: {kind}")]
    BadKind { what: String, kind: UnknownKind },
}

/// What to mute and skip, compiled.
#[derive(Debug, Default)]
pub struct Config {
    /// The folder globs are relative to (the config file's).
    base: Option<PathBuf>,
    mute: BTreeSet<String>,
    exclude: Option<globset::GlobSet>,
    mute_in: Vec<(globset::GlobSet, Option<BTreeSet<String>>)>,
    kind_in: Vec<(globset::GlobSet, PolicyKind)>,
}

fn glob_set(globs: &[String], what: &str) -> Result<globset::GlobSet, ConfigError> {
    let mut b = globset::GlobSetBuilder::new();
    for g in globs {
        let glob = globset::GlobBuilder::new(g)
            .literal_separator(true)
            .build()
            .map_err(|e| ConfigError::BadGlob {
                what: what.to_string(),
                glob: g.clone(),
                message: e.to_string(),
            })?;
        b.add(glob);
    }
    b.build().map_err(|e| ConfigError::Globs {
        what: what.to_string(),
        message: e.to_string(),
    })
}

fn check_codes(codes: &[String], what: &str) -> Result<BTreeSet<String>, ConfigError> {
    let mut out = BTreeSet::new();
    for c in codes {
        if !CODES.iter().any(|k| k.0 == c) {
            let names = CODES.iter().map(|k| k.0);
            return Err(ConfigError::UnknownCode {
                what: what.to_string(),
                code: c.clone(),
                suggestion: crate::names::suggest(c, names).map(str::to_string),
            });
        }
        out.insert(c.clone());
    }
    Ok(out)
}

impl Config {
    /// A configuration from its text; globs are relative to `base` (the
    /// configuration file's folder) as well as matched as given.
    pub fn parse(
        text: &str,
        format: ConfigFormat,
        base: Option<PathBuf>,
    ) -> Result<Config, ConfigError> {
        let raw: ConfigFile = match format {
            ConfigFormat::Toml => toml::from_str(text).map_err(|e| ConfigError::Syntax {
                at: None,
                message: e.to_string(),
            })?,
            ConfigFormat::Yaml => {
                if text.trim().is_empty() {
                    ConfigFile::default()
                } else {
                    serde_norway::from_str(text).map_err(|e| ConfigError::Syntax {
                        at: e.location().map(|l| (l.line(), l.column())),
                        message: e.to_string(),
                    })?
                }
            }
        };
        let mut c = Config {
            base,
            mute: check_codes(&raw.mute, "mute")?,
            exclude: None,
            mute_in: Vec::new(),
            kind_in: Vec::new(),
        };
        if !raw.exclude.is_empty() {
            c.exclude = Some(glob_set(&raw.exclude, "exclude")?);
        }
        for (i, m) in raw.mute_in.iter().enumerate() {
            let what = format!("mute-in[{i}]");
            if m.paths.is_empty() {
                return Err(ConfigError::NoPaths { what });
            }
            let codes = match &m.codes {
                Some(cs) => Some(check_codes(cs, &what)?),
                None => None,
            };
            c.mute_in.push((glob_set(&m.paths, &what)?, codes));
        }
        for (i, k) in raw.kind_in.iter().enumerate() {
            let what = format!("kind-in[{i}]");
            let kind = parse_kind(&k.kind).map_err(|kind| ConfigError::BadKind {
                what: what.clone(),
                kind,
            })?;
            c.kind_in.push((glob_set(&k.paths, &what)?, kind));
        }
        Ok(c)
    }

    /// The folder globs are relative to.
    pub fn base(&self) -> Option<&Path> {
        self.base.as_deref()
    }

    /// The forms of a file globs are matched against, from its path as
    /// given and its absolute path (when the caller found it): as given
    /// without `./`, relative to [`Config::base`] when under it, absolute.
    pub fn candidates(&self, file: &Path, absolute: Option<PathBuf>) -> Vec<PathBuf> {
        let mut out = vec![strip_dot(file)];
        if let Some(abs) = absolute {
            if let Some(rel) = self.base.as_ref().and_then(|b| abs.strip_prefix(b).ok()) {
                out.push(rel.to_path_buf());
            }
            out.push(abs);
        }
        out
    }

    /// Is a file with these candidates excluded?
    pub fn excluded(&self, cands: &[PathBuf]) -> bool {
        match &self.exclude {
            Some(g) => cands.iter().any(|c| g.is_match(c)),
            None => false,
        }
    }

    /// Does the configuration exclude anything at all?
    pub fn excludes_any(&self) -> bool {
        self.exclude.is_some()
    }

    /// The kind the configuration gives a file (`None`: standard input),
    /// if any.
    pub fn kind(&self, file: Option<&[PathBuf]>) -> Option<PolicyKind> {
        let cands = file?;
        self.kind_in
            .iter()
            .find(|(g, _)| cands.iter().any(|c| g.is_match(c)))
            .map(|(_, k)| *k)
    }

    /// Is `code` muted in a file (`None`: standard input)?
    pub fn muted(&self, code: &str, file: Option<&[PathBuf]>) -> bool {
        if self.mute.contains(code) {
            return true;
        }
        let Some(cands) = file else { return false };
        self.mute_in.iter().any(|(g, codes)| {
            codes.as_ref().is_none_or(|cs| cs.contains(code)) && cands.iter().any(|c| g.is_match(c))
        })
    }
}

/// `./a/b.json` → `a/b.json` (globs are written without the `./`).
pub fn strip_dot(p: &Path) -> PathBuf {
    p.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str, format: ConfigFormat) -> Result<Config, ConfigError> {
        Config::parse(text, format, None)
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(
            ConfigFormat::from_extension("TOML"),
            Some(ConfigFormat::Toml)
        );
        assert_eq!(
            ConfigFormat::from_extension("yml"),
            Some(ConfigFormat::Yaml)
        );
        assert_eq!(
            ConfigFormat::from_extension("yaml"),
            Some(ConfigFormat::Yaml)
        );
        assert_eq!(ConfigFormat::from_extension("ini"), None);
    }

    #[test]
    fn config_rejects_unknown_codes_and_keys_with_a_suggestion() {
        let e = cfg("mute = [\"resource-starr\"]\n", ConfigFormat::Toml).unwrap_err();
        assert_eq!(
            e,
            ConfigError::UnknownCode {
                what: "mute".into(),
                code: "resource-starr".into(),
                suggestion: Some("resource-star".into()),
            }
        );
        assert_eq!(
            e.to_string(),
            "mute: unknown finding code \"resource-starr\"; did you mean \"resource-star\"?"
        );
        let e = cfg("mutes = []\n", ConfigFormat::Toml).unwrap_err();
        assert!(
            matches!(&e, ConfigError::Syntax { at: None, message } if message.contains("mutes")),
            "{e}"
        );
        let e = cfg("mute: [nope]\n", ConfigFormat::Yaml).unwrap_err();
        assert!(
            matches!(&e, ConfigError::UnknownCode { code, .. } if code == "nope"),
            "{e}"
        );
        let e = cfg("mute: {a: 1}\n", ConfigFormat::Yaml).unwrap_err();
        assert!(matches!(&e, ConfigError::Syntax { at: Some(_), .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with("not a valid configuration (line "),
            "{e}"
        );
        let e = cfg("[[mute-in]]\npaths = [\"a/[\"]\n", ConfigFormat::Toml).unwrap_err();
        assert!(
            matches!(&e, ConfigError::BadGlob { what, glob, .. } if what == "mute-in[0]" && glob == "a/["),
            "{e}"
        );
        let e = cfg("[[mute-in]]\npaths = []\n", ConfigFormat::Toml).unwrap_err();
        assert_eq!(
            e,
            ConfigError::NoPaths {
                what: "mute-in[0]".into()
            }
        );
        let e = cfg(
            "[[kind-in]]\npaths = [\"a\"]\nkind = \"nope\"\n",
            ConfigFormat::Toml,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("kind-in[0]: \"nope\" is not a policy kind; one of identity"),
            "{e}"
        );
        // No error names a flag of the binary.
        assert!(!e.to_string().contains("--"), "{e}");
    }

    #[test]
    fn an_empty_yaml_file_is_an_empty_configuration() {
        let c = cfg("  \n", ConfigFormat::Yaml).unwrap();
        assert!(!c.muted("resource-star", None));
        assert!(!c.excludes_any());
    }

    #[test]
    fn config_mutes_codes_everywhere_and_in_paths() {
        let c = cfg(
            "mute: [missing-version]\nmute-in:\n  - paths: [\"legacy/**\"]\n    codes: [resource-star]\n  - paths: [\"vendor/*.json\"]\n",
            ConfigFormat::Yaml,
        )
        .unwrap();
        let legacy = [PathBuf::from("legacy/x/p.json")];
        let other = [PathBuf::from("src/p.json")];
        let vendor = [PathBuf::from("vendor/p.json")];
        assert!(c.muted("missing-version", Some(&other)));
        assert!(c.muted("missing-version", None));
        assert!(c.muted("resource-star", Some(&legacy)));
        assert!(!c.muted("resource-star", Some(&other)));
        assert!(!c.muted("resource-star", None));
        assert!(c.muted("unknown-action", Some(&vendor)));
        assert!(!c.muted("unknown-action", Some(&legacy)));
        // `*` does not cross `/`.
        assert!(!c.muted("unknown-action", Some(&[PathBuf::from("vendor/a/p.json")])));
    }

    #[test]
    fn excludes_and_kinds_by_candidates() {
        let c = Config::parse(
            "exclude = [\"gen/**\"]\n[[kind-in]]\npaths = [\"trust/*.json\"]\nkind = \"Trust\"\n",
            ConfigFormat::Toml,
            Some(PathBuf::from("/repo")),
        )
        .unwrap();
        assert!(c.excludes_any());
        // Relative to the configuration's folder, from the absolute path.
        let cands = c.candidates(
            Path::new("./x/gen/a.json"),
            Some(PathBuf::from("/repo/gen/a.json")),
        );
        assert_eq!(
            cands,
            [
                PathBuf::from("x/gen/a.json"),
                PathBuf::from("gen/a.json"),
                PathBuf::from("/repo/gen/a.json")
            ]
        );
        assert!(c.excluded(&cands));
        assert!(!c.excluded(&[PathBuf::from("src/a.json")]));
        let t = c.candidates(Path::new("trust/r.json"), None);
        assert_eq!(c.kind(Some(&t)), Some(PolicyKind::Trust));
        assert_eq!(c.kind(None), None);
        assert_eq!(c.kind(Some(&[PathBuf::from("trust/a/r.json")])), None);
    }
}
