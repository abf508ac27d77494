//! `socklab dns`.
