//! Exit statuses: supervisorctl's LSB codes and the rules that turn faults and connection
//! failures into them. Every rule here has a test, because scripts depend on these numbers.

use rsupervisor_api::transport::ConnectError;
use rsupervisor_api::Fault;

/// Success.
pub const OK: i32 = 0;
/// Generic failure.
pub const GENERIC: i32 = 1;
/// Bad arguments (`start` without a name, `start nogroup:*`, bad command line).
pub const INVALID_ARGS: i32 = 2;
/// The daemon answered but lacks the methods we use.
pub const UNIMPLEMENTED_FEATURE: i32 = 3;
/// Connection refused.
pub const INSUFFICIENT_PRIVILEGES: i32 = 4;
/// API version mismatch.
pub const NOT_INSTALLED: i32 = 5;
/// Socket missing, or a process that should run does not.
pub const NOT_RUNNING: i32 = 7;
/// `status`: a listed process is STOPPED, EXITED, FATAL or UNKNOWN.
pub const STATUS_NOT_RUNNING: i32 = 3;
/// `status`: a bad name, or the daemon could not be reached.
pub const STATUS_UNKNOWN: i32 = 4;

/// supervisorctl's `set_exitstatus_from_xmlrpc_fault`: the status after a per-process result
/// with fault `code`. SUCCESS and the command's `ignored` fault leave `current` unchanged;
/// SPAWN_ERROR, ABNORMAL_TERMINATION and NOT_RUNNING mean "not running" (7); anything else is
/// a generic failure (1).
pub fn after_fault(current: i32, code: i32, ignored: Option<Fault>) -> i32 {
    let fault = Fault::from_code(code);
    if fault == Some(Fault::Success) || (fault.is_some() && fault == ignored) {
        current
    } else if matches!(
        fault,
        Some(Fault::SpawnError | Fault::AbnormalTermination | Fault::NotRunning)
    ) {
        NOT_RUNNING
    } else {
        GENERIC
    }
}

/// The status when the daemon cannot be reached (supervisorctl's `upcheck`).
pub fn for_connect_error(error: &ConnectError) -> i32 {
    match error {
        ConnectError::NoSuchFile { .. } => NOT_RUNNING,
        ConnectError::Refused { .. } | ConnectError::PermissionDenied { .. } => {
            INSUFFICIENT_PRIVILEGES
        }
        ConnectError::Other { .. } => GENERIC,
    }
}

/// `status` reports any failure of the up-check as "unknown" (4), whatever its cause.
pub fn status_after_upcheck_failure(status: i32) -> i32 {
    if status == OK {
        OK
    } else {
        STATUS_UNKNOWN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn code(fault: Fault) -> i32 {
        fault.code()
    }

    #[test]
    fn lsb_codes_match_supervisorctl() {
        assert_eq!(
            [
                OK,
                GENERIC,
                INVALID_ARGS,
                UNIMPLEMENTED_FEATURE,
                INSUFFICIENT_PRIVILEGES
            ],
            [0, 1, 2, 3, 4]
        );
        assert_eq!([NOT_INSTALLED, NOT_RUNNING], [5, 7]);
        assert_eq!([STATUS_NOT_RUNNING, STATUS_UNKNOWN], [3, 4]);
    }

    #[test]
    fn success_keeps_status() {
        assert_eq!(after_fault(OK, code(Fault::Success), None), OK);
        assert_eq!(
            after_fault(NOT_RUNNING, code(Fault::Success), None),
            NOT_RUNNING
        );
    }

    #[test]
    fn ignored_fault_keeps_status() {
        assert_eq!(
            after_fault(OK, code(Fault::AlreadyStarted), Some(Fault::AlreadyStarted)),
            OK
        );
        assert_eq!(
            after_fault(OK, code(Fault::NotRunning), Some(Fault::NotRunning)),
            OK
        );
    }

    #[test]
    fn spawn_error_is_not_running() {
        assert_eq!(after_fault(OK, code(Fault::SpawnError), None), NOT_RUNNING);
    }

    #[test]
    fn abnormal_termination_is_not_running() {
        assert_eq!(
            after_fault(OK, code(Fault::AbnormalTermination), None),
            NOT_RUNNING
        );
    }

    #[test]
    fn not_running_is_not_running_unless_ignored() {
        assert_eq!(after_fault(OK, code(Fault::NotRunning), None), NOT_RUNNING);
        assert_eq!(
            after_fault(OK, code(Fault::NotRunning), Some(Fault::AlreadyStarted)),
            7
        );
    }

    #[test]
    fn other_faults_are_generic() {
        for fault in [
            Fault::BadName,
            Fault::NoFile,
            Fault::NotExecutable,
            Fault::Failed,
        ] {
            assert_eq!(after_fault(OK, code(fault), None), GENERIC);
        }
        assert_eq!(after_fault(OK, 12345, None), GENERIC);
        // The last assignment wins: a later generic failure replaces 7.
        assert_eq!(
            after_fault(NOT_RUNNING, code(Fault::BadName), None),
            GENERIC
        );
    }

    #[test]
    fn missing_socket_is_not_running() {
        let error = ConnectError::NoSuchFile {
            path: PathBuf::from("/x.sock"),
        };
        assert_eq!(for_connect_error(&error), NOT_RUNNING);
    }

    #[test]
    fn refused_is_insufficient_privileges() {
        let error = ConnectError::Refused {
            path: PathBuf::from("/x.sock"),
        };
        assert_eq!(for_connect_error(&error), INSUFFICIENT_PRIVILEGES);
        let error = ConnectError::PermissionDenied {
            path: PathBuf::from("/x.sock"),
        };
        assert_eq!(for_connect_error(&error), INSUFFICIENT_PRIVILEGES);
    }

    #[test]
    fn other_connect_errors_are_generic() {
        let error = ConnectError::Other {
            path: PathBuf::from("/x"),
            message: "boom".into(),
        };
        assert_eq!(for_connect_error(&error), GENERIC);
    }

    #[test]
    fn status_reports_upcheck_failures_as_unknown() {
        assert_eq!(status_after_upcheck_failure(NOT_RUNNING), STATUS_UNKNOWN);
        assert_eq!(
            status_after_upcheck_failure(INSUFFICIENT_PRIVILEGES),
            STATUS_UNKNOWN
        );
        assert_eq!(status_after_upcheck_failure(OK), OK);
    }
}
