//! One `policy check` run: the inputs' texts handed in one by one (the
//! binary reads them), parsed, then checked over the one catalog the run
//! loads for all of them ([`Run::catalog_prefixes`]), into a [`Report`]
//! the binary renders.

use super::{catalog_actions, catalog_prefixes, check_policy, kind_of};
use crate::catalog::Catalog;
use crate::document::Policy;
use crate::finding::{Finding, Severity};
use crate::kinds::PolicyKind;
use crate::lint_config::Config;
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// An input that could not be checked, and where (1-based; 0 when the
/// whole file is concerned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputError {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl InputError {
    /// An error about the whole input.
    pub fn whole(file: String, message: String) -> InputError {
        InputError {
            file,
            line: 0,
            column: 0,
            message,
        }
    }

    /// `FILE:LINE:COLUMN`, or `FILE` when the whole file is concerned.
    pub fn location(&self) -> String {
        if self.line == 0 {
            self.file.clone()
        } else {
            format!("{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

/// One input to check, as the run names it.
#[derive(Debug, Clone)]
pub struct Input {
    /// The name shown in reports (`stdin`, or the path).
    pub name: String,
    /// A file's path forms the configuration's globs match
    /// (`Config::candidates`) and its file name (kind detection); `None`
    /// for standard input.
    pub file: Option<(Vec<PathBuf>, String)>,
}

/// The findings of one file, after muting and the severity filter.
#[derive(Debug)]
pub struct FileReport {
    pub file: String,
    pub findings: Vec<Finding>,
}

/// Everything one run found.
#[derive(Debug)]
pub struct Report {
    pub files: Vec<FileReport>,
    pub errors: Vec<InputError>,
    /// How many files were checked.
    pub checked: usize,
    pub muted: usize,
    /// Findings below the severity floor, not reported.
    pub below: usize,
    /// Paths the configuration excludes.
    pub skipped: usize,
}

/// A finding with the file it is in (the JSON record).
#[derive(Serialize)]
pub struct Reported<'a> {
    pub file: &'a str,
    #[serde(flatten)]
    pub finding: &'a Finding,
}

impl Report {
    /// Every finding with its file, in order.
    pub fn reported(&self) -> Vec<Reported<'_>> {
        self.files
            .iter()
            .flat_map(|f| {
                f.findings.iter().map(move |x| Reported {
                    file: &f.file,
                    finding: x,
                })
            })
            .collect()
    }

    /// How many findings are reported.
    pub fn findings(&self) -> usize {
        self.files.iter().map(|f| f.findings.len()).sum()
    }

    /// The reported findings per severity, indexed by `Severity as usize`.
    pub fn by_severity(&self) -> [usize; 3] {
        let mut by = [0usize; 3];
        for f in self.files.iter().flat_map(|f| &f.findings) {
            by[f.severity as usize] += 1;
        }
        by
    }
}

/// A run being gathered: the inputs parsed so far and the errors.
pub struct Run<'c> {
    config: &'c Config,
    min: Severity,
    kind: Option<PolicyKind>,
    parsed: Vec<(Input, Policy)>,
    errors: Vec<InputError>,
    skipped: usize,
}

