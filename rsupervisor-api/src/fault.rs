//! supervisord's fault codes and their mapping to JSON-RPC error objects.
//!
//! A fault travels as a JSON-RPC error whose `code` is supervisord's fault number and whose
//! `message` is supervisord's fault string (`BAD_NAME: nosuch`), so tools written for
//! supervisord's XML-RPC faults read ours unchanged.

use jsonrpsee::types::ErrorObjectOwned;
use std::fmt;

/// supervisord's fault codes (`supervisor/xmlrpc.py`), with the same numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// 1: the method does not exist.
    UnknownMethod,
    /// 2: wrong number or type of parameters.
    IncorrectParameters,
    /// 3: parameters with invalid values.
    BadArguments,
    /// 4: `system.methodSignature` of an unknown method.
    SignatureUnsupported,
    /// 6: the daemon is shutting down or restarting.
    ShutdownState,
    /// 10: no such process or group.
    BadName,
    /// 11: no such signal.
    BadSignal,
    /// 20: command or log file not found.
    NoFile,
    /// 21: command not executable.
    NotExecutable,
    /// 30: generic failure.
    Failed,
    /// 40: the process left STARTING without a spawn error.
    AbnormalTermination,
    /// 50: the process could not be spawned.
    SpawnError,
    /// 60: the process is already running.
    AlreadyStarted,
    /// 70: the process is not running.
    NotRunning,
    /// 80: success (used in group status structs).
    Success,
    /// 90: the group is already active.
    AlreadyAdded,
    /// 91: the group still has running processes.
    StillRunning,
    /// 92: the configuration could not be re-read.
    CantReread,
    /// 403 (rsupervisor addition): the caller's role does not allow the method
    /// (`[unix_http_server]`/`[inet_http_server]` `control_users` and friends).
    Forbidden,
}

impl Fault {
    /// Every fault, for tests and lookups.
    pub const ALL: [Fault; 19] = [
        Fault::UnknownMethod,
        Fault::IncorrectParameters,
        Fault::BadArguments,
        Fault::SignatureUnsupported,
        Fault::ShutdownState,
        Fault::BadName,
        Fault::BadSignal,
        Fault::NoFile,
        Fault::NotExecutable,
        Fault::Failed,
        Fault::AbnormalTermination,
        Fault::SpawnError,
        Fault::AlreadyStarted,
        Fault::NotRunning,
        Fault::Success,
        Fault::AlreadyAdded,
        Fault::StillRunning,
        Fault::CantReread,
        Fault::Forbidden,
    ];

    /// supervisord's numeric code.
    pub fn code(self) -> i32 {
        match self {
            Fault::UnknownMethod => 1,
            Fault::IncorrectParameters => 2,
            Fault::BadArguments => 3,
            Fault::SignatureUnsupported => 4,
            Fault::ShutdownState => 6,
            Fault::BadName => 10,
            Fault::BadSignal => 11,
            Fault::NoFile => 20,
            Fault::NotExecutable => 21,
            Fault::Failed => 30,
            Fault::AbnormalTermination => 40,
            Fault::SpawnError => 50,
            Fault::AlreadyStarted => 60,
            Fault::NotRunning => 70,
            Fault::Success => 80,
            Fault::AlreadyAdded => 90,
            Fault::StillRunning => 91,
            Fault::CantReread => 92,
            Fault::Forbidden => 403,
        }
    }

