//! The one error every parser in this crate returns: what was being parsed and why it failed;
//! and the one way every crate writes an error chain on a line.

use std::fmt;

/// A value that does not parse as the domain type it claims to be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {input:?}: {reason}")]
pub struct ParseError {
    what: &'static str,
    input: String,
    reason: String,
}

impl ParseError {
    pub(crate) fn new(what: &'static str, input: &str, reason: impl fmt::Display) -> Self {
        // Inputs come from registries: keep the message readable if they are huge.
        let input: String = input.chars().take(200).collect();
        Self { what, input, reason: reason.to_string() }
    }

    /// Which domain type failed to parse (`"digest"`, `"category"`, ...).
    pub fn what(&self) -> &'static str {
        self.what
    }
}

/// An error and its causes on one line, each said once (a wrapper that repeats its cause's
/// text adds nothing): how every crate records an error in a row or a report.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}