impl<'c> Run<'c> {
    /// A run with the errors and excluded paths of finding its inputs;
    /// `kind` overrides the configuration's and the detected kind.
    pub fn new(
        config: &'c Config,
        min: Severity,
        kind: Option<PolicyKind>,
        errors: Vec<InputError>,
        skipped: usize,
    ) -> Run<'c> {
        Run {
            config,
            min,
            kind,
            parsed: Vec::new(),
            errors,
            skipped,
        }
    }

    /// One input's text (or why it could not be read), parsed.
    pub fn add(&mut self, input: Input, text: Result<String, InputError>) {
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                self.errors.push(e);
                return;
            }
        };
        match crate::document::parse(&text) {
            Ok(p) => self.parsed.push((input, p)),
            Err(e) => self.errors.push(InputError {
                file: input.name,
                line: e.at.line,
                column: e.at.column,
                message: format!("not a JSON policy document: {}", e.message),
            }),
        }
    }

    /// Nothing parsed: the run needs no catalog.
    pub fn is_empty(&self) -> bool {
        self.parsed.is_empty()
    }

    /// The prefixes the run's one catalog holds (`None`: all), as
    /// [`catalog_prefixes`] of every parsed policy.
    pub fn catalog_prefixes(&self) -> Option<BTreeSet<String>> {
        catalog_prefixes(self.parsed.iter().map(|(_, p)| p))
    }

    /// The action patterns whose details the run's checks consult, as
    /// [`catalog_actions`] of every parsed policy.
    pub fn catalog_actions(&self) -> Option<Vec<String>> {
        catalog_actions(self.parsed.iter().map(|(_, p)| p))
    }

    /// Every parsed policy checked over `catalog` (`None` when nothing
    /// parsed: no finding).
    pub fn check(self, catalog: Option<&Catalog>) -> Report {
        let mut report = Report {
            files: Vec::new(),
            errors: self.errors,
            checked: self.parsed.len(),
            muted: 0,
            below: 0,
            skipped: self.skipped,
        };
        let Some(catalog) = catalog else {
            return report;
        };
        for (input, policy) in self.parsed {
            let (cands, name) = match &input.file {
                Some((c, n)) => (Some(c.as_slice()), Some(n.as_str())),
                None => (None, None),
            };
            // The kind given, else the configuration's, else the shape and
            // file name.
            let kind = kind_of(self.kind, self.config, cands, &policy, name);
            let checked = check_policy(catalog, &policy, kind, self.config, cands, self.min);
            report.muted += checked.muted;
            report.below += checked.below;
            report.files.push(FileReport {
                file: input.name,
                findings: checked.findings,
            });
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::tests::small;
    use crate::lint_config::ConfigFormat;

    fn file(name: &str) -> Input {
        Input {
            name: name.into(),
            file: Some((vec![PathBuf::from(name)], name.into())),
        }
    }

    #[test]
    fn a_run_reports_unreadable_and_unparsable_inputs_and_checks_the_others() {
        // Constructed policies and configuration.
        let config = Config::parse(
            "[[mute-in]]\npaths = [\"muted/*\"]\ncodes = [\"resource-star\"]\n",
            ConfigFormat::Toml,
            None,
        )
        .unwrap();
        let mut run = Run::new(
            &config,
            Severity::Info,
            None,
            vec![InputError::whole("gone.json".into(), "cannot read".into())],
            3,
        );
        let star = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        run.add(file("a.json"), Ok(star.into()));
        run.add(file("muted/b.json"), Ok(star.into()));
        run.add(file("c.json"), Ok("{\n  \"Version\": ".into()));
        run.add(
            file("d.json"),
            Err(InputError::whole("d.json".into(), "too large".into())),
        );
        assert!(!run.is_empty());
        assert_eq!(
            run.catalog_prefixes(),
            Some(BTreeSet::from(["s3".to_string()]))
        );
        let cat = small();
        let r = run.check(Some(&cat));
        assert_eq!(r.checked, 2);
        assert_eq!(r.skipped, 3);
        let names: Vec<_> = r.files.iter().map(|f| f.file.as_str()).collect();
        assert_eq!(names, ["a.json", "muted/b.json"]);
        let codes =
            |i: usize| -> Vec<&str> { r.files[i].findings.iter().map(|f| f.code).collect() };
        assert!(codes(0).contains(&"resource-star"), "{:?}", codes(0));
        assert!(!codes(1).contains(&"resource-star"), "{:?}", codes(1));
        assert!(r.muted >= 1);
        assert_eq!(r.findings(), r.reported().len());
        assert_eq!(r.by_severity().iter().sum::<usize>(), r.findings());
        let errors: Vec<_> = r.errors.iter().map(|e| e.location()).collect();
        assert_eq!(errors[0], "gone.json");
        assert!(errors[1].starts_with("c.json:2:"), "{errors:?}");
        assert!(r.errors[1]
            .message
            .starts_with("not a JSON policy document: "));
        assert_eq!(errors[2], "d.json");
    }

    #[test]
    fn a_run_with_nothing_parsed_needs_no_catalog() {
        let config = Config::default();
        let mut run = Run::new(&config, Severity::Warning, None, Vec::new(), 0);
        run.add(file("x.json"), Ok("not json".into()));
        assert!(run.is_empty());
        let r = run.check(None);
        assert_eq!((r.checked, r.findings(), r.errors.len()), (0, 0, 1));
    }
}
