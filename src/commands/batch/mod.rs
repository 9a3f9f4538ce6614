//! `nemo batch FILE`: many `generate`s from a file, resumably, a few at a
//! time (`../shared/spec/cli.md` "nemo batch").
//!
//! Every line is read and checked first (`jobs`); the folder's journal
//! (`journal`) says where each job stands, and `plan` decides: a file
//! already there is skipped, a recorded render is resumed, a prompt that
//! went out is watched for (never sent again), and only jobs that never
//! sent their prompt are started; a job whose prompt went out without a
//! known result is reported unless `--retry-unknown`. The balance must
//! cover the jobs that will send a prompt before any starts. Then
//! `run` runs them and `display` shows them.
//!
//! This file owns the command line, the plan and the result.

mod display;
mod jobs;

mod plan;
mod run;
mod summary;

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::render::RenderArgs;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::flow::job::From;
use crate::flow::job::funds::{CREDITS_PER_GENERATION, check_funds};
use crate::flow::journal::{self, Journal};
use crate::flow::render as export;
use display::Display;
use plan::{DryJob, DryRun, Plan, Retry, describe, kind_of_code, plan};
use run::{Outcome, Shared, Status};
use summary::{Summary, finish};

#[derive(Debug, clap::Args)]
#[command(after_help = "\
FILE holds one job a line: a prompt, or a JSON object {\"prompt\", \"output\"?, \"files\"?:[…],
\"name\"?}; blank lines and lines starting with # are skipped. Every line is checked before
anything is sent (exit 7 naming the line). Outputs go to DIR: `output` (a path inside DIR), else
<line>-<slug of the prompt>.<format>. `files` are uploaded first (paths from the current folder).

Each job works in a session of its own. The journal DIR/.nemo-batch.jsonl records each job's
session, render and state as it moves (a job is known by its content, not its line), so running
the same command again skips files that are there and match the record, downloads again from
the recorded render a file that is missing or not the job's, resumes recorded renders, renders a
paid reply's draft without prompting, and sends only prompts that never went out or that the
server refused before any work: a prompt is never paid for twice. A prompt that went out without
a known result is looked at first and reported; --retry-unknown sends it again, --retry-failed a
job that failed for a known reason after its prompt ran. After a refusal for lack of credits no new job
starts (exit 4). Before anything starts, the balance must cover about 100 credits per prompt to
send (else exit 4).

stdout: each saved path as it lands. --json: one document at the end,
{\"jobs\":[{\"line\",\"prompt\",\"status\",\"session_id\",\"render_id\",\"path\",\"error\"}],
\"done\",\"failed\",\"skipped\"}. Exit 0 when every job is done or skipped, else the exit code of
the first job that failed; Ctrl-C: 130, run the same command again to go on.

Examples:
  nemo batch prompts.txt -j 4 -o out/
  nemo batch jobs.jsonl -o renders --json | jq -r '.jobs[] | select(.status == \"failed\") | .line'
  grep -v '^$' ideas.txt | nemo batch - -o out/
  nemo batch prompts.txt -o out/ --dry-run",
    mut_arg("timeout", |arg| arg.help(format!(
        "Give up on a job after SECS (exit 8; a render goes on and is resumed next time) [default: {}]",
        crate::flow::job::DEFAULT_TIMEOUT_SECS
    )))
)]
pub struct Args {
    /// The jobs file (a job a line), or `-` for stdin
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Folder for the files and the journal (made if missing)
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub output: PathBuf,

