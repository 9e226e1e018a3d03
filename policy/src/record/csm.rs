//! SDK client-side monitoring (CSM) datagrams, parsed.
//!
//! AWS SDKs with `AWS_CSM_ENABLED=true` send one small JSON datagram per
//! API call (`Type: ApiCall`) and per HTTP attempt (`ApiCallAttempt`) over
//! UDP. Attempts carry `AccessKey` and `SessionToken` in clear text. This
//! module reads the access key only to decode the account id it encodes
//! ([`account_from_access_key`]) and never keeps, logs or prints either:
//! neither is a field of [`Datagram`], and error messages never quote the
//! datagram.
//!
//! Pure: bytes in, [`Datagram`] or [`CsmError`] out; never panics.

use serde_json::{Map, Value};

/// Datagrams larger than this are refused unread ([`CsmError::Oversized`]).
/// SDK datagrams are a few hundred bytes; the SDKs cap them at 8 KiB.
pub const MAX_DATAGRAM: usize = 8 * 1024;

/// `Type` of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One per API call, after the last attempt: what the workload did.
    ApiCall,
    /// One per HTTP attempt (kept for diagnostics).
    ApiCallAttempt,
}

/// One datagram, without its credentials.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Datagram {
    pub kind: Option<Kind>,
    pub version: Option<i64>,
    pub client_id: Option<String>,
    /// SDK service ID, e.g. `SFN`, `CloudWatch Logs`.
    pub service: String,
    /// API operation, e.g. `ListObjectsV2`, `AssociateAlias2020_05_31`.
    pub api: String,
    /// Milliseconds since the epoch.
    pub timestamp: Option<i64>,
    pub region: Option<String>,
    pub user_agent: Option<String>,
    pub final_http_status: Option<u16>,
    pub final_aws_exception: Option<String>,
    /// Only the action named by an AccessDenied-family message
    /// ("... is not authorized to perform: s3:ListBucket ..."); the rest
    /// of the message is not kept.
    pub denied_action: Option<String>,
    pub final_sdk_exception: Option<String>,
    pub max_retries_exceeded: Option<bool>,
    pub attempt_count: Option<u32>,
    /// Attempts only.
    pub fqdn: Option<String>,
    pub http_status: Option<u16>,
    pub aws_exception: Option<String>,
    /// The 12-digit account decoded from the attempt's access key, if it
    /// encodes one (keys created since about 2019 do).
    pub account: Option<String>,
}

impl Datagram {
    /// The exception the call finally failed with (AWS or SDK side).
    pub fn failure(&self) -> Option<&str> {
        self.final_aws_exception
            .as_deref()
            .or(self.final_sdk_exception.as_deref())
            .or(self.aws_exception.as_deref())
    }
}

/// Why a datagram was skipped. Messages never quote the datagram.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsmError {
    #[error("oversized datagram ({0} bytes; the limit is {MAX_DATAGRAM})")]
    Oversized(usize),
    #[error("not valid JSON (line {line}, column {column})")]
    Json { line: usize, column: usize },
    #[error("not a JSON object")]
    NotObject,
    #[error("field {0} is missing or not a string")]
    Missing(&'static str),
    #[error("field {0} has the wrong type")]
    WrongType(&'static str),
    #[error("unknown Type (expected ApiCall or ApiCallAttempt)")]
    UnknownType,
}

fn string(m: &Map<String, Value>, k: &'static str) -> Result<Option<String>, CsmError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(CsmError::WrongType(k)),
    }
}

fn int(m: &Map<String, Value>, k: &'static str) -> Result<Option<i64>, CsmError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .map(Some)
            .ok_or(CsmError::WrongType(k)),
        Some(_) => Err(CsmError::WrongType(k)),
    }
}

fn status(m: &Map<String, Value>, k: &'static str) -> Result<Option<u16>, CsmError> {
    match int(m, k)? {
        None => Ok(None),
        Some(v) => u16::try_from(v)
            .map(Some)
            .map_err(|_| CsmError::WrongType(k)),
    }
}

fn boolean(m: &Map<String, Value>, k: &'static str) -> Result<Option<bool>, CsmError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        // Some SDKs send 0/1.
        Some(Value::Number(n)) => Ok(Some(n.as_i64() != Some(0))),
        Some(_) => Err(CsmError::WrongType(k)),
    }
}

