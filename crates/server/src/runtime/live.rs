//! The live config: the config file's document with the changes made through the
//! management API layered on top, loaded into a [`Config`] that handlers and workers read
//! and that a write swaps atomically.
//!
//! Changes are stored per object in the database (`config_changes`) and applied over the
//! file at every start: an API write to an id replaces the file's object with that id, an
//! API delete hides it; objects the API never touched follow the file. Secrets are stored
//! sealed (`runtime::secret`) and opened here when the changes are loaded.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};

use closeloop_domain::config::document::{self, Kind};
use closeloop_domain::config::{load_document, Config, ConfigError, Loaded, Validation};
use closeloop_domain::engine::RuleIndex;
use closeloop_domain::rule::Trigger;
use closeloop_store::{AccountHealth, QueueRule, QueueRules, Store, StoreError};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::{watch, Mutex, MutexGuard};

use crate::runtime::secret::{self, SecretError, SecretKey};

/// The advisory lock that serializes config writers across processes (API writes and
/// the re-sealing of secrets).
pub(crate) const CONFIG_LOCK: &str = "closeloop:config";

/// The running config and the document it was loaded from.
pub(crate) struct LiveConfig {
    file_document: Value,
    secret_key: Option<SecretKey>,
    current: RwLock<Arc<Snapshot>>,
    writer: Mutex<()>,
    changes: watch::Sender<u64>,
}

/// One loaded state of the config: the typed config, the document it came from and the
/// API revision of each object.
pub(crate) struct Snapshot {
    /// The typed config.
    pub(crate) config: Arc<Config>,
    /// The config document (file + API changes).
    pub(crate) document: Value,
    /// The queue rules of the config, by queue.
    pub(crate) queue_rules: QueueRules,
    /// The config's rules by the event kinds and changes they can hold for.
    pub(crate) rule_index: RuleIndex,
    /// The config's revision in the database (it grows with every API change, made by
    /// any process); a process whose snapshot is older reloads.
    pub(crate) revision: i64,
    revisions: HashMap<(Kind, String), i64>,
}

