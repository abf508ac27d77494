//! `socklab ifaces`.