    /// Jobs at once, 1 to 8
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u8).range(1..=8))]
    pub jobs: u8,

    /// Send again the prompts that went out without a known result
    #[arg(long)]
    pub retry_unknown: bool,

    /// Send again the jobs that failed for a known reason after their
    /// prompt ran (an agent error, no video made)
    #[arg(long)]
    pub retry_failed: bool,

    #[command(flatten)]
    pub render: RenderArgs,

    /// Check every line and print what would be done; send nothing
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(args: &Args, ctx: &Context) -> Result<()> {
    let label = args.file.display().to_string();
    let bytes = read_file(&args.file)?;
    let raw = jobs::parse(&bytes).map_err(|e| e.into_error(&label))?;
    if raw.is_empty() {
        ctx.printer.status("0 done, 0 failed, 0 skipped");
        return ctx.printer.report(&Summary {
            jobs: Vec::new(),
            done: 0,
            failed: 0,
            skipped: 0,
        });
    }
    let (format, quality) = (
        args.render.format.to_string(),
        args.render.quality.to_string(),
    );
    let dir = args.output.clone();
    if dir.exists() && !dir.is_dir() {
        return Err(Error::bad_input(
            format!("{} is not a folder", dir.display()),
            Some("give a folder with -o".into()),
        ));
    }
    let mut jobs = jobs::check(raw, &dir, &format, &label)?;

    let (journal, records) = if args.dry_run {
        let bytes = std::fs::read(dir.join(journal::JOURNAL_FILE)).unwrap_or_default();
        (None, journal::read(&bytes))
    } else {
        for folder in
            std::iter::once(dir.as_path()).chain(jobs.iter().filter_map(|j| j.output.parent()))
        {
            std::fs::create_dir_all(folder)
                .map_err(|e| Error::io(format!("cannot create {}", folder.display()), e))?;
        }
        // The journal's folder takes a real write before it is opened.
        export::probe_dir(&dir)?;
        let (journal, records) = Journal::open(&dir)?;
        (Some(journal), records)
    };
    // A job is known by its content; records written before keys existed
    // are found by their output and prompt. A job found keeps the output
    // it was given, wherever its line moved.
    let retry = Retry {
        unknown: args.retry_unknown,
        failed: args.retry_failed,
    };
    let mut found = Vec::with_capacity(jobs.len());
    for job in &mut jobs {
        let record = records.get(&job.key).cloned().or_else(|| {
            records
                .get(&job.output.display().to_string())
                .filter(|r| r.key.is_empty() && r.prompt == job.prompt)
                .cloned()
        });
        if let Some(record) = &record {
            job.output = PathBuf::from(&record.output);
        }
        found.push(record);
    }
    let plans: Vec<Plan> = jobs
        .iter()
        .zip(&found)
        .map(|(job, record)| plan(&job.output, record.as_ref(), retry))
        .collect();
    probe_folders(&dir, &jobs, &plans, args.dry_run)?;
    let to_send = plans
        .iter()
        .filter(|p| matches!(p, Plan::Run(From::Start | From::Session(_))))
        .count();
    let funds = if to_send > 0 {
        Some(check_funds(ctx, to_send, args.dry_run).await?)
    } else {
        None
    };
    if args.dry_run {
        return ctx.printer.report(&DryRun {
            jobs: jobs
                .iter()
                .zip(&plans)
                .map(|(job, plan)| DryJob {
                    line: job.line,
                    path: job.output.display().to_string(),
                    action: describe(plan),
                })
                .collect(),
            estimated_credits: CREDITS_PER_GENERATION * to_send as i64,
            available: funds.and_then(|f| f.available()),
        });
    }
    let Some(journal) = journal else {
        return Ok(());
    };
    // A batch spends credits too: a `generate` overlapping it reports no
    // balance difference as its own.
    let _running = crate::flow::job::local::Running::start(&ctx.settings.config_dir);

    // Each job makes its own session: --session does not apply here.
    let mut settings = ctx.settings.clone();
    settings.session = None;
    let bctx = Context::new(settings, ctx.printer.clone(), ctx.api.clone());
    let display = Display::new(&ctx.printer);
    let mut outcomes = Vec::new();
    let mut todo = Vec::new();
    for (index, (job, plan)) in jobs.iter().zip(plans).enumerate() {
        match plan {
            Plan::Skip => {
                display.note(
                    job.line,
                    &format!("skipped ({} is there)", job.output.display()),
                );
                outcomes.push(Outcome {
                    line: job.line,
                    status: Status::Skipped,
                    session_id: None,
                    render_id: None,
                    project_url: None,
                    error: None,
                    reported: false,
                });
            }
            Plan::Report(status, record) => {
                let text = record
                    .error
                    .clone()
                    .unwrap_or_else(|| "the prompt went out earlier and no video showed up".into());
                display.note(
                    job.line,
                    &format!("{}: {text} (not sent again)", status.name()),
                );
                outcomes.push(Outcome {
                    line: job.line,
                    status,
                    session_id: record.session_id.clone(),
                    render_id: record.render_id.clone(),
                    project_url: None,
                    error: Some((kind_of_code(record.exit_code, status), text, None)),
                    reported: true,
                });
            }
            Plan::Run(from) => todo.push((index, from, found[index].clone())),
        }
    }
    // Jobs whose result is unknown are looked at first: their video may
    // be there already, and they hold no slot for long after.
    todo.sort_by_key(|(_, from, _)| !matches!(from, From::Sent { .. }));
    let shared = Shared {
        format: &format,
        quality: &quality,
        poll_interval: args.render.wait.poll_interval,
        timeout: Duration::from_secs_f64(
            args.render
                .wait
                .timeout
                .unwrap_or(crate::flow::job::DEFAULT_TIMEOUT_SECS),
        ),
        jobs_at_once: usize::from(args.jobs),
    };
    let (ran, interrupted) = run::run_all(&bctx, &jobs, todo, &journal, &display, &shared).await;
    let no_credits = ran.iter().any(|o| o.status == Status::Pending);
    display.clear();
    outcomes.extend(ran);
    if interrupted {
        return Err(Error::interrupted().with_hint(
            "what started is on record: run the same command again to go on (no prompt is sent twice)",
        ));
    }
    if no_credits {
        ctx.printer
            .warn("no credits left (2001): the jobs not started wait for the next run");
    }
    finish(ctx, &jobs, outcomes)
}

