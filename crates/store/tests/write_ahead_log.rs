//! SQLite's write-ahead log is copied into the database beside the writer, and restarted
//! once it holds its limit: written to without pause, it stays bounded instead of holding
//! every page ever written, and `compact` still empties it.

mod common;

use closeloop_store::{Store, WalCheckpoint};
use closeloop_testdb::TestDatabase;

const TRANSACTIONS: usize = 6_000;
const PAGE: u64 = 4_096;

fn wal_bytes(db: &std::path::Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(&wal).map_or(0, |m| m.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_written_without_pause_stays_bounded_and_compact_empties_it() {
    let db = TestDatabase::fresh_sqlite();
    let path = std::path::PathBuf::from(db.url().trim_start_matches("sqlite://"));
    let store = Store::open_with(db.url(), WalCheckpoint::pages_of(100))
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    let mut largest = 0;
    for n in 0..TRANSACTIONS {
        let mut tx = store.begin().await.expect("begin");
        tx.insert_event(&common::case_updated(
            format!("evt-{n}"),
            &format!("C-{}", n % 500),
            "status".into(),
        ))
        .await
        .expect("insert event");
        tx.commit().await.expect("commit");
        largest = largest.max(wal_bytes(&path));
        if n % 3 == 0 {
            // About a service's pace under load, which the checkpointer keeps up with.
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
    // Each commit writes several pages to the log (the table's and its indexes' leaves):
    // never restarted, the log holds them all, well over 100 MB here. Restarted at 100
    // pages, it holds those and what a quarter second of commits adds.
    let one_page_a_commit = TRANSACTIONS as u64 * PAGE;
    assert!(
        largest < one_page_a_commit,
        "the log reached {largest} bytes over {TRANSACTIONS} commits, more than one page a commit"
    );
    store.compact().await.expect("compact");
    assert_eq!(wal_bytes(&path), 0, "compact leaves an empty log");
}
