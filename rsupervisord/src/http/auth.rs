//! HTTP Basic authentication as supervisord checks it: one user, a plain or `{SHA}<hex
//! sha1>` password, and its 401 challenge for every path when credentials are configured.

use base64::Engine;
use sha1::{Digest, Sha1};

/// The configured user and password of one HTTP server section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    user: String,
    password: Password,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Password {
    Plain(String),
    /// `{SHA}` followed by the hex SHA-1 of the password, compared as written.
    Sha1Hex(String),
}

impl Credentials {
    /// Credentials from a section's `username`/`password`; `None` when either is unset (the
    /// config reader already refused a section with only one of them).
    pub fn from_config(user: Option<&str>, password: Option<&str>) -> Option<Self> {
        let (user, password) = (user?, password?);
        let password = match password.strip_prefix("{SHA}") {
            Some(hex) => Password::Sha1Hex(hex.to_owned()),
            None => Password::Plain(password.to_owned()),
        };
        Some(Credentials {
            user: user.to_owned(),
            password,
        })
    }

    /// The configured user name (the caller's name once [`accepts`](Self::accepts) said yes).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Whether an `Authorization` header value carries these credentials.
    pub fn accepts(&self, header: Option<&[u8]>) -> bool {
        let Some(header) = header else {
            return false;
        };
        let Some(encoded) = header
            .strip_prefix(b"Basic ")
            .or_else(|| header.strip_prefix(b"basic "))
        else {
            return false;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim_ascii())
        else {
            return false;
        };
        let Ok(decoded) = String::from_utf8(decoded) else {
            return false;
        };
        let Some((user, password)) = decoded.split_once(':') else {
            return false;
        };
        if user != self.user {
            return false;
        }
        match &self.password {
            Password::Plain(expected) => password == expected,
            Password::Sha1Hex(expected) => {
                let digest = Sha1::digest(password.as_bytes());
                let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
                hex == *expected
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(text)
        )
        .into_bytes()
    }

    #[test]
    fn plain_and_sha_passwords() {
        let plain = Credentials::from_config(Some("user"), Some("123")).expect("set");
        assert!(plain.accepts(Some(&header("user:123"))));
        assert!(!plain.accepts(Some(&header("user:1234"))));
        assert!(!plain.accepts(Some(&header("other:123"))));
        assert!(!plain.accepts(None));
        assert!(!plain.accepts(Some(b"Basic !!!")));
        // sha1("123"), as in supervisord's sample.conf.
        let hashed = Credentials::from_config(
            Some("user"),
            Some("{SHA}40bd001563085fc35165329ea1ff5c5ecbdbbeef"),
        )
        .expect("set");
        assert!(hashed.accepts(Some(&header("user:123"))));
        assert!(!hashed.accepts(Some(&header(
            "user:{SHA}40bd001563085fc35165329ea1ff5c5ecbdbbeef"
        ))));
        // A password containing ':' keeps everything after the first one.
        let colon = Credentials::from_config(Some("u"), Some("a:b")).expect("set");
        assert!(colon.accepts(Some(&header("u:a:b"))));
        assert_eq!(Credentials::from_config(Some("u"), None), None);
    }
}
