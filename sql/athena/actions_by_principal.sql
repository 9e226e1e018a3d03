-- Which IAM actions did each principal use?
--
-- CloudTrail records joined with iamref's operation -> action map: the
-- event source gives the service prefix, the event name the API
-- operation, the map the IAM actions that operation needs. The mapping is
-- the one `iamref calls` applies, so for the same records both give the
-- same actions (tested in DuckDB: query/tests/export_cli.rs):
--   * event source host without .amazonaws.com(.cn), lowercased; the prefix
--     is the first of these that is a known service prefix: the host's
--     first label, the exception for the whole host, the exception for the
--     first label (iamref_event_source_prefixes: monitoring -> cloudwatch,
--     email -> ses, runtime.sagemaker -> sagemaker, ...);
--   * event name = operation name, compared case-insensitively;
--   * events whose source or operation the dataset does not know drop out
--     (`iamref calls` reports them on stderr).
--
-- Tables: tables.sql (Athena). The SQL is plain enough for Athena (Trino),
-- DuckDB and Spark SQL. To look at the last 90 days only, add to the WHERE
-- clause a predicate on the partition column of cloudtrail_logs, e.g.
--   AND "timestamp" >= date_format(current_date - INTERVAL '90' DAY, '%Y/%m/%d')
-- (Athena; it also prunes what is read).
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
           regexp_replace(event_source, '\.amazonaws\.com(\.cn)?$', '') AS host
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
