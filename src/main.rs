//! The `clientele` binary: parse the command line, start logging, hand over to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    fewer_arenas();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CLIENTELE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .init();
    let cli = clientele::config::Cli::parse();
    match clientele::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// glibc gives a thread that meets contention an arena of its own, up to eight per core,
/// and each keeps the memory freed in it for later. A request's database work moves
/// between the blocking threads, so over a long mixed load every arena grew to hold a
/// share of every kind of page: resident memory climbed for twenty minutes (91 → 136 MB
/// at a million customers). With two arenas it stays flat; see docs/reliability.md.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fewer_arenas() {
    /// How many arenas the allocator keeps, unless the operator sets `MALLOC_ARENA_MAX`.
    const ARENAS: i32 = 2;
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a tuning value; it is called before any thread starts.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fewer_arenas() {}
