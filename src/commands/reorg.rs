//! `portal reorganise PLAN [--dry-run [--on-export FILES_OR_DIRS]]`: merge, split and rename
//! provinces, rename, merge and move units, by a plan file (#18).

use std::path::{Path, PathBuf};

use super::{Failure, Outcome};
use crate::app::reorg::{ReorgError, StepReport};
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

pub fn run(settings: &Settings, path: &Path, dry_run: bool, on_export: &[PathBuf]) -> Outcome {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::new(2, format!("cannot read {}: {e}", path.display())))?;
    let (plan, mut problems) = crate::reorg::plan::parse_partly(&text).map_err(|p| refused(&p))?;
    if !on_export.is_empty() {
        return preview_on_exports(settings, &plan, &text, problems, on_export);
    }
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
    print_steps(&report.steps);
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

fn print_steps(steps: &[StepReport]) {
    for step in steps {
        println!("{}:", step.label);
        for line in &step.lines {
            println!("  {line}");
        }
    }
}

/// `--dry-run --on-export FILES_OR_DIRS`: the plan on a scratch copy of the provinces'
/// exports (`app::reorg_preview`); exit 1 when a check after applying it there fails.
fn preview_on_exports(
    settings: &Settings,
    plan: &crate::reorg::Plan,
    text: &str,
    problems: Vec<crate::reorg::Problem>,
    paths: &[PathBuf],
) -> Outcome {
    use crate::app::reorg_preview;
    let key = super::tenant::signing_key(settings)?;
    let (files, skipped) = reorg_preview::exports_for(plan, paths)?;
    for f in &skipped {
        println!(
            "skipped {} ({}): the plan does not name {}",
            f.path.display(),
            f.slug,
            f.slug
        );
    }
    let started = std::time::Instant::now();
    let preview = match reorg_preview::on_exports(settings, plan, text, problems, &files, &key) {
        Ok(p) => p,
        Err(ReorgError::Refused(p)) => return Err(refused(&p)),
        Err(ReorgError::Failed(e)) => return Err(e.into()),
    };
    println!("effective {}", plan.effective);
    let loaded: Vec<String> = preview
        .loaded
        .iter()
        .map(|(slug, rows)| format!("{slug} ({rows} rows)"))
        .collect();
    println!(
        "on exports: {} loaded into the scratch database {}",
        loaded.join(", "),
        preview.scratch
    );
    print_steps(&preview.report.steps);
    // What applying did beyond what the preview said it would.
    println!("applied to the exports' copy:");
    for (done, said) in preview.applied.steps.iter().zip(&preview.report.steps) {
        let extra: Vec<&String> = done
            .lines
            .iter()
            .filter(|l| !said.lines.contains(l))
            .collect();
        if !extra.is_empty() {
            println!("  {}:", done.label);
            for line in extra {
                println!("    {line}");
            }
        }
    }
    println!("checks after applying:");
    for c in &preview.checks {
        println!("  {}: {}", if c.ok { "ok" } else { "FAILED" }, c.line);
    }
    println!(
        "dry run on exports in {:.0} ms: nothing written to the live database; the scratch database {} is dropped",
        started.elapsed().as_secs_f64() * 1000.0,
        preview.scratch
    );
    if preview.checks.iter().all(|c| c.ok) {
        Ok(())
    } else {
        Err(Failure::new(
            1,
            "a check after applying the plan to the exports failed",
        ))
    }
}
