//! socklab as a user runs it, against real peers on loopback. One binary of modules, one
//! module per area (ripgrep's layout).

mod support;

mod access;
mod bad_input;
mod broker;
mod checksum;
mod convert;
mod demo;
mod dns;
mod frame;
mod ifaces;
mod interactive;
mod listen;
mod netns;
mod ping;
mod ports;
mod reconnect;
mod relay;
mod replies;
mod scan;
mod script;
mod seed;
mod send;
mod subnet;
mod tls;
mod trace;
mod transfer;
mod tui;
mod udp;
mod unix;
mod views;
mod web;
