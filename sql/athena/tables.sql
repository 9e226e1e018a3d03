-- Athena tables for every file `iamref export --format jsonl` writes (one
-- per public view, README.md "The SQL face", plus operation_action_map and
-- event_source_prefixes), and for the CloudTrail join
-- (actions_by_principal.sql reads iamref_v_services,
-- iamref_operation_action_map, iamref_event_source_prefixes and
-- cloudtrail_logs).
--
-- 1. Export iamref's tables as JSON lines and put each file in its own S3
--    folder (Athena reads every file under a table's LOCATION):
--
--      iamref export --format jsonl iamref-export
--      for f in iamref-export/*.jsonl; do
--        t=$(basename "$f" .jsonl)
--        aws s3 cp "$f" "s3://BUCKET/iamref/$t/$t.jsonl"
--      done
--
--    CSV works too, with
--    ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde' and
--    TBLPROPERTIES ('skip.header.line.count' = '1'); OpenCSVSerde reads
--    every column as STRING.
-- 2. Replace BUCKET, the organization trail's bucket, o-ORGID, the account
--    and region lists and the start date below, then run each statement.

CREATE EXTERNAL TABLE iamref_v_services (
    prefix  STRING,
    name    STRING,
    sources STRING
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://BUCKET/iamref/v_services/';

CREATE EXTERNAL TABLE iamref_v_actions (
    prefix          STRING,
    action          STRING,
    access_level    STRING,
    permission_only BOOLEAN,
    resource_level  BOOLEAN,
    description     STRING,
    doc_url         STRING,
    sources         STRING
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://BUCKET/iamref/v_actions/';

CREATE EXTERNAL TABLE iamref_v_action_resource_types (
    prefix        STRING,
    action        STRING,
    resource_type STRING,
    required      BOOLEAN,
    arn           STRING
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://BUCKET/iamref/v_action_resource_types/';

CREATE EXTERNAL TABLE iamref_v_action_condition_keys (
    prefix        STRING,
    action        STRING,
    resource_type STRING,
    condition_key STRING
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://BUCKET/iamref/v_action_condition_keys/';

CREATE EXTERNAL TABLE iamref_v_resource_types (
    prefix        STRING,
    resource_type STRING,
    arn           STRING
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://BUCKET/iamref/v_resource_types/';

CREATE EXTERNAL TABLE iamref_v_condition_keys (
    prefix        STRING,
    condition_key STRING,
    type          STRING,
    description   STRING
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://BUCKET/iamref/v_condition_keys/';

CREATE EXTERNAL TABLE iamref_v_dependent_actions (
    prefix           STRING,
    action           STRING,
    resource_type    STRING,
    dependent_action STRING
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://BUCKET/iamref/v_dependent_actions/';

CREATE EXTERNAL TABLE iamref_v_operations (
    prefix        STRING,
    operation     STRING,
    action_prefix STRING,
    action        STRING,
    access_level  STRING
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://BUCKET/iamref/v_operations/';

CREATE EXTERNAL TABLE iamref_v_sdk_methods (
    prefix    STRING,
    operation STRING,
    package   STRING,
    client    STRING,
    method    STRING
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://BUCKET/iamref/v_sdk_methods/';

CREATE EXTERNAL TABLE iamref_v_operation_context (
    prefix        STRING,
    operation     STRING,
    action_prefix STRING,
    action        STRING,
    condition_key STRING,
    value         STRING
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://BUCKET/iamref/v_operation_context/';

CREATE EXTERNAL TABLE iamref_v_condition_key_types (
    prefix        STRING,
    condition_key STRING,
    source        STRING,
    type          STRING
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://BUCKET/iamref/v_condition_key_types/';

CREATE EXTERNAL TABLE iamref_v_action_page_facts (
    prefix          STRING,
    action          STRING,
    page            STRING,
    access_level    STRING,
    permission_only BOOLEAN,
    description     STRING
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://BUCKET/iamref/v_action_page_facts/';

CREATE EXTERNAL TABLE iamref_operation_action_map (
    prefix       STRING,
    operation    STRING,
    iam_action   STRING,
    access_level STRING,
    known        BOOLEAN
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://BUCKET/iamref/operation_action_map/';

CREATE EXTERNAL TABLE iamref_event_source_prefixes (
    label  STRING,
    prefix STRING
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION 's3://BUCKET/iamref/event_source_prefixes/';

-- The organization trail: s3://TRAIL_BUCKET/AWSLogs/o-ORGID/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/,
-- partitions projected (no ALTER TABLE ADD PARTITION needed). Only the
-- columns the join reads are required; the others are there for your own
-- queries.
CREATE EXTERNAL TABLE cloudtrail_logs (
    eventversion STRING,
    useridentity STRUCT<
        type: STRING,
        principalid: STRING,
        arn: STRING,
        accountid: STRING,
        invokedby: STRING,
        accesskeyid: STRING,
        username: STRING,
        sessioncontext: STRUCT<
            attributes: STRUCT<mfaauthenticated: STRING, creationdate: STRING>,
            sessionissuer: STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING, username: STRING>>>,
    eventtime STRING,
    eventsource STRING,
    eventname STRING,
    awsregion STRING,
    sourceipaddress STRING,
    useragent STRING,
    errorcode STRING,
    errormessage STRING,
    requestparameters STRING,
    responseelements STRING,
    additionaleventdata STRING,
    requestid STRING,
    eventid STRING,
    readonly STRING,
    resources ARRAY<STRUCT<arn: STRING, accountid: STRING, type: STRING>>,
    eventtype STRING,
    apiversion STRING,
    recipientaccountid STRING,
    sharedeventid STRING,
    vpcendpointid STRING
)
PARTITIONED BY (account STRING, region STRING, `timestamp` STRING)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://TRAIL_BUCKET/AWSLogs/o-ORGID/'
TBLPROPERTIES (
    'projection.enabled' = 'true',
    'projection.account.type' = 'enum',
    'projection.account.values' = '111122223333,444455556666',
    'projection.region.type' = 'enum',
    'projection.region.values' = 'us-east-1,eu-west-1',
    'projection.timestamp.type' = 'date',
    'projection.timestamp.format' = 'yyyy/MM/dd',
    'projection.timestamp.range' = '2026/01/01,NOW',
    'projection.timestamp.interval' = '1',
    'projection.timestamp.interval.unit' = 'DAYS',
    'storage.location.template' = 's3://TRAIL_BUCKET/AWSLogs/o-ORGID/${account}/CloudTrail/${region}/${timestamp}'
);
