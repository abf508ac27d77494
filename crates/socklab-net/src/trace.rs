//! `socklab trace`.
