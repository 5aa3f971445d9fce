//! Standard output for commands whose output is often piped (`closeloop explain C-1 | head`).
//! A reader that has gone away is not an error: the command has nothing more to tell it, so
//! it ends as a Unix filter does, quietly, instead of panicking in `println!`.

use std::io::{self, Write};

/// Writes `text` to stdout; a closed pipe is success.
///
/// # Errors
/// Any other write error (a full disk behind a redirection).
pub(crate) fn print(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
