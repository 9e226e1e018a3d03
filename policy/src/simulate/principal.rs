//! Who makes a request, and which `Principal` entries name it.

/// The principal of a request, read from its ARN (or service name,
/// provider, canonical user ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub raw: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `arn:aws:iam::ACCOUNT:root`.
    Root { account: String },
    /// `arn:aws:iam::ACCOUNT:user/PATH/NAME`.
    User { account: String, name: String },
    /// A role session: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, or a
    /// role ARN given for one (`session` is then `None`).
    RoleSession {
        account: String,
        role: String,
        /// The role's ARN, with its path when the role ARN was given.
        role_arn: String,
        session: Option<String>,
    },
    /// `arn:aws:sts::ACCOUNT:federated-user/NAME` (GetFederationToken).
    FederatedUser { account: String, name: String },
    /// `lambda.amazonaws.com`.
    Service(String),
    /// A SAML or OIDC provider ARN or a web identity provider name.
    Federated(String),
    /// An S3 canonical user ID.
    CanonicalUser(String),
    /// Anything else (kept as text, matched only by `*`).
    Other,
}

impl Principal {
    pub fn parse(raw: &str) -> Principal {
        let kind = kind_of(raw);
        Principal {
            raw: raw.to_string(),
            kind,
        }
    }
    /// The principal's account, when it has one.
    pub fn account(&self) -> Option<&str> {
        match &self.kind {
            Kind::Root { account }
            | Kind::User { account, .. }
            | Kind::RoleSession { account, .. }
            | Kind::FederatedUser { account, .. } => Some(account),
            _ => None,
        }
    }
    /// `aws:PrincipalArn`: the role's ARN for a role session, else the ARN.
    pub fn principal_arn(&self) -> Option<String> {
        match &self.kind {
            Kind::RoleSession { role_arn, .. } => Some(role_arn.clone()),
            Kind::Root { .. } | Kind::User { .. } | Kind::FederatedUser { .. } => {
                Some(self.raw.clone())
            }
            _ => None,
        }
    }
    /// `aws:PrincipalType` as AWS sets it.
    pub fn principal_type(&self) -> Option<&'static str> {
        Some(match &self.kind {
            Kind::Root { .. } => "Account",
            Kind::User { .. } => "User",
            Kind::RoleSession { .. } => "AssumedRole",
            Kind::FederatedUser { .. } => "FederatedUser",
            _ => return None,
        })
    }
    /// A service-linked role (path `/aws-service-role/`): SCPs do not
    /// apply to it.
    pub fn is_service_linked_role(&self) -> bool {
        matches!(&self.kind, Kind::RoleSession { role_arn, .. } if role_arn.contains(":role/aws-service-role/"))
    }
    /// A session (role session or federated user): session policies apply
    /// only to those.
    pub fn is_session(&self) -> bool {
        matches!(
            self.kind,
            Kind::RoleSession { .. } | Kind::FederatedUser { .. }
        )
    }
}

fn kind_of(raw: &str) -> Kind {
    if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Kind::CanonicalUser(raw.to_string());
    }
    let parts: Vec<&str> = raw.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        if raw.ends_with(".amazonaws.com")
            || raw.ends_with(".amazonaws.com.cn")
            || raw.ends_with(".amazon.com") && raw != "www.amazon.com"
        {
            return Kind::Service(raw.to_string());
        }
        if raw.contains('.') {
            return Kind::Federated(raw.to_string());
        }
        if raw.len() == 12 && raw.bytes().all(|b| b.is_ascii_digit()) {
            return Kind::Root {
                account: raw.to_string(),
            };
        }
        return Kind::Other;
    }
    let (partition, service, account, res) = (parts[1], parts[2], parts[4], parts[5]);
    let account = account.to_string();
    match service {
        "iam" if res == "root" => Kind::Root { account },
        "iam" if res.starts_with("user/") => Kind::User {
            account,
            name: last(res).to_string(),
        },
        "iam" if res.starts_with("role/") => Kind::RoleSession {
            role: last(res).to_string(),
            role_arn: raw.to_string(),
            account,
            session: None,
        },
        "iam" if res.starts_with("saml-provider/") || res.starts_with("oidc-provider/") => {
            Kind::Federated(raw.to_string())
        }
        "sts" if res.starts_with("assumed-role/") => {
            let mut it = res["assumed-role/".len()..].splitn(2, '/');
            let role = it.next().unwrap_or("").to_string();
            let session = it.next().map(str::to_string);
            Kind::RoleSession {
                role_arn: format!("arn:{partition}:iam::{account}:role/{role}"),
                role,
                account,
                session,
            }
        }
        "sts" if res.starts_with("federated-user/") => Kind::FederatedUser {
            account,
            name: res["federated-user/".len()..].to_string(),
        },
        _ => Kind::Other,
    }
}

fn last(res: &str) -> &str {
    res.rsplit('/').next().unwrap_or(res)
}

/// How a `Principal` entry names the request's principal; what a
/// resource-based policy's grant means depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Named {
    /// `"*"` or `{"AWS": "*"}`: everyone.
    Anyone,
    /// The account (its ID or `:root`): delegated to the account's IAM
    /// policies.
    Account,
    /// The IAM user's ARN.
    User,
    /// The role's ARN (for one of its sessions).
    Role,
    /// The session's ARN itself (assumed-role or federated-user session).
    Session,
    /// A service principal, federated provider or canonical user.
    Other,
}

