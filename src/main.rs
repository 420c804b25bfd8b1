//! The `vodkit` binary: hands the command line to the library.

fn main() -> std::process::ExitCode {
    vodkit::cli::run()
}
