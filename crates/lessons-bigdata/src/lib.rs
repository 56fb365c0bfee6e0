//! The big-data lessons (section 8). Each lesson runs a real engine on this machine — polars'
//! streaming engine, SQLite, redb, or a server it starts on 127.0.0.1 and stops before it ends —
//! and this package owns their `[[example]]` entries, so that lessons of other sections never
//! build these engines.

pub mod carrier_delays;
pub mod event_windows;
pub mod flights_pipeline;
pub mod object_server;
pub mod orchestrator;
pub mod param_server;
