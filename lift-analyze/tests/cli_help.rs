//! Every `lift-analyze` subcommand and flag says what it is.

use clap::CommandFactory;

#[test]
fn every_flag_has_help() {
    lift_core::cli_help::assert_documented(&lift_analyze::cli::Cli::command());
}
