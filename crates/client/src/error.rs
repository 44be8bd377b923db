//! What can go wrong talking to the server.

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached, or the connection failed.
    #[error("reaching the EvalGuard server: {0}")]
    Transport(reqwest::Error),
    /// The server answered with an error (`{"error": {"code", "message", "param"?}}`).
    #[error("the server answered {status} {code}: {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
        param: Option<String>,
    },
    /// A success answer that is not what the API documents.
    #[error("the server's answer could not be read: {0}")]
    Decode(String),
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
    #[serde(default)]
    param: Option<String>,
}

impl ClientError {
    pub(crate) fn from_answer(status: u16, body: &[u8]) -> Self {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(ErrorBody { error }) => ClientError::Api {
                status,
                code: error.code,
                message: error.message,
                param: error.param,
            },
            Err(_) => ClientError::Api {
                status,
                code: "unknown".to_owned(),
                message: String::from_utf8_lossy(body).chars().take(200).collect(),
                param: None,
            },
        }
    }

    /// The HTTP status of an error answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_keep_code_message_and_param() {
        let body =
            br#"{"error": {"code": "invalid_request", "message": "bad", "param": "sample_count"}}"#;
        match ClientError::from_answer(400, body) {
            ClientError::Api {
                status,
                code,
                param,
                ..
            } => {
                assert_eq!(status, 400);
                assert_eq!(code, "invalid_request");
                assert_eq!(param.as_deref(), Some("sample_count"));
            }
            other => panic!("{other:?}"),
        }
        let odd = ClientError::from_answer(502, b"bad gateway");
        assert_eq!(odd.status(), Some(502));
        assert!(odd.to_string().contains("bad gateway"));
    }
}