impl Snapshot {
    /// How many times the API wrote this object (0 = as in the file).
    pub(crate) fn revision(&self, kind: Kind, id: &str) -> i64 {
        self.revisions
            .get(&(kind, id.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// The next snapshot: `config` loaded from `document`, with one object's revision set.
    pub(crate) fn next(
        &self,
        config: Config,
        document: Value,
        changed: (Kind, &str, i64),
    ) -> Snapshot {
        let mut revisions = self.revisions.clone();
        revisions.insert((changed.0, changed.1.to_owned()), changed.2);
        Snapshot {
            queue_rules: queue_rules(&config),
            rule_index: RuleIndex::new(&config.rules),
            config: Arc::new(config),
            document,
            revision: self.revision + 1,
            revisions,
        }
    }
}

/// Why the live config could not be opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OpenError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored change is not JSON any more.
    #[error("stored change to {kind} {id:?} is not valid JSON: {error}")]
    Corrupt {
        /// Document key.
        kind: String,
        /// Object id.
        id: String,
        /// Parse error.
        error: serde_json::Error,
    },
    /// A stored secret cannot be opened (no key, or another key).
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The file with the API's changes does not load.
    #[error("the config file with the changes made through the API is invalid:\n{}", lines(.0))]
    Invalid(Vec<ConfigError>),
}

fn lines(errors: &[ConfigError]) -> String {
    errors
        .iter()
        .map(|e| format!("  {e}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The accounts the provider stopped (their distributions are `failed`).
pub(crate) fn failed_accounts(health: &[AccountHealth]) -> BTreeSet<String> {
    health
        .iter()
        .filter(|h| !h.healthy)
        .map(|h| h.account.clone())
        .collect()
}

/// The file's document with the stored API changes applied over it, loaded.
async fn load_snapshot(
    file_document: &Value,
    secret_key: Option<&SecretKey>,
    store: &Store,
    now: OffsetDateTime,
) -> Result<(Snapshot, Vec<ConfigError>), OpenError> {
    let mut value = file_document.clone();
    let mut revisions = HashMap::new();
    let mut revision = 0;
    for change in store.config_changes().await? {
        revision += change.revision;
        let Some(kind) = Kind::from_key(&change.kind) else {
            tracing::warn!(kind = %change.kind, id = %change.id, "ignoring a stored change of an unknown kind");
            continue;
        };
        let mut body: Option<Value> = change
            .body
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|error| OpenError::Corrupt {
                kind: change.kind.clone(),
                id: change.id.clone(),
                error,
            })?;
        if let Some(item) = &mut body {
            let file_item = document::find(file_document, kind, &change.id).map(|(_, v)| v);
            secret::open_object(secret_key, kind, item, file_item)?;
        }
        document::apply(&mut value, kind, &change.id, body);
        revisions.insert((kind, change.id), change.revision);
    }
    let failed = failed_accounts(&store.account_health().await?);
    let Loaded {
        config, warnings, ..
    } = load_document(
        &value,
        now,
        &Validation::Live {
            checked_rule: None,
            failed_accounts: &failed,
        },
    )
    .map_err(OpenError::Invalid)?;
    let snapshot = Snapshot {
        queue_rules: queue_rules(&config),
        rule_index: RuleIndex::new(&config.rules),
        config: Arc::new(config),
        document: value,
        revision,
        revisions,
    };
    Ok((snapshot, warnings))
}

/// The queue rules of a config, by queue.
fn queue_rules(config: &Config) -> QueueRules {
    let mut rules = QueueRules::new();
    for rule in &config.rules {
        if let Trigger::Queue {
            queue,
            every,
            runs_for,
        } = &rule.on
        {
            let ms = |d: &closeloop_domain::duration::Duration| {
                i64::try_from(d.as_secs().saturating_mul(1000)).unwrap_or(i64::MAX / 4)
            };
            rules.entry(queue.clone()).or_default().push(QueueRule {
                id: rule.id.clone(),
                every_ms: ms(every).max(1),
                for_ms: ms(runs_for).max(1),
            });
        }
    }
    rules
}

impl LiveConfig {
    /// Applies the stored API changes over the file's document and loads the result.
    ///
    /// # Errors
    /// When the database fails or the merged document does not load.
    pub(crate) async fn open(
        file_document: Value,
        secret_key: Option<SecretKey>,
        store: &Store,
        now: OffsetDateTime,
    ) -> Result<(LiveConfig, Vec<ConfigError>), OpenError> {
        let (snapshot, warnings) =
            load_snapshot(&file_document, secret_key.as_ref(), store, now).await?;
        let live = LiveConfig {
            file_document,
            secret_key,
            current: RwLock::new(Arc::new(snapshot)),
            writer: Mutex::new(()),
            changes: watch::channel(0).0,
        };
        Ok((live, warnings))
    }

    /// Loads the config again when the database's revision is not the one in force
    /// (another process changed it), and puts it in force. Returns whether it did.
    ///
    /// # Errors
    /// When the database fails or the merged document does not load (the config in force
    /// stays).
    pub(crate) async fn refresh(
        &self,
        store: &Store,
        revision: i64,
        now: OffsetDateTime,
    ) -> Result<bool, OpenError> {
        if revision == self.snapshot().revision {
            return Ok(false);
        }
        let (snapshot, _) =
            load_snapshot(&self.file_document, self.secret_key.as_ref(), store, now).await?;
        self.replace(snapshot);
        Ok(true)
    }

    /// How an object written through the API is stored: its secrets sealed, or left out
    /// when they are the config file's own.
    ///
    /// # Errors
    /// [`SecretError::KeyMissing`] when a secret is to be sealed and no key is set.
    pub(crate) fn stored_form(&self, kind: Kind, item: &Value) -> Result<Value, SecretError> {
        let id = document::id_of(item).unwrap_or_default();
        let file_item = document::find(&self.file_document, kind, id).map(|(_, v)| v);
        secret::seal_object(self.secret_key.as_ref(), kind, item, file_item)
    }

    /// The config in force now.
    pub(crate) fn get(&self) -> Arc<Config> {
        self.snapshot().config.clone()
    }

    /// The config in force now with its document.
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Held by a config write from reading the snapshot to putting the next one in force,
    /// so no write is lost to another.
    pub(crate) async fn write_lock(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().await
    }

    /// Puts a new snapshot in force and tells the workers.
    pub(crate) fn replace(&self, snapshot: Snapshot) {
        let snapshot = Arc::new(snapshot);
        match self.current.write() {
            Ok(mut current) => *current = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
        self.changes.send_modify(|n| *n += 1);
    }

    /// A receiver that sees every [`LiveConfig::replace`].
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}
