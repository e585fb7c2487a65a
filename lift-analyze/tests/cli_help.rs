//! Every `lift-analyze` subcommand and flag says what it is.

use clap::CommandFactory;

#[test]
fn every_flag_has_help() {
    let missing = lift_core::cli_help::undocumented(&lift_analyze::cli::Cli::command());
    assert!(missing.is_empty(), "no help on: {}", missing.join(", "));
}
