//! Opening sockets. Only the engine and the raw pipe call into here; faces never do.

pub mod pipe;
pub mod tcp;
