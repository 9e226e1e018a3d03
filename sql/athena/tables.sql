-- Athena tables for the CloudTrail join (actions_by_principal.sql).
--
-- 1. Export iamref's tables as JSON lines and put each file in its own S3
--    folder (Athena reads every file under a table's LOCATION):
--
--      iamref export --format jsonl iamref-export
--      for t in v_services operation_action_map event_source_prefixes; do
--        aws s3 cp iamref-export/$t.jsonl s3://BUCKET/iamref/$t/$t.jsonl
--      done
--
--    (all the other v_* files load the same way; their columns are in
--    README.md, "The SQL face"). CSV works too, with
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
