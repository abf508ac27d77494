//! `socklab ping`.
