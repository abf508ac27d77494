//! `socklab subnet`.
