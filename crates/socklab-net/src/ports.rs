//! `socklab ports`.
