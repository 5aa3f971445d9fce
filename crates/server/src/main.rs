//! The `closeloop` binary.

fn main() -> std::process::ExitCode {
    closeloop::cli::main()
}