/// The folders the jobs to run write to take a real write (exit 7 naming
/// the first that does not), before anything is sent: found after a
/// prompt, a paid video would have nowhere to go. A dry run makes no
/// folder, so it checks those that exist, `dir` among them; a real run
/// checked `dir` before opening its journal there.
fn probe_folders(dir: &Path, jobs: &[jobs::Job], plans: &[Plan], dry_run: bool) -> Result<()> {
    let mut folders = BTreeSet::new();
    if dry_run {
        folders.insert(dir);
    }
    for (job, plan) in jobs.iter().zip(plans) {
        if let (Plan::Run(_), Some(folder)) = (plan, job.output.parent()) {
            folders.insert(folder);
        }
    }
    folders.remove(Path::new(""));
    for folder in folders {
        let probed_already = !dry_run && folder == dir;
        let made_by_a_real_run = dry_run && !folder.is_dir();
        if !probed_already && !made_by_a_real_run {
            export::probe_dir(folder)?;
        }
    }
    Ok(())
}

/// Reads the jobs file or stdin, up to the cap.
fn read_file(file: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let limit = jobs::MAX_FILE_BYTES + 1;
    let read = if file.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_end(&mut bytes)
    } else {
        let handle = std::fs::File::open(file).map_err(|e| {
            Error::bad_input(
                format!(
                    "cannot read {}: {}",
                    file.display(),
                    crate::error::io_reason(&e)
                ),
                None,
            )
        })?;
        handle.take(limit).read_to_end(&mut bytes)
    };
    // A folder opens, then fails to read: bad input, like a missing file.
    read.map_err(|e| {
        Error::bad_input(
            format!(
                "cannot read {}: {}",
                file.display(),
                crate::error::io_reason(&e)
            ),
            None,
        )
    })?;
    if bytes.len() as u64 > jobs::MAX_FILE_BYTES {
        return Err(Error::bad_input(
            format!(
                "{} is over {} MiB",
                file.display(),
                jobs::MAX_FILE_BYTES >> 20
            ),
            Some("split it into several batches".into()),
        ));
    }
    Ok(bytes)
}