    /// supervisord's fault name (`BAD_NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Fault::UnknownMethod => "UNKNOWN_METHOD",
            Fault::IncorrectParameters => "INCORRECT_PARAMETERS",
            Fault::BadArguments => "BAD_ARGUMENTS",
            Fault::SignatureUnsupported => "SIGNATURE_UNSUPPORTED",
            Fault::ShutdownState => "SHUTDOWN_STATE",
            Fault::BadName => "BAD_NAME",
            Fault::BadSignal => "BAD_SIGNAL",
            Fault::NoFile => "NO_FILE",
            Fault::NotExecutable => "NOT_EXECUTABLE",
            Fault::Failed => "FAILED",
            Fault::AbnormalTermination => "ABNORMAL_TERMINATION",
            Fault::SpawnError => "SPAWN_ERROR",
            Fault::AlreadyStarted => "ALREADY_STARTED",
            Fault::NotRunning => "NOT_RUNNING",
            Fault::Success => "SUCCESS",
            Fault::AlreadyAdded => "ALREADY_ADDED",
            Fault::StillRunning => "STILL_RUNNING",
            Fault::CantReread => "CANT_REREAD",
            Fault::Forbidden => "FORBIDDEN",
        }
    }

    /// The fault with this numeric code, if any.
    pub fn from_code(code: i32) -> Option<Fault> {
        Fault::ALL.into_iter().find(|fault| fault.code() == code)
    }
}

/// A fault with its optional detail, as carried over the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultError {
    /// Which fault.
    pub fault: Fault,
    /// Text after `NAME: ` in the fault string (usually the process name).
    pub detail: Option<String>,
}

impl FaultError {
    /// A fault with a detail text.
    pub fn new(fault: Fault, detail: impl Into<String>) -> Self {
        FaultError {
            fault,
            detail: Some(detail.into()),
        }
    }

    /// A fault without detail.
    pub fn bare(fault: Fault) -> Self {
        FaultError {
            fault,
            detail: None,
        }
    }

    /// Reads a fault back from a JSON-RPC error object; `None` for errors that are not faults
    /// (for example JSON-RPC's own -32xxx codes).
    pub fn from_error_object(error: &jsonrpsee::types::ErrorObject<'_>) -> Option<Self> {
        let fault = Fault::from_code(error.code())?;
        let message = error.message();
        let detail = message
            .strip_prefix(fault.name())
            .and_then(|rest| rest.strip_prefix(": "))
            .map(str::to_owned);
        Some(FaultError { fault, detail })
    }
}

impl fmt::Display for FaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.detail {
            Some(detail) => write!(f, "{}: {}", self.fault.name(), detail),
            None => f.write_str(self.fault.name()),
        }
    }
}

impl std::error::Error for FaultError {}

impl From<FaultError> for ErrorObjectOwned {
    fn from(error: FaultError) -> Self {
        ErrorObjectOwned::owned(error.fault.code(), error.to_string(), None::<()>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_supervisord() {
        let expected = [
            ("UNKNOWN_METHOD", 1),
            ("INCORRECT_PARAMETERS", 2),
            ("BAD_ARGUMENTS", 3),
            ("SIGNATURE_UNSUPPORTED", 4),
            ("SHUTDOWN_STATE", 6),
            ("BAD_NAME", 10),
            ("BAD_SIGNAL", 11),
            ("NO_FILE", 20),
            ("NOT_EXECUTABLE", 21),
            ("FAILED", 30),
            ("ABNORMAL_TERMINATION", 40),
            ("SPAWN_ERROR", 50),
            ("ALREADY_STARTED", 60),
            ("NOT_RUNNING", 70),
            ("SUCCESS", 80),
            ("ALREADY_ADDED", 90),
            ("STILL_RUNNING", 91),
            ("CANT_REREAD", 92),
            ("FORBIDDEN", 403),
        ];
        assert_eq!(Fault::ALL.len(), expected.len());
        for (fault, (name, code)) in Fault::ALL.iter().zip(expected) {
            assert_eq!(fault.name(), name);
            assert_eq!(fault.code(), code);
            assert_eq!(Fault::from_code(code), Some(*fault));
        }
        assert_eq!(Fault::from_code(5), None);
    }

    #[test]
    fn fault_round_trips_through_error_object() {
        for error in [
            FaultError::new(Fault::BadName, "sixbtc:api"),
            FaultError::bare(Fault::Failed),
        ] {
            let object: ErrorObjectOwned = error.clone().into();
            assert_eq!(FaultError::from_error_object(&object), Some(error));
        }
        let object: ErrorObjectOwned = FaultError::new(Fault::BadName, "x").into();
        assert_eq!(object.message(), "BAD_NAME: x");
        assert_eq!(object.code(), 10);
    }
}