/// Parse one datagram. Credentials are decoded to the account id and
/// dropped here.
pub fn parse(bytes: &[u8]) -> Result<Datagram, CsmError> {
    if bytes.len() > MAX_DATAGRAM {
        return Err(CsmError::Oversized(bytes.len()));
    }
    let v: Value = serde_json::from_slice(bytes).map_err(|e| CsmError::Json {
        line: e.line(),
        column: e.column(),
    })?;
    let Value::Object(m) = v else {
        return Err(CsmError::NotObject);
    };
    let kind = match string(&m, "Type")?.as_deref() {
        Some("ApiCall") => Kind::ApiCall,
        Some("ApiCallAttempt") => Kind::ApiCallAttempt,
        None => return Err(CsmError::Missing("Type")),
        Some(_) => return Err(CsmError::UnknownType),
    };
    let service = string(&m, "Service")?.ok_or(CsmError::Missing("Service"))?;
    let api = string(&m, "Api")?.ok_or(CsmError::Missing("Api"))?;
    if service.trim().is_empty() {
        return Err(CsmError::Missing("Service"));
    }
    if api.trim().is_empty() {
        return Err(CsmError::Missing("Api"));
    }
    // The access key: decoded to its account, never stored. A key of the
    // wrong type is an error that names the field, not its value.
    let account = match m.get("AccessKey") {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => account_from_access_key(k),
        Some(_) => return Err(CsmError::WrongType("AccessKey")),
    };
    let message = string(&m, "FinalAwsExceptionMessage")?
        .or(string(&m, "AwsExceptionMessage")?)
        .unwrap_or_default();
    Ok(Datagram {
        kind: Some(kind),
        version: int(&m, "Version")?,
        client_id: string(&m, "ClientId")?,
        service,
        api,
        timestamp: int(&m, "Timestamp")?,
        region: string(&m, "Region")?,
        user_agent: string(&m, "UserAgent")?,
        final_http_status: status(&m, "FinalHttpStatusCode")?,
        final_aws_exception: string(&m, "FinalAwsException")?,
        denied_action: denied_action(&message),
        final_sdk_exception: string(&m, "FinalSdkException")?,
        max_retries_exceeded: boolean(&m, "MaxRetriesExceeded")?,
        attempt_count: int(&m, "AttemptCount")?.and_then(|c| u32::try_from(c).ok()),
        fqdn: string(&m, "Fqdn")?,
        http_status: status(&m, "HttpStatusCode")?,
        aws_exception: string(&m, "AwsException")?,
        account,
    })
}

/// The action an AccessDenied-family message names: "User: … is not
/// authorized to perform: s3:ListBucket on resource: …".
pub fn denied_action(message: &str) -> Option<String> {
    let i = message.find("to perform: ")? + "to perform: ".len();
    let rest = &message[i..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == ':' || c == '-' || c == '_'))
        .unwrap_or(rest.len());
    let a = &rest[..end];
    let (p, n) = a.split_once(':')?;
    (!p.is_empty() && !n.is_empty() && !n.contains(':')).then(|| a.to_string())
}

/// Is this exception code one of the AccessDenied family?
pub fn is_access_denied(code: &str) -> bool {
    let c = code.to_ascii_lowercase();
    c.contains("accessdenied")
        || c.contains("unauthorized")
        || c == "authorizationerror"
        || c == "authorizationfailure"
        || c == "forbidden"
        || c == "notauthorized"
}

/// The 12-digit AWS account an access key id encodes, if it does.
///
/// Access key ids (`AKIA…` long-term, `ASIA…` temporary) are a 4-letter
/// prefix and 16 base32 characters (10 bytes). For keys issued since
/// about 2019, bits 1..=39 of the first 6 bytes (big-endian, mask
/// `0x7fff_ffff_ff80`, shifted right by 7) are the account id (Tal
/// Be'ery, "A short note on AWS KEY ID", 2021; Aidan Steele, 2020).
/// Older keys, whose fifth character is `I` or `J` (`AKIAIOSFODNN7EXAMPLE`),
/// do not encode it: `None`.
pub fn account_from_access_key(key: &str) -> Option<String> {
    let b = key.as_bytes();
    if b.len() != 20 || !(key.starts_with("AKIA") || key.starts_with("ASIA")) {
        return None;
    }
    if matches!(b[4], b'I' | b'J') {
        return None;
    }
    let mut bits: u64 = 0;
    let mut n = 0u32;
    let mut bytes = [0u8; 6];
    let mut out = 0usize;
    for &c in &b[4..] {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        bits = (bits << 5) | u64::from(v);
        n += 5;
        while n >= 8 && out < 6 {
            n -= 8;
            bytes[out] = (bits >> n) as u8;
            out += 1;
        }
        bits &= (1u64 << n) - 1;
    }
    let z = bytes.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
    let account = (z & 0x7fff_ffff_ff80) >> 7;
    (account <= 999_999_999_999).then(|| format!("{account:012}"))
}

