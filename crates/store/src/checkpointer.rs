//! SQLite's write-ahead log, copied into the database beside the writer rather than by it.
//!
//! SQLite's own automatic checkpoint runs inside the commit that fills the log: that commit,
//! and every request waiting on it, waits for thousands of pages to be copied and the
//! database synced (at 1,000 updates/s it made half of the PUT p99). Here a thread of its
//! own copies the log with a passive checkpoint a few times a second, on its own
//! connection, while the writer goes on writing. A passive checkpoint never empties a log
//! that is written all the time, so once the log holds its limit the thread also takes the
//! writer for a moment and restarts it: by then only the frames of the last moment are
//! left to copy.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::lite::{self, Writer};

/// How often the log is copied: often enough that each copy is small, and seldom enough
/// that a page written again and again is copied once per interval, not per write.
const INTERVAL: Duration = Duration::from_millis(250);

/// How long the restart waits for readers still reading from the log (it holds the writer
/// meanwhile); one that does not finish in time leaves the restart to the next interval.
const READERS_WAIT: Duration = Duration::from_millis(200);

/// The checkpointing thread, stopped when this is dropped or [`Checkpointer::stop`]ped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    stop: mpsc::Sender<()>,
}

impl Checkpointer {
    /// Starts copying the log of the database at `path`, restarting it once it holds
    /// `limit_pages` pages.
    pub(crate) fn start(
        path: &Path,
        writer: Writer,
        limit_pages: u32,
    ) -> std::result::Result<Checkpointer, sqlx::Error> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|conn| {
            conn.busy_timeout(READERS_WAIT)?;
            Ok(conn)
        })
        .map_err(lite::database_error)?;
        let (stop, stopped) = mpsc::channel();
        std::thread::Builder::new()
            .name("closeloop-checkpoint".into())
            .spawn(move || run(&conn, &writer, i64::from(limit_pages), &stopped))
            .map_err(sqlx::Error::Io)?;
        Ok(Checkpointer { stop })
    }

    /// Stops the thread after the copy it is in, if any.
    pub(crate) fn stop(&self) {
        let _ = self.stop.send(());
    }
}

fn run(conn: &Connection, writer: &Writer, limit_pages: i64, stopped: &mpsc::Receiver<()>) {
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
        let log_pages = match checkpoint(conn, "PASSIVE") {
            Ok(pages) => pages,
            Err(e) => {
                tracing::warn!(error = %e, "copying SQLite's write-ahead log failed; retrying");
                continue;
            }
        };
        if log_pages >= limit_pages {
            let _held = writer.take_blocking();
            if let Err(e) = checkpoint(conn, "RESTART") {
                tracing::warn!(error = %e, "restarting SQLite's write-ahead log failed; retrying");
            }
        }
    }
}

/// Runs a checkpoint and answers how many pages the log held.
fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<i64> {
    // The pragma answers (busy, pages in the log, pages copied); busy only means that a
    // reader kept part of the log, which the next run copies.
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
        row.get(1)
    })
}
