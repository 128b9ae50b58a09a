//! Plain Rust: the product's value types and rules, parsed from user text into types that
//! cannot hold a bad value. No web framework and no database here.

pub mod card;
pub mod channel;
pub mod condition;
pub mod customer;
pub mod decimal;
pub mod engagement;
pub mod insights;
pub mod lifecycle;
pub mod password;
pub mod period;
pub mod property;
pub mod role;
pub mod scope;
pub mod search;
pub mod throttle;
pub mod user;
pub mod webhook;

pub use role::Role;

/// A refused input: which field, and a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The form field or JSON property that is wrong.
    pub field: String,
    /// What is wrong with it, naming the rule.
    pub message: String,
}

impl FieldError {
    /// A message for one field.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Collects field errors while a form is parsed, so every wrong field is reported at once.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Records the error of `result` (if any) and passes the value on.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.push(field, message);
                None
            }
        }
    }

    /// Adds one message.
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// The message for a field, for templates.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// True when nothing was refused.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
