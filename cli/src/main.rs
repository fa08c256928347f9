//! `ringlog`: the command-line tool.
//!
//! `ringlog recover` writes out the records that dead processes left in
//! their ring files, the same way a starting runtime does, for a process
//! that will not be restarted. It never touches an instance whose process
//! is alive (its lock is held), and deletes each recovered instance only
//! after its records were written (unless `--keep`).

use clap::{Parser, Subcommand, ValueEnum};
use ringlog::encode::console::{ConsoleEncoder, ConsoleOptions};
use ringlog::encode::json::{JsonEncoder, JsonOptions};
use ringlog::encode::logfmt::{LogfmtEncoder, LogfmtOptions};
use ringlog::encode::Encoder;
use ringlog::recover::{recover_to, Options, Report};
use ringlog::sink::file::FileSink;
use ringlog::sink::Sink;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "ringlog", version, about = "ringlog's command-line tool")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Write out the records that dead processes left in their rings.
    Recover {
        /// Ring directory to scan (default: the one ringlog uses by
        /// default, e.g. /dev/shm/ringlog-<uid>).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Where to write: a file (appended to, created 0640) or `-` for
        /// standard output.
        #[arg(long, default_value = "-")]
        out: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Keep the instance directories after writing their records
        /// (they will be recovered again next time).
        #[arg(long)]
        keep: bool,
        /// Print nothing on standard error unless something failed.
        #[arg(long, short)]
        quiet: bool,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    Json,
    Logfmt,
    Console,
}

/// A file sink as an `io::Write` (the sink gives `O_NOFOLLOW`, mode 0640
/// and a fresh line after a cut one).
struct FileOut(FileSink);

impl Write for FileOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_batch(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.sync()
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Recover {
            dir,
            out,
            format,
            keep,
            quiet,
        } => recover(dir, &out, format, keep, quiet),
    }
}

fn recover(dir: Option<PathBuf>, out: &str, format: Format, keep: bool, quiet: bool) -> ExitCode {
    let ring_dir = dir.unwrap_or_else(ringlog::default_ring_dir);
    let (mut w, tty): (Box<dyn Write>, bool) = if out == "-" {
        let tty = io::stdout().is_terminal();
        (Box::new(io::BufWriter::new(io::stdout().lock())), tty)
    } else {
        match FileSink::open(std::path::Path::new(out)) {
            Ok(f) => (Box::new(FileOut(f)), false),
            Err(e) => {
                eprintln!("ringlog recover: cannot open {out}: {e}");
                return ExitCode::from(1);
            }
        }
    };
    let mut enc: Box<dyn Encoder> = match format {
        Format::Json => Box::new(JsonEncoder::new(JsonOptions::default())),
        Format::Logfmt => Box::new(LogfmtEncoder::new(LogfmtOptions::default())),
        Format::Console => match ConsoleEncoder::new(ConsoleOptions::default(), tty) {
            Ok(e) => Box::new(e),
            Err(e) => {
                eprintln!("ringlog recover: {e}");
                return ExitCode::from(1);
            }
        },
    };
    let opts = Options {
        ring_dir: ring_dir.clone(),
        keep,
        skip: None,
    };
    match recover_to(&opts, enc.as_mut(), &mut w) {
        Ok(rep) => {
            if !quiet {
                summary(&ring_dir, &rep);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "ringlog recover: writing failed: {e}; instances not fully written were kept"
            );
            ExitCode::from(1)
        }
    }
}

fn summary(dir: &std::path::Path, r: &Report) {
    for p in &r.problems {
        eprintln!("ringlog recover: {p}");
    }
    eprintln!(
        "ringlog recover: {}: {} record(s) and {} drop report(s) from {} dead instance(s); \
         {} live instance(s) left alone; {} damaged frame run(s) and {} bad file(s) skipped",
        dir.display(),
        r.records,
        r.drop_reports,
        r.instances,
        r.live,
        r.bad_frames,
        r.bad_files
    );
}
