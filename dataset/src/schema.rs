//! The SQLite schema: append-only migrations and the public views.
//!
//! Base tables may change between versions; the `v_*` views are the stable,
//! documented face for shell users and other tools (see README.md).
//! Never edit a migration that has shipped: append a new one.

/// Migrations, applied in order; `PRAGMA user_version` counts those applied.
pub const MIGRATIONS: &[&str] = &[
    // 1: base tables and the public views.
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE services (
    id           INTEGER PRIMARY KEY,
    prefix       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name         TEXT NOT NULL,
    sources      INTEGER NOT NULL,
    json_version TEXT
);

CREATE TABLE pages (
    id           INTEGER PRIMARY KEY,
    service_id   INTEGER NOT NULL REFERENCES services(id),
    file         TEXT NOT NULL UNIQUE,
    service_name TEXT NOT NULL,
    url          TEXT,
    sha256       TEXT NOT NULL,
    layout       TEXT NOT NULL
);

CREATE TABLE actions (
    id              INTEGER PRIMARY KEY,
    service_id      INTEGER NOT NULL REFERENCES services(id),
    name            TEXT NOT NULL COLLATE NOCASE,
    description     TEXT,
    access_level    TEXT,
    permission_only INTEGER NOT NULL DEFAULT 0,
    doc_url         TEXT,
    sources         INTEGER NOT NULL,
    is_list                  INTEGER,
    is_write                 INTEGER,
    is_permission_management INTEGER,
    is_tagging_only          INTEGER,
    UNIQUE (service_id, name)
);
CREATE INDEX actions_by_name ON actions(name);

CREATE TABLE action_pages (
    action_id INTEGER NOT NULL REFERENCES actions(id),
    page_id   INTEGER NOT NULL REFERENCES pages(id),
    PRIMARY KEY (action_id, page_id)
) WITHOUT ROWID;

CREATE TABLE action_supported_by (
    action_id INTEGER NOT NULL REFERENCES actions(id),
    feature   TEXT NOT NULL,
    supported INTEGER NOT NULL,
    PRIMARY KEY (action_id, feature)
) WITHOUT ROWID;

CREATE TABLE resource_types (
    id         INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    name       TEXT NOT NULL COLLATE NOCASE,
    doc_url    TEXT,
    sources    INTEGER NOT NULL,
    UNIQUE (service_id, name)
);

CREATE TABLE resource_type_pages (
    resource_type_id INTEGER NOT NULL REFERENCES resource_types(id),
    page_id          INTEGER NOT NULL REFERENCES pages(id),
    PRIMARY KEY (resource_type_id, page_id)
) WITHOUT ROWID;

CREATE TABLE arn_formats (
    id               INTEGER PRIMARY KEY,
    resource_type_id INTEGER NOT NULL REFERENCES resource_types(id),
    ord              INTEGER NOT NULL,
    arn              TEXT NOT NULL,
    sources          INTEGER NOT NULL,
    UNIQUE (resource_type_id, arn)
);

CREATE TABLE condition_keys (
    id          INTEGER PRIMARY KEY,
    service_id  INTEGER NOT NULL REFERENCES services(id),
    name        TEXT NOT NULL COLLATE NOCASE,
    type        TEXT,
    description TEXT,
    doc_url     TEXT,
    sources     INTEGER NOT NULL,
    UNIQUE (service_id, name)
);
CREATE INDEX condition_keys_by_name ON condition_keys(name);

CREATE TABLE condition_key_pages (
    condition_key_id INTEGER NOT NULL REFERENCES condition_keys(id),
    page_id          INTEGER NOT NULL REFERENCES pages(id),
    PRIMARY KEY (condition_key_id, page_id)
) WITHOUT ROWID;

CREATE TABLE resource_type_condition_keys (
    resource_type_id INTEGER NOT NULL REFERENCES resource_types(id),
    ord              INTEGER NOT NULL,
    condition_key    TEXT NOT NULL COLLATE NOCASE,
    sources          INTEGER NOT NULL,
    PRIMARY KEY (resource_type_id, condition_key)
) WITHOUT ROWID;

CREATE TABLE scenarios (
    id        INTEGER PRIMARY KEY,
    action_id INTEGER NOT NULL REFERENCES actions(id),
    ord       INTEGER NOT NULL,
    name      TEXT NOT NULL
);

-- One row per resource type an action names (scenario rows included, with
-- their scenario). resource_type_id is NULL when the service does not
-- define the type the action names.
CREATE TABLE action_resource_types (
    id               INTEGER PRIMARY KEY,
    action_id        INTEGER NOT NULL REFERENCES actions(id),
    scenario_id      INTEGER REFERENCES scenarios(id),
    ord              INTEGER NOT NULL,
    resource_type    TEXT NOT NULL COLLATE NOCASE,
    resource_type_id INTEGER REFERENCES resource_types(id),
    required         INTEGER NOT NULL,
    sources          INTEGER NOT NULL
);
CREATE INDEX action_resource_types_by_action ON action_resource_types(action_id);
CREATE INDEX action_resource_types_by_type ON action_resource_types(resource_type_id);

-- action_resource_type_id NULL: an action-level key.
CREATE TABLE action_condition_keys (
    action_id               INTEGER NOT NULL REFERENCES actions(id),
    action_resource_type_id INTEGER REFERENCES action_resource_types(id),
    ord                     INTEGER NOT NULL,
    condition_key           TEXT NOT NULL COLLATE NOCASE,
    sources                 INTEGER NOT NULL
);
CREATE INDEX action_condition_keys_by_action ON action_condition_keys(action_id);
CREATE INDEX action_condition_keys_by_key ON action_condition_keys(condition_key);

CREATE TABLE dependent_actions (
    action_id               INTEGER NOT NULL REFERENCES actions(id),
    action_resource_type_id INTEGER REFERENCES action_resource_types(id),
    ord                     INTEGER NOT NULL,
    dependent_action        TEXT NOT NULL COLLATE NOCASE
);
CREATE INDEX dependent_actions_by_action ON dependent_actions(action_id);

CREATE TABLE operations (
    id         INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    name       TEXT NOT NULL COLLATE NOCASE,
    sources    INTEGER NOT NULL,
    UNIQUE (service_id, name)
);
CREATE INDEX operations_by_name ON operations(name);

CREATE TABLE operation_actions (
    id           INTEGER PRIMARY KEY,
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    ord          INTEGER NOT NULL,
    service      TEXT NOT NULL COLLATE NOCASE,
    action       TEXT NOT NULL COLLATE NOCASE,
    access_level TEXT,
    sources      INTEGER NOT NULL
);
CREATE INDEX operation_actions_by_operation ON operation_actions(operation_id);
CREATE INDEX operation_actions_by_action ON operation_actions(service, action);

CREATE TABLE operation_action_condition_keys (
    operation_action_id INTEGER NOT NULL REFERENCES operation_actions(id),
    ord                 INTEGER NOT NULL,
    condition_key       TEXT NOT NULL,
    PRIMARY KEY (operation_action_id, condition_key)
) WITHOUT ROWID;

CREATE TABLE sdk_methods (
    operation_id INTEGER NOT NULL REFERENCES operations(id),
    package      TEXT NOT NULL COLLATE NOCASE,
    client       TEXT NOT NULL COLLATE NOCASE,
    method       TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (operation_id, package, client, method)
) WITHOUT ROWID;
CREATE INDEX sdk_methods_by_method ON sdk_methods(package, client, method);

-- Public views ------------------------------------------------------------

CREATE VIEW v_services AS
SELECT s.prefix, s.name,
       CASE s.sources WHEN 1 THEN 'html' WHEN 2 THEN 'json' ELSE 'both' END AS sources
FROM services s;

CREATE VIEW v_actions AS
SELECT s.prefix, a.name AS action, a.access_level,
       a.permission_only,
       EXISTS (SELECT 1 FROM action_resource_types r
               WHERE r.action_id = a.id AND r.scenario_id IS NULL) AS resource_level,
       a.description,
       a.doc_url,
       CASE a.sources WHEN 1 THEN 'html' WHEN 2 THEN 'json' ELSE 'both' END AS sources
FROM actions a JOIN services s ON s.id = a.service_id;

CREATE VIEW v_action_resource_types AS
SELECT s.prefix, a.name AS action, r.resource_type, r.required, f.arn
FROM action_resource_types r
JOIN actions a ON a.id = r.action_id
JOIN services s ON s.id = a.service_id
LEFT JOIN arn_formats f ON f.resource_type_id = r.resource_type_id
WHERE r.scenario_id IS NULL;

CREATE VIEW v_action_condition_keys AS
SELECT s.prefix, a.name AS action, r.resource_type, k.condition_key
FROM action_condition_keys k
JOIN actions a ON a.id = k.action_id
JOIN services s ON s.id = a.service_id
LEFT JOIN action_resource_types r ON r.id = k.action_resource_type_id
WHERE r.scenario_id IS NULL;

CREATE VIEW v_resource_types AS
SELECT s.prefix, t.name AS resource_type, f.arn
FROM resource_types t
JOIN services s ON s.id = t.service_id
LEFT JOIN arn_formats f ON f.resource_type_id = t.id;

CREATE VIEW v_condition_keys AS
SELECT s.prefix, k.name AS condition_key, k.type, k.description
FROM condition_keys k JOIN services s ON s.id = k.service_id;

CREATE VIEW v_dependent_actions AS
SELECT s.prefix, a.name AS action, r.resource_type, d.dependent_action
FROM dependent_actions d
JOIN actions a ON a.id = d.action_id
JOIN services s ON s.id = a.service_id
LEFT JOIN action_resource_types r ON r.id = d.action_resource_type_id;

CREATE VIEW v_operations AS
SELECT s.prefix, o.name AS operation, oa.service AS action_prefix, oa.action,
       oa.access_level
FROM operations o
JOIN services s ON s.id = o.service_id
JOIN operation_actions oa ON oa.operation_id = o.id;

CREATE VIEW v_sdk_methods AS
SELECT s.prefix, o.name AS operation, m.package, m.client, m.method
FROM sdk_methods m
JOIN operations o ON o.id = m.operation_id
JOIN services s ON s.id = o.service_id;
"#,
    // 2: what sources say differently (per-page descriptions, a second key
    // type), and the condition-key values an operation sets (`Context`).
    r#"
CREATE TABLE action_variants (
    action_id   INTEGER NOT NULL REFERENCES actions(id),
    source      TEXT NOT NULL,
    description TEXT,
    PRIMARY KEY (action_id, source)
) WITHOUT ROWID;

CREATE TABLE condition_key_variants (
    condition_key_id INTEGER NOT NULL REFERENCES condition_keys(id),
    source           TEXT NOT NULL,
    type             TEXT,
    description      TEXT,
    PRIMARY KEY (condition_key_id, source)
) WITHOUT ROWID;

CREATE TABLE operation_action_context (
    operation_action_id INTEGER NOT NULL REFERENCES operation_actions(id),
    condition_key       TEXT NOT NULL,
    ord                 INTEGER NOT NULL,
    value               TEXT NOT NULL,
    PRIMARY KEY (operation_action_id, condition_key, ord)
) WITHOUT ROWID;

-- Every type a source gives a condition key: the merged one (source
-- 'merged'), then each page or the JSON ('json') that says otherwise.
CREATE VIEW v_condition_key_types AS
SELECT s.prefix, k.name AS condition_key, 'merged' AS source, k.type
FROM condition_keys k JOIN services s ON s.id = k.service_id
WHERE k.type IS NOT NULL
UNION ALL
SELECT s.prefix, k.name, v.source, v.type
FROM condition_key_variants v
JOIN condition_keys k ON k.id = v.condition_key_id
JOIN services s ON s.id = k.service_id
WHERE v.type IS NOT NULL;

CREATE VIEW v_operation_context AS
SELECT s.prefix, o.name AS operation, oa.service AS action_prefix, oa.action,
       c.condition_key, c.value
FROM operation_action_context c
JOIN operation_actions oa ON oa.id = c.operation_action_id
JOIN operations o ON o.id = oa.operation_id
JOIN services s ON s.id = o.service_id;
"#,
    // 3: what each page of a shared prefix says about an action listed on
    // two or more of its pages. The merged value in `actions` is the first
    // page's (by file name) that gives one for the access level and the
    // description, and permission-only is true if any page says so (see
    // `merge`). Databases written before this have no rows here.
    r#"
CREATE TABLE action_page_facts (
    action_id       INTEGER NOT NULL REFERENCES actions(id),
    page_id         INTEGER NOT NULL REFERENCES pages(id),
    access_level    TEXT,
    description     TEXT,
    permission_only INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (action_id, page_id)
) WITHOUT ROWID;

CREATE VIEW v_action_page_facts AS
SELECT s.prefix, a.name AS action, p.file AS page, f.access_level,
       f.permission_only, f.description
FROM action_page_facts f
JOIN actions a ON a.id = f.action_id
JOIN pages p ON p.id = f.page_id
JOIN services s ON s.id = a.service_id;
"#,
];

/// The schema version this build writes and reads.
pub fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}
