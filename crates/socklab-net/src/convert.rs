//! `socklab convert`.
