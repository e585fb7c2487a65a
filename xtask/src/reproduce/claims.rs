//! "What this run shows": both write-ups' claims checked against this run, at every snapshot
//! and overall, each verdict computed from the numbers (Welch's t-test, p < 0.05) with the line of
//! evidence it rests on. Generated from the results, never written by hand.

use std::fmt::Write as _;

use lift_analyze::compare::{compare, Summary, Verdict};
use lift_core::Snapshot;

use super::view::name;

/// A claim's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The run reproduces the claim (significantly where a test applies).
    Yes,
    /// The run shows the opposite (significantly where a test applies).
    No,
    /// The difference is not significant, or the snapshots disagree.
    Undecided,
    /// This run has nothing to test it with.
    Untestable,
}

impl Outcome {
    /// The table cell.
    pub fn mark(self) -> &'static str {
        match self {
            Self::Yes => "yes",
            Self::No => "no",
            Self::Undecided => "n.s.",
            Self::Untestable => "–",
        }
    }

    /// The verdict's words.
    pub fn words(self) -> &'static str {
        match self {
            Self::Yes => "reproduced",
            Self::No => "contradicted",
            Self::Undecided => "not decided",
            Self::Untestable => "not testable here",
        }
    }

    /// The outcome of "a is lower than b" by Welch's test.
    pub fn lower(a: &Summary, b: &Summary) -> Self {
        match compare(a, b).0 {
            Verdict::Lower => Self::Yes,
            Verdict::Higher => Self::No,
            Verdict::Within => Self::Undecided,
            Verdict::NoSpread => Self::Untestable,
        }
    }
}

/// An outcome with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub outcome: Outcome,
    pub evidence: String,
}

impl Check {
    pub fn new(outcome: Outcome, evidence: impl Into<String>) -> Self {
        Self { outcome, evidence: evidence.into() }
    }

    /// Nothing to test with, and why.
    pub fn untestable(why: impl Into<String>) -> Self {
        Self::new(Outcome::Untestable, why)
    }
}

/// Which write-up a claim comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `LIFT-seed.md`: one checkpoint of 30 epochs.
    Seed,
    /// The original's later write-up, over training epochs.
    Later,
}

/// One claim, checked.
pub struct Claim {
    pub source: Source,
    pub label: &'static str,
    pub text: &'static str,
    /// The check at each snapshot (empty for claims about the whole run).
    pub per_snapshot: Vec<(Snapshot, Check)>,
    pub overall: Check,
}

/// Yes when every check says yes, No when every one says no, Undecided otherwise.
pub fn all_of(checks: &[&Check]) -> Outcome {
    let tested: Vec<Outcome> = checks.iter().map(|c| c.outcome).filter(|o| *o != Outcome::Untestable).collect();
    match tested.first() {
        None => Outcome::Untestable,
        Some(&first) if tested.iter().all(|o| *o == first) => first,
        Some(_) => Outcome::Undecided,
    }
}

/// "reproduced at 3 of 4 snapshots, contradicted at 1".
pub fn tally(per_snapshot: &[(Snapshot, Check)]) -> String {
    let count = |o: Outcome| per_snapshot.iter().filter(|(_, c)| c.outcome == o).count();
    let n = per_snapshot.iter().filter(|(_, c)| c.outcome != Outcome::Untestable).count();
    format!(
        "reproduced at {} of {n} tested snapshots, contradicted at {}, not significant at {}",
        count(Outcome::Yes),
        count(Outcome::No),
        count(Outcome::Undecided)
    )
}

/// The section: a claim × snapshot table, a paragraph per claim, and which write-up the run supports.
pub fn section(s: &mut String, claims: &[Claim], snapshots: &[Snapshot]) {
    let _ = writeln!(s, "## What this run shows\n");
    let _ = writeln!(
        s,
        "Both write-ups' claims against this run. A difference counts when Welch's t-test over the seeds (Welch–Satterthwaite \
         degrees of freedom) gives p < 0.05; \"n.s.\" = not significant, \"–\" = nothing to test with. FID under the reference protocol.\n"
    );
    let header: Vec<String> = snapshots.iter().map(|&sn| name(sn)).collect();
    let _ = writeln!(s, "| Claim | {} |\n|---|{}", header.join(" | "), "---|".repeat(snapshots.len()));
    for c in claims.iter().filter(|c| !c.per_snapshot.is_empty()) {
        let cells: Vec<&str> = snapshots.iter().map(|sn| c.per_snapshot.iter().find(|(x, _)| x == sn).map_or("–", |(_, check)| check.outcome.mark())).collect();
        let _ = writeln!(s, "| {} {} | {} |", c.label, c.text, cells.join(" | "));
    }
    let _ = writeln!(s);
    for (source, title) in
        [(Source::Seed, "The seed write-up's claims (one checkpoint of 30 epochs)"), (Source::Later, "The later write-up's claims (over training)")]
    {
        let _ = writeln!(s, "### {title}\n");
        for c in claims.iter().filter(|c| c.source == source) {
            let _ = writeln!(s, "- **{} {}** — {}. {}", c.label, c.text, c.overall.outcome.words(), c.overall.evidence);
            if !c.per_snapshot.is_empty() {
                let _ = writeln!(s, "  - Over the snapshots: {}.", tally(&c.per_snapshot));
            }
        }
        let _ = writeln!(s);
    }
    let count = |source: Source, o: Outcome| claims.iter().filter(|c| c.source == source && c.overall.outcome == o).count();
    let _ = writeln!(
        s,
        "**Which write-up this run supports**: the seed's claims {} reproduced, {} contradicted; the later write-up's {} reproduced, {} contradicted \
         (the rest not decided or not testable here).\n",
        count(Source::Seed, Outcome::Yes),
        count(Source::Seed, Outcome::No),
        count(Source::Later, Outcome::Yes),
        count(Source::Later, Outcome::No)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates() {
        let c = |o| Check::new(o, "");
        assert_eq!(all_of(&[&c(Outcome::Yes), &c(Outcome::Yes), &c(Outcome::Untestable)]), Outcome::Yes);
        assert_eq!(all_of(&[&c(Outcome::Yes), &c(Outcome::No)]), Outcome::Undecided);
        assert_eq!(all_of(&[&c(Outcome::Untestable)]), Outcome::Untestable);
        let (a, b) = (Summary::of(&[1.0, 2.0, 3.0]), Summary::of(&[10.0, 11.0, 12.0]));
        assert_eq!((Outcome::lower(&a, &b), Outcome::lower(&b, &a)), (Outcome::Yes, Outcome::No));
    }
}
