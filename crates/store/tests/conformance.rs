//! The store's contract, checked on every backend: SQLite always, and PostgreSQL when
//! `CLOSELOOP_TEST_POSTGRES` names a server (otherwise its half says it was skipped).
//! Work is claimed with leases that two claimers never share, a case's events are
//! handed out one at a time in order, a dead claimer's work comes back after its lease,
//! a stale lease settles nothing, and pacing holds across store handles. Console sessions
//! expire, and cases are found by id, number or phone.

mod common;

use std::collections::HashSet;
use std::future::Future;

use closeloop_domain::case::Case;
use closeloop_domain::condition::EventKind;
use closeloop_domain::config::MessageKind;
use closeloop_store::{ConsoleSession, NewMessage, QueueRules, SendResult, Store};
use closeloop_testdb::{postgres_server, TestDatabase, HOW_TO_RUN_ON_POSTGRES};
use serde_json::json;

const LEASE_MS: i64 = 30_000;

/// Runs `check` on a fresh SQLite database, then on a fresh PostgreSQL one when the run
/// names a server. `check` gets the database URL, so it can open several handles.
async fn on_each_backend<F, Fut>(name: &str, check: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let sqlite = TestDatabase::fresh_sqlite();
    check(sqlite.url().to_owned()).await;
    match postgres_server() {
        Some(server) => {
            let postgres = TestDatabase::fresh_postgres(&server).await;
            check(postgres.url().to_owned()).await;
            postgres.remove().await;
        }
        None => println!("{name}: PostgreSQL half skipped: {HOW_TO_RUN_ON_POSTGRES}"),
    }
}

