//! socklab as a user runs it, against real peers on loopback. One binary of modules, one
//! module per area (ripgrep's layout).

mod support;

mod bad_input;
mod demo;
mod interactive;
mod listen;
mod netns;
mod seed;
mod send;
mod tls;
mod trace;
mod transfer;
mod udp;
mod unix;
mod views;
