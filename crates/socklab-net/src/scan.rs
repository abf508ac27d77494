//! `socklab scan`.