async fn open(url: &str) -> Store {
    let store = Store::open(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    store
}

/// `per_case` events for each of `cases` cases, interleaved across cases.
async fn seed_events(store: &Store, cases: usize, per_case: usize) {
    let mut tx = store.begin().await.expect("begin");
    for n in 0..per_case {
        for c in 0..cases {
            tx.insert_event(&common::case_updated(
                format!("evt-{c}-{n}"),
                &format!("C-{c}"),
                format!("n{n}"),
            ))
            .await
            .expect("insert event");
        }
    }
    tx.commit().await.expect("commit");
}

async fn seed_messages(store: &Store, count: usize) {
    let mut tx = store.begin().await.expect("begin");
    for n in 0..count {
        tx.insert_message(&NewMessage {
            id: format!("msg-{n:04}"),
            invite_id: format!("inv-{n}"),
            kind: MessageKind::Invitation,
            account: "wa".into(),
            recipient: format!("+3460000{n:04}"),
            payload: json!({}),
            text: "hi".into(),
            now: 1_000,
        })
        .await
        .expect("insert message");
    }
    tx.commit().await.expect("commit");
}

/// Claims events until none is left, finishing each; returns the event ids in the order
/// this claimer finished them.
async fn drain_events(store: Store, owner: &'static str) -> Vec<(String, String)> {
    let mut done = Vec::new();
    loop {
        let now = 2_000;
        let events = store
            .claim_events(owner, 5, now + LEASE_MS, now)
            .await
            .expect("claim");
        if events.is_empty() {
            return done;
        }
        let cases: HashSet<&str> = events.iter().map(|e| e.case_id.as_str()).collect();
        assert_eq!(
            cases.len(),
            events.len(),
            "two events of one case in a batch"
        );
        for event in &events {
            // Per-case order: every earlier event of the case was finished (by either
            // claimer) before this one could be claimed.
            let history = store.case_events(&event.case_id).await.expect("history");
            let earlier = history.iter().take_while(|e| e.id != event.id);
            for before in earlier {
                assert!(
                    before.trace.is_some(),
                    "{owner} claimed {} while {} was not done",
                    event.id,
                    before.id
                );
            }
        }
        let mut tx = store.begin().await.expect("begin");
        for event in &events {
            assert!(
                tx.finish_event(event.seq, owner, &json!({}), now)
                    .await
                    .expect("finish"),
                "{owner} lost the lease of {}",
                event.id
            );
            done.push((event.case_id.clone(), event.id.clone()));
        }
        tx.commit().await.expect("commit");
    }
}

#[tokio::test]
async fn two_concurrent_claimers_never_get_the_same_event_and_keep_each_case_in_order() {
    on_each_backend("events", |url| async move {
        let seeding = open(&url).await;
        seed_events(&seeding, 20, 5).await;
        let (a, b) = (open(&url).await, open(&url).await);
        let (mut done_a, done_b) = tokio::join!(drain_events(a, "a"), drain_events(b, "b"));
        assert!(
            !done_a.is_empty() && !done_b.is_empty(),
            "both claimers worked"
        );
        let total = done_a.len() + done_b.len();
        done_a.extend(done_b);
        let unique: HashSet<&String> = done_a.iter().map(|(_, id)| id).collect();
        assert_eq!(total, 100, "every event once");
        assert_eq!(unique.len(), 100, "no event twice");
        seeding.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_case_second_event_waits_until_its_first_is_done_even_for_another_claimer() {
    on_each_backend("per-case order", |url| async move {
        let store = open(&url).await;
        seed_events(&store, 1, 2).await;
        let other = open(&url).await;
        let first = store
            .claim_events("a", 10, 2_000 + LEASE_MS, 2_000)
            .await
            .expect("claim");
        assert_eq!(first.len(), 1, "only the head of the case is claimable");
        assert_eq!(first[0].id, "evt-0-0");
        let meanwhile = other
            .claim_events("b", 10, 2_000 + LEASE_MS, 2_000)
            .await
            .expect("claim");
        assert!(
            meanwhile.is_empty(),
            "the second event waits: {meanwhile:?}"
        );
        let mut tx = store.begin().await.expect("begin");
        assert!(tx
            .finish_event(first[0].seq, "a", &json!({}), 2_100)
            .await
            .expect("finish"));
        tx.commit().await.expect("commit");
        let next = other
            .claim_events("b", 10, 2_200 + LEASE_MS, 2_200)
            .await
            .expect("claim");
        assert_eq!(next.len(), 1);
        assert_eq!(next[0].id, "evt-0-1");
        store.close().await;
        other.close().await;
    })
    .await;
}

#[tokio::test]
async fn an_expired_lease_is_reclaimed_and_a_live_one_is_not() {
    on_each_backend("leases", |url| async move {
        let store = open(&url).await;
        seed_events(&store, 1, 1).await;
        seed_messages(&store, 1).await;
        let dead = store
            .claim_events("dead", 1, 10_000, 1_000)
            .await
            .expect("claim");
        assert_eq!(dead.len(), 1);
        let live = store
            .claim_events("other", 1, 20_000, 9_999)
            .await
            .expect("claim");
        assert!(live.is_empty(), "a live lease is not taken");
        let reclaimed = store
            .claim_events("other", 1, 40_000, 10_001)
            .await
            .expect("claim");
        assert_eq!(reclaimed.len(), 1, "an expired lease is taken again");
        let mut tx = store.begin().await.expect("begin");
        assert!(
            !tx.finish_event(dead[0].seq, "dead", &json!({}), 10_002)
                .await
                .expect("finish"),
            "the dead owner cannot finish what was reclaimed"
        );
        tx.commit().await.expect("commit");

        let sent = store
            .claim_messages("wa", "first", 1, 10_000, 1_000)
            .await
            .expect("claim");
        assert_eq!(sent.len(), 1);
        let live = store
            .claim_messages("wa", "second", 1, 20_000, 9_999)
            .await
            .expect("claim");
        assert!(live.is_empty(), "a live message lease is not taken");
        let again = store
            .claim_messages("wa", "second", 1, 40_000, 10_001)
            .await
            .expect("claim");
        assert_eq!(again.len(), 1, "an expired message lease is taken again");
        assert_eq!(again[0].attempts, 2);
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn settling_with_a_stale_lease_does_nothing() {
    on_each_backend("stale settle", |url| async move {
        let store = open(&url).await;
        seed_messages(&store, 1).await;
        store
            .claim_messages("wa", "first", 1, 10_000, 1_000)
            .await
            .expect("claim");
        store
            .claim_messages("wa", "second", 1, 40_000, 10_001)
            .await
            .expect("reclaim");
        let accepted = |wamid: &str| SendResult::Accepted {
            provider_message_id: wamid.to_owned(),
        };
        let mut tx = store.begin().await.expect("begin");
        let stale = tx
            .settle_message("msg-0000", "first", &accepted("wamid.first"), 10_002)
            .await
            .expect("settle");
        assert!(!stale, "the first claim's lease is gone");
        let current = tx
            .settle_message("msg-0000", "second", &accepted("wamid.second"), 10_003)
            .await
            .expect("settle");
        assert!(current, "the current lease settles");
        let twice = tx
            .settle_message("msg-0000", "second", &accepted("wamid.third"), 10_004)
            .await
            .expect("settle");
        assert!(!twice, "a settled message is not settled again");
        tx.commit().await.expect("commit");
        let messages = store.invite_messages("inv-0").await.expect("messages");
        assert_eq!(
            messages[0].provider_message_id.as_deref(),
            Some("wamid.second")
        );
        store.close().await;
    })
    .await;
}

#[tokio::test]
async fn two_concurrent_message_claimers_never_share_a_message() {
    on_each_backend("messages", |url| async move {
        let seeding = open(&url).await;
        seed_messages(&seeding, 200).await;
        let claim = |store: Store, owner: &'static str| async move {
            let mut ids = Vec::new();
            loop {
                let batch = store
                    .claim_messages("wa", owner, 7, 1_000 + LEASE_MS, 1_000)
                    .await
                    .expect("claim");
                if batch.is_empty() {
                    return ids;
                }
                ids.extend(batch.into_iter().map(|m| m.id));
            }
        };
        let (first, second) = (open(&url).await, open(&url).await);
        let (a, b) = tokio::join!(claim(first, "a"), claim(second, "b"));
        assert!(!a.is_empty() && !b.is_empty(), "both claimers worked");
        let all: HashSet<&String> = a.iter().chain(&b).collect();
        assert_eq!(a.len() + b.len(), 200, "every message claimed once");
        assert_eq!(all.len(), 200, "no message claimed twice");
        seeding.close().await;
    })
    .await;
}

#[tokio::test]
async fn pacing_across_two_store_handles_never_exceeds_the_rate() {
    on_each_backend("pacing", |url| async move {
        let (a, b) = (open(&url).await, open(&url).await);
        let interval_us = 50_000; // 20 per second
        let reserve = |store: Store| async move {
            let mut slots = Vec::new();
            for _ in 0..25 {
                let first = store
                    .reserve_send_slots("wa", 2, interval_us, 1_000_000)
                    .await
                    .expect("reserve");
                slots.extend([first, first + interval_us]);
            }
            slots
        };
        let (mut slots, other) = tokio::join!(reserve(a), reserve(b));
        slots.extend(other);
        slots.sort_unstable();
        assert_eq!(slots.len(), 100);
        for pair in slots.windows(2) {
            assert!(
                pair[1] - pair[0] >= interval_us,
                "two sends closer than the interval: {pair:?}"
            );
        }
        // Any one-second window holds at most 20 slots.
        for (i, start) in slots.iter().enumerate() {
            let within = slots[i..]
                .iter()
                .take_while(|s| **s < start + 1_000_000)
                .count();
            assert!(within <= 20, "{within} sends in the second after {start}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_console_session_is_found_until_it_expires_or_ends() {
    on_each_backend("console sessions", |url| async move {
        let store = open(&url).await;
        let session = ConsoleSession {
            user_id: Some("alice".into()),
            csrf: "c".repeat(64),
            expires_at: 10_000,
        };
        store
            .create_console_session("digest-a", &session, 1_000)
            .await
            .unwrap();
        let open_console = ConsoleSession {
            user_id: None,
            ..session.clone()
        };
        store
            .create_console_session("digest-b", &open_console, 1_000)
            .await
            .unwrap();
        assert_eq!(
            store.console_session("digest-a", 9_999).await.unwrap(),
            Some(session)
        );
        assert_eq!(
            store.console_session("digest-a", 10_000).await.unwrap(),
            None
        );
        assert_eq!(store.console_session("nope", 1_000).await.unwrap(), None);
        store.end_console_session("digest-b").await.unwrap();
        assert_eq!(
            store.console_session("digest-b", 1_000).await.unwrap(),
            None
        );
    })
    .await;
}

#[tokio::test]
async fn cases_are_found_by_id_number_or_phone() {
    on_each_backend("case search", |url| async move {
        let store = open(&url).await;
        let mut tx = store.begin().await.unwrap();
        for (id, number, phone, now) in [
            ("C-1", "1001", "+34600111222", 1_000),
            ("C-2", "1002", "+34600111222", 2_000),
            ("C-3", "1003", "+34600999999", 3_000),
        ] {
            let after: Case = serde_json::from_value(json!({
                "id": id, "number": number, "status": "New",
                "profile": {"phone": phone}
            }))
            .unwrap();
            tx.write_case(
                None,
                &after,
                EventKind::CaseCreated,
                0,
                format!("evt-{id}"),
                &QueueRules::default(),
                now,
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let ids = |found: Vec<closeloop_store::StoredCase>| {
            found.into_iter().map(|c| c.case.id).collect::<Vec<_>>()
        };
        assert_eq!(
            ids(store.find_cases("C-3", None, 10).await.unwrap()),
            ["C-3"]
        );
        assert_eq!(
            ids(store.find_cases("1001", None, 10).await.unwrap()),
            ["C-1"]
        );
        assert_eq!(
            ids(store
                .find_cases("+34600111222", Some("+34600111222"), 10)
                .await
                .unwrap()),
            ["C-2", "C-1"],
            "most recently updated first"
        );
        assert_eq!(
            ids(store
                .find_cases("+34600111222", Some("+34600111222"), 1)
                .await
                .unwrap()),
            ["C-2"]
        );
        assert!(store
            .find_cases("nothing", None, 10)
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}
