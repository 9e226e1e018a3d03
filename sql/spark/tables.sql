-- Spark SQL views over the files `iamref export` writes (CSV or JSON
-- lines), under the names sql/athena/tables.sql gives them, and over a
-- CloudTrail sample, for the join in actions_by_principal.sql (it reads
-- iamref_v_services, iamref_operation_action_map,
-- iamref_event_source_prefixes and cloudtrail_logs). Spark substitutes
-- four variables, set before the statements run:
--
--   iamref_export  the folder `iamref export` wrote
--   iamref_format  the Spark data source: json (for --format jsonl) or csv
--   iamref_ext     the files' extension: jsonl or csv
--   iamref_trail   CloudTrail records, one JSON object per line
--
--   SET iamref_export=/data/iamref-export;
--   SET iamref_format=json;
--   SET iamref_ext=jsonl;
--   SET iamref_trail=/data/trail.jsonl;
--
-- (from PySpark: spark.sql("SET iamref_export=/data/iamref-export") and so
-- on), then each statement below, then actions_by_principal.sql. CSV
-- columns are read as strings, as Athena's OpenCSVSerde reads them. For
-- the S3 delivery layout of a trail (files of {"Records": [...]}), read
-- them with `USING json` and select `explode(Records)` instead of the last
-- view. Tested in Spark local mode against `iamref calls`
-- (query/tests/cli/export.rs).

CREATE OR REPLACE TEMPORARY VIEW iamref_v_services
USING ${iamref_format}
OPTIONS (path '${iamref_export}/v_services.${iamref_ext}', header 'true');

CREATE OR REPLACE TEMPORARY VIEW iamref_v_actions
USING ${iamref_format}
OPTIONS (path '${iamref_export}/v_actions.${iamref_ext}', header 'true');

CREATE OR REPLACE TEMPORARY VIEW iamref_v_action_resource_types
USING ${iamref_format}
OPTIONS (path '${iamref_export}/v_action_resource_types.${iamref_ext}', header 'true');

CREATE OR REPLACE TEMPORARY VIEW iamref_v_action_condition_keys
USING ${iamref_format}
OPTIONS (path '${iamref_export}/v_action_condition_keys.${iamref_ext}', header 'true');

CREATE OR REPLACE TEMPORARY VIEW iamref_v_resource_types
USING ${iamref_format}
OPTIONS (path '${iamref_export}/v_resource_types.${iamref_ext}', header 'true');

CREATE OR REPLACE TEMPORARY VIEW iamref_v_condition_keys
USING ${iamref_format}
OPTIONS (path '${iamref_export}/v_condition_keys.${iamref_ext}', header 'true');

CREATE OR REPLACE TEMPORARY VIEW iamref_v_dependent_actions
USING ${iamref_format}
OPTIONS (path '${iamref_export}/v_dependent_actions.${iamref_ext}', header 'true');

CREATE OR REPLACE TEMPORARY VIEW iamref_v_operations
USING ${iamref_format}
OPTIONS (path '${iamref_export}/v_operations.${iamref_ext}', header 'true');

CREATE OR REPLACE TEMPORARY VIEW iamref_v_sdk_methods
USING ${iamref_format}
OPTIONS (path '${iamref_export}/v_sdk_methods.${iamref_ext}', header 'true');

CREATE OR REPLACE TEMPORARY VIEW iamref_v_operation_context
USING ${iamref_format}
OPTIONS (path '${iamref_export}/v_operation_context.${iamref_ext}', header 'true');

CREATE OR REPLACE TEMPORARY VIEW iamref_v_condition_key_types
USING ${iamref_format}
OPTIONS (path '${iamref_export}/v_condition_key_types.${iamref_ext}', header 'true');

CREATE OR REPLACE TEMPORARY VIEW iamref_v_action_page_facts
USING ${iamref_format}
OPTIONS (path '${iamref_export}/v_action_page_facts.${iamref_ext}', header 'true');

CREATE OR REPLACE TEMPORARY VIEW iamref_operation_action_map
USING ${iamref_format}
OPTIONS (path '${iamref_export}/operation_action_map.${iamref_ext}', header 'true');

CREATE OR REPLACE TEMPORARY VIEW iamref_event_source_prefixes
USING ${iamref_format}
OPTIONS (path '${iamref_export}/event_source_prefixes.${iamref_ext}', header 'true');

CREATE OR REPLACE TEMPORARY VIEW cloudtrail_logs
USING json
OPTIONS (path '${iamref_trail}');
