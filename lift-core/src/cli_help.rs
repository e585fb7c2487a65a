//! A check for every command line of the project: each subcommand and each flag says what it is.

/// The subcommands and arguments of `cmd` (walked recursively) whose help is missing or blank, as
/// `lift-analyze heatmap --out`.
pub fn undocumented(cmd: &clap::Command) -> Vec<String> {
    let mut missing = Vec::new();
    walk(cmd, cmd.get_name(), &mut missing);
    missing
}

/// Panics naming every subcommand and argument of `cmd` without help: the body of each binary's
/// help test.
pub fn assert_documented(cmd: &clap::Command) {
    let missing = undocumented(cmd);
    assert!(missing.is_empty(), "no help on: {}", missing.join(", "));
}

fn blank(help: Option<&clap::builder::StyledStr>) -> bool {
    help.is_none_or(|h| h.to_string().trim().is_empty())
}

fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
    for arg in cmd.get_arguments().filter(|a| !["help", "version"].contains(&a.get_id().as_str())) {
        if blank(arg.get_help()) && blank(arg.get_long_help()) {
            let name = arg.get_long().map_or_else(|| arg.get_id().to_string(), |l| format!("--{l}"));
            missing.push(format!("{path} {name}"));
        }
    }
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let sub_path = format!("{path} {}", sub.get_name());
        if blank(sub.get_about()) && blank(sub.get_long_about()) {
            missing.push(sub_path.clone());
        }
        walk(sub, &sub_path, missing);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, Command};

    #[test]
    fn names_every_blank_flag_and_subcommand() {
        let cmd = Command::new("tool")
            .arg(Arg::new("out").long("out").help("Where to write."))
            .arg(Arg::new("batch").long("batch"))
            .subcommand(Command::new("go").about("Goes.").arg(Arg::new("seed").long("seed").help("  ")))
            .subcommand(Command::new("stop"));
        assert_eq!(undocumented(&cmd), ["tool --batch", "tool go --seed", "tool stop"]);
    }
}
