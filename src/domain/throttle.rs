//! How many failed sign-ins are tolerated before a username or an address must wait.

use chrono::TimeDelta;

/// Failures counted within this window.
pub const WINDOW: TimeDelta = TimeDelta::minutes(15);
/// Failed attempts on one username within the window before it is throttled.
pub const MAX_PER_USERNAME: i64 = 5;
/// Failed attempts from one address within the window before it is throttled.
pub const MAX_PER_ADDRESS: i64 = 20;

/// The throttle subject for a username.
pub fn username_subject(username: &str) -> String {
    format!("user:{}", username.trim().to_lowercase())
}

/// The throttle subject for a client address.
pub fn address_subject(address: &str) -> String {
    format!("ip:{address}")
}

/// True when the recent failures say this sign-in must wait.
pub fn is_throttled(username_failures: i64, address_failures: i64) -> bool {
    username_failures >= MAX_PER_USERNAME || address_failures >= MAX_PER_ADDRESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_at_the_limits() {
        assert!(!is_throttled(MAX_PER_USERNAME - 1, 0));
        assert!(is_throttled(MAX_PER_USERNAME, 0));
        assert!(is_throttled(0, MAX_PER_ADDRESS));
        assert_eq!(username_subject(" Ana "), "user:ana");
    }
}