/// An access key id that encodes `account` (the inverse of
/// [`account_from_access_key`]; `salt` fills the other bits). For tests
/// and constructed fixtures: such a key is not a credential.
pub fn access_key_for_account(prefix: &str, account: u64, salt: u64) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bytes = [0u8; 10];
    // Keep bit 47 clear and the low 7 bits from the salt.
    let z = ((account & 0x00ff_ffff_ffff) << 7) | (salt & 0x7f);
    for (i, byte) in bytes.iter_mut().take(6).enumerate() {
        *byte = (z >> (8 * (5 - i))) as u8;
    }
    for (i, byte) in bytes.iter_mut().skip(6).enumerate() {
        *byte = (salt >> (8 * (i + 1))) as u8;
    }
    let mut s = String::from(prefix);
    let mut bits: u32 = 0;
    let mut n = 0;
    for &byte in &bytes {
        bits = (bits << 8) | u32::from(byte);
        n += 8;
        while n >= 5 {
            n -= 5;
            s.push(ALPHABET[((bits >> n) & 31) as usize] as char);
        }
        bits &= (1 << n) - 1;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_from_published_example_key() {
        // The example of Tal Be'ery's note on AWS key ids.
        assert_eq!(
            account_from_access_key("ASIAY34FZKBOKMUTVV7A").as_deref(),
            Some("609629065308")
        );
        // Old-format keys encode nothing.
        assert_eq!(account_from_access_key("AKIAIOSFODNN7EXAMPLE"), None);
        assert_eq!(account_from_access_key("testing"), None);
        assert_eq!(account_from_access_key("AKIA0000000000000000"), None);
    }

    #[test]
    fn constructed_keys_round_trip() {
        for (acct, salt) in [
            (123456789012u64, 0u64),
            (1, 99),
            (999_999_999_999, u64::MAX),
        ] {
            let k = access_key_for_account("AKIA", acct, salt);
            assert_eq!(k.len(), 20, "{k}");
            if matches!(k.as_bytes()[4], b'I' | b'J') {
                continue;
            }
            assert_eq!(
                account_from_access_key(&k),
                Some(format!("{acct:012}")),
                "{k}"
            );
        }
    }

    #[test]
    fn api_call_and_attempt() {
        // Constructed in the shape botocore sends.
        let call = br#"{"Version":1,"ClientId":"","Type":"ApiCall","Service":"SFN","Api":"ListStateMachines","Timestamp":1764000000000,"AttemptCount":1,"Region":"us-east-1","UserAgent":"Boto3/1.40.0","FinalHttpStatusCode":200,"Latency":12,"MaxRetriesExceeded":0}"#;
        let d = parse(call).unwrap();
        assert_eq!(d.kind, Some(Kind::ApiCall));
        assert_eq!(
            (d.service.as_str(), d.api.as_str()),
            ("SFN", "ListStateMachines")
        );
        assert_eq!(d.final_http_status, Some(200));
        assert_eq!(d.max_retries_exceeded, Some(false));
        let key = access_key_for_account("ASIA", 123456789012, 7);
        let attempt = format!(
            r#"{{"Version":1,"Type":"ApiCallAttempt","Service":"SQS","Api":"SendMessage","Fqdn":"sqs.us-east-1.amazonaws.com","AccessKey":"{key}","SessionToken":"FQoGZXIvYXdzEXAMPLETOKEN","HttpStatusCode":403,"AwsException":"AccessDenied","AwsExceptionMessage":"User: arn:aws:sts::123456789012:assumed-role/r/s is not authorized to perform: sqs:sendmessage on resource: q"}}"#
        );
        let d = parse(attempt.as_bytes()).unwrap();
        assert_eq!(d.kind, Some(Kind::ApiCallAttempt));
        assert_eq!(d.account.as_deref(), Some("123456789012"));
        assert_eq!(d.denied_action.as_deref(), Some("sqs:sendmessage"));
        let shown = format!("{d:?}");
        assert!(
            !shown.contains(&key) && !shown.contains("EXAMPLETOKEN"),
            "{shown}"
        );
    }

    #[test]
    fn bad_datagrams_are_errors_that_quote_nothing() {
        assert_eq!(
            parse(&[b' '; MAX_DATAGRAM + 1]),
            Err(CsmError::Oversized(MAX_DATAGRAM + 1))
        );
        assert!(matches!(parse(b"{\"Type\":"), Err(CsmError::Json { .. })));
        assert_eq!(parse(b"[1]"), Err(CsmError::NotObject));
        assert_eq!(
            parse(br#"{"Type":"ApiCall","Api":"X"}"#),
            Err(CsmError::Missing("Service"))
        );
        assert_eq!(
            parse(br#"{"Type":"Other","Service":"S3","Api":"X"}"#),
            Err(CsmError::UnknownType)
        );
        let e = parse(
            br#"{"Type":"ApiCall","Service":"S3","Api":"X","FinalHttpStatusCode":"AKIASECRET"}"#,
        )
        .unwrap_err();
        assert!(!e.to_string().contains("AKIASECRET"), "{e}");
        let e = parse(br#"{"Type":"ApiCall","Service":"S3","Api":"X","AccessKey":5}"#).unwrap_err();
        assert_eq!(e, CsmError::WrongType("AccessKey"));
    }

    #[test]
    fn denied_messages_name_the_action() {
        assert_eq!(
            denied_action("User: arn:aws:iam::1:user/u is not authorized to perform: logs:DescribeLogGroups on resource: *").as_deref(),
            Some("logs:DescribeLogGroups")
        );
        assert_eq!(denied_action("Access Denied"), None);
        assert!(is_access_denied("AccessDeniedException"));
        assert!(is_access_denied("UnauthorizedOperation"));
        assert!(!is_access_denied("NoSuchKey"));
    }
}
