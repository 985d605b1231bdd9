//! `portal reorganise PLAN [--dry-run]`: merge, split and rename provinces, rename, merge and
//! move units, by a plan file (#18).

use std::path::Path;

use super::{Failure, Outcome};
use crate::app::reorg::ReorgError;
use crate::config::Settings;

/// Refused plans exit 2 with every problem, one per line; nothing is written.
fn refused(problems: &[crate::reorg::Problem]) -> Failure {
    let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
    Failure::new(
        2,
        format!(
            "invalid plan ({} problem(s)), nothing written:\n{}",
            problems.len(),
            lines.join("\n")
        ),
    )
}

pub fn run(settings: &Settings, path: &Path, dry_run: bool) -> Outcome {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new(2, format!("cannot read {}: {e}", path.display())))?;
    let (plan, mut problems) = crate::reorg::plan::parse_partly(&text).map_err(|p| refused(&p))?;
    let app = crate::app::App::for_cli(settings)?;
    if !problems.is_empty() {
        problems.extend(crate::app::reorg::check(&app, &plan)?);
        return Err(refused(&problems));
    }
    let started = std::time::Instant::now();
    let report =
        match crate::app::reorg::reorganise(&app, &crate::app::Actor::cli(), &plan, &text, dry_run)
        {
            Ok(r) => r,
            Err(ReorgError::Refused(p)) => return Err(refused(&p)),
            Err(ReorgError::Failed(e)) => return Err(e.into()),
        };
    println!("effective {}", plan.effective);
    for step in &report.steps {
        println!("{}:", step.label);
        for line in &step.lines {
            println!("  {line}");
        }
    }
    if report.applied {
        println!(
            "applied {} step(s) in {:.0} ms",
            report.steps.len(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    } else {
        println!("dry run: nothing written");
    }
    Ok(())
}