impl Named {
    pub fn as_str(self) -> &'static str {
        match self {
            Named::Anyone => "anyone",
            Named::Account => "account",
            Named::User => "user",
            Named::Role => "role",
            Named::Session => "session",
            Named::Other => "other",
        }
    }
}

/// Does the entry (`kind`: `AWS`, `Service`, `Federated`, `CanonicalUser`,
/// `*`) name principal `p`, and how?
pub fn names(kind: &str, value: &str, p: &Principal) -> Option<Named> {
    if value == "*" && (kind == "*" || kind == "AWS") {
        return Some(Named::Anyone);
    }
    match kind {
        "AWS" => {
            let entry = kind_of(value);
            let same_account = |a: &str| p.account() == Some(a);
            match (&entry, &p.kind) {
                (Kind::Root { account }, _) if same_account(account) => Some(Named::Account),
                (Kind::User { .. }, Kind::User { .. }) if eq_arn(value, &p.raw) => {
                    Some(Named::User)
                }
                (
                    Kind::RoleSession {
                        session: None,
                        account,
                        role,
                        ..
                    },
                    Kind::RoleSession {
                        account: pa,
                        role: pr,
                        ..
                    },
                ) if account == pa && role == pr => Some(Named::Role),
                (
                    Kind::RoleSession {
                        session: Some(_), ..
                    },
                    Kind::RoleSession {
                        session: Some(_), ..
                    },
                ) if eq_arn(value, &p.raw) => Some(Named::Session),
                (Kind::FederatedUser { .. }, Kind::FederatedUser { .. })
                    if eq_arn(value, &p.raw) =>
                {
                    Some(Named::Session)
                }
                _ => None,
            }
        }
        "Service" => matches!(&p.kind, Kind::Service(s) if s.eq_ignore_ascii_case(value))
            .then_some(Named::Other),
        "Federated" => matches!(&p.kind, Kind::Federated(s) if s == value).then_some(Named::Other),
        "CanonicalUser" => {
            matches!(&p.kind, Kind::CanonicalUser(s) if s.eq_ignore_ascii_case(value))
                .then_some(Named::Other)
        }
        _ => None,
    }
}

fn eq_arn(a: &str, b: &str) -> bool {
    a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_derived_keys() {
        let s = Principal::parse("arn:aws:sts::111122223333:assumed-role/App/i-1");
        assert_eq!(s.account(), Some("111122223333"));
        assert_eq!(
            s.principal_arn().as_deref(),
            Some("arn:aws:iam::111122223333:role/App")
        );
        assert_eq!(s.principal_type(), Some("AssumedRole"));
        assert!(s.is_session());
        let u = Principal::parse("arn:aws:iam::111122223333:user/dev/ana");
        assert!(matches!(&u.kind, Kind::User { name, .. } if name == "ana"));
        assert!(!u.is_session());
        assert!(matches!(
            Principal::parse("lambda.amazonaws.com").kind,
            Kind::Service(_)
        ));
        assert!(matches!(
            Principal::parse("accounts.google.com").kind,
            Kind::Federated(_)
        ));
        assert!(Principal::parse(
            "arn:aws:iam::111122223333:role/aws-service-role/x.amazonaws.com/R"
        )
        .is_service_linked_role());
    }

    #[test]
    fn entries_name_principals() {
        let s = Principal::parse("arn:aws:sts::111122223333:assumed-role/App/i-1");
        let u = Principal::parse("arn:aws:iam::111122223333:user/ana");
        assert_eq!(names("*", "*", &s), Some(Named::Anyone));
        assert_eq!(names("AWS", "111122223333", &s), Some(Named::Account));
        assert_eq!(
            names("AWS", "arn:aws:iam::111122223333:root", &u),
            Some(Named::Account)
        );
        assert_eq!(names("AWS", "444455556666", &u), None);
        assert_eq!(
            names("AWS", "arn:aws:iam::111122223333:role/App", &s),
            Some(Named::Role)
        );
        assert_eq!(
            names("AWS", "arn:aws:iam::111122223333:role/Other", &s),
            None
        );
        assert_eq!(
            names("AWS", "arn:aws:sts::111122223333:assumed-role/App/i-1", &s),
            Some(Named::Session)
        );
        assert_eq!(
            names("AWS", "arn:aws:sts::111122223333:assumed-role/App/i-2", &s),
            None
        );
        assert_eq!(
            names("AWS", "arn:aws:iam::111122223333:user/ana", &u),
            Some(Named::User)
        );
        assert_eq!(names("AWS", "arn:aws:iam::111122223333:user/bob", &u), None);
        let svc = Principal::parse("s3.amazonaws.com");
        assert_eq!(
            names("Service", "s3.amazonaws.com", &svc),
            Some(Named::Other)
        );
        assert_eq!(names("Service", "sns.amazonaws.com", &svc), None);
        assert_eq!(names("AWS", "111122223333", &svc), None);
    }
}
