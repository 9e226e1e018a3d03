-- Which IAM actions did each principal use? Spark SQL.
--
-- The query of sql/athena/actions_by_principal.sql (read its comments for
-- the mapping), for Spark: the one difference is the regular expression's
-- backslashes, doubled because Spark SQL string literals unescape them
-- (query/tests/cli/export.rs checks that nothing else differs, and runs
-- it in Spark local mode against `iamref calls`). Views: tables.sql here.
WITH events AS (
    SELECT useridentity.arn AS principal,
           lower(trim(eventsource)) AS event_source,
           eventname AS event_name,
           eventtime AS event_time
    FROM cloudtrail_logs
    WHERE trim(eventsource) <> '' AND trim(eventname) <> ''
),
per_operation AS (
    SELECT principal, event_source, event_name,
           count(*) AS calls, min(event_time) AS first_seen, max(event_time) AS last_seen
    FROM events
    GROUP BY principal, event_source, event_name
),
hosts AS (
    SELECT p.*,
           regexp_replace(event_source, '\\.amazonaws\\.com(\\.cn)?$', '') AS host
    FROM per_operation p
),
labels AS (
    SELECT h.*, split_part(host, '.', 1) AS first_label
    FROM hosts h
),
resolved AS (
    SELECT l.*, coalesce(s1.prefix, s2.prefix, s3.prefix) AS prefix
    FROM labels l
    LEFT JOIN iamref_v_services s1 ON lower(s1.prefix) = l.first_label
    LEFT JOIN iamref_event_source_prefixes e2 ON e2.label = l.host
    LEFT JOIN iamref_v_services s2 ON lower(s2.prefix) = e2.prefix
    LEFT JOIN iamref_event_source_prefixes e3 ON e3.label = l.first_label
    LEFT JOIN iamref_v_services s3 ON lower(s3.prefix) = e3.prefix
),
operation_actions AS (
    SELECT DISTINCT prefix, operation, iam_action
    FROM iamref_operation_action_map
)
SELECT r.principal,
       m.iam_action,
       m.prefix || ':' || m.operation AS operation,
       sum(r.calls) AS calls,
       min(r.first_seen) AS first_seen,
       max(r.last_seen) AS last_seen
FROM resolved r
JOIN operation_actions m
  ON lower(m.prefix) = lower(r.prefix) AND lower(m.operation) = lower(r.event_name)
GROUP BY r.principal, m.iam_action, m.prefix || ':' || m.operation
ORDER BY r.principal, m.iam_action, operation
