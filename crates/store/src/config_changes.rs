//! The management API's changes to the config (an object put or deleted, with a revision
//! per object) and the API tokens it issues (digests only).

use sqlx::Row;

use crate::fields::Fields;
use crate::{Result, Store, StoreTx};

/// One object written or deleted through the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigChange {
    /// The document key (`surveys`, `rules`…).
    pub kind: String,
    /// The object id.
    pub id: String,
    /// The object as JSON; `None` = deleted.
    pub body: Option<String>,
    /// How many times the API wrote this object.
    pub revision: i64,
}

/// An API token as listed (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    /// Token id (for revoking one).
    pub id: String,
    /// Its user.
    pub user: String,
    /// Issued, unix ms.
    pub created_at: i64,
    /// Revoked, unix ms.
    pub revoked_at: Option<i64>,
}

/// Every stored change, oldest first.
const CHANGES: &str =
    "SELECT kind, id, body, revision FROM config_changes ORDER BY changed_at, kind, id";

/// A row of [`CHANGES`].
fn change<R: Fields>(r: &R) -> Result<ConfigChange> {
    Ok(ConfigChange {
        kind: r.text("kind")?,
        id: r.text("id")?,
        body: r.opt_text("body")?,
        revision: r.int("revision")?,
    })
}

/// The sum of the objects' revisions.
const REVISION: &str = "SELECT CAST(COALESCE(SUM(revision), 0) AS BIGINT) FROM config_changes";

impl Store {
    /// The config's revision: it grows with every change stored through the API, by any
    /// process (the sum of the objects' revisions).
    ///
    /// # Errors
    /// On database failure.
    pub async fn config_revision(&self) -> Result<i64> {
        on_read!(self, c => Ok(sqlx::query(REVISION).fetch_one(c).await?.try_get(0)?))
    }

    /// Every change made through the API, oldest first.
    ///
    /// # Errors
    /// On database failure.
    pub async fn config_changes(&self) -> Result<Vec<ConfigChange>> {
        on_read!(self, c => {
            let rows = sqlx::query(CHANGES).fetch_all(c).await?;
            rows.iter().map(change).collect()
        })
    }

    /// The user holding a live (not revoked) token with this digest.
    ///
    /// # Errors
    /// On database failure.
    pub async fn api_token_user(&self, digest: &str) -> Result<Option<String>> {
        on_read!(self, c => {
            let row =
                sqlx::query("SELECT user_id FROM api_tokens WHERE digest = $1 AND revoked_at IS NULL")
                    .bind(digest)
                    .fetch_optional(c)
                    .await?;
            Ok(row.map(|r| r.get("user_id")))
        })
    }

    /// A user's tokens, newest first.
    ///
    /// # Errors
    /// On database failure.
    pub async fn api_tokens(&self, user: &str) -> Result<Vec<ApiToken>> {
        on_read!(self, c => {
            let rows = sqlx::query(
                "SELECT id, user_id, created_at, revoked_at FROM api_tokens WHERE user_id = $1 \
                 ORDER BY created_at DESC, id",
            )
            .bind(user)
            .fetch_all(c)
            .await?;
            Ok(rows
                .iter()
                .map(|r| ApiToken {
                    id: r.get("id"),
                    user: r.get("user_id"),
                    created_at: r.get("created_at"),
                    revoked_at: r.get("revoked_at"),
                })
                .collect())
        })
    }
}

impl StoreTx {
    /// Records that the API put (`Some(body)`) or deleted (`None`) an object; returns the
    /// object's new revision.
    ///
    /// # Errors
    /// On database failure.
    pub async fn record_config_change(
        &mut self,
        kind: &str,
        id: &str,
        body: Option<&str>,
        at: i64,
        by: Option<&str>,
    ) -> Result<i64> {
        on_tx!(self, c => {
            let row = sqlx::query(
                "INSERT INTO config_changes (kind, id, body, revision, changed_at, changed_by) \
                 VALUES ($1, $2, $3, 1, $4, $5) \
                 ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, \
                 revision = config_changes.revision + 1, changed_at = excluded.changed_at, \
                 changed_by = excluded.changed_by RETURNING revision",
            )
            .bind(kind)
            .bind(id)
            .bind(body)
            .bind(at)
            .bind(by)
            .fetch_one(c)
            .await?;
            Ok(row.try_get("revision")?)
        })
    }

    /// Every change made through the API, oldest first, read in this transaction.
    ///
    /// # Errors
    /// On database failure.
    pub async fn config_changes(&mut self) -> Result<Vec<ConfigChange>> {
        on_tx!(self, c => {
            let rows = sqlx::query(CHANGES).fetch_all(c).await?;
            rows.iter().map(change).collect()
        })
    }

    /// Replaces a stored object's body without counting a new revision: the object is
    /// the same, only its stored form changed (its secrets sealed with another key).
    ///
    /// # Errors
    /// On database failure.
    pub async fn rewrite_config_change(&mut self, kind: &str, id: &str, body: &str) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "UPDATE config_changes SET body = $1 WHERE kind = $2 AND id = $3",
        )
        .bind(body)
        .bind(kind)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The config's revision: it grows with every change stored through the API, by
    /// any process (the sum of the objects' revisions).
    ///
    /// # Errors
    /// On database failure.
    pub async fn config_revision(&mut self) -> Result<i64> {
        on_tx!(self, c => Ok(sqlx::query(REVISION).fetch_one(c).await?.try_get(0)?))
    }

    /// Stores a new token's digest.
    ///
    /// # Errors
    /// On database failure.
    pub async fn insert_api_token(
        &mut self,
        id: &str,
        user: &str,
        digest: &str,
        at: i64,
    ) -> Result<()> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO api_tokens (id, user_id, digest, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(user)
        .bind(digest)
        .bind(at)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Revokes a user's live tokens (only `token` when given); returns how many.
    ///
    /// # Errors
    /// On database failure.
    pub async fn revoke_api_tokens(
        &mut self,
        user: &str,
        token: Option<&str>,
        at: i64,
    ) -> Result<u64> {
        let done = on_tx!(self, c => sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL \
             AND ($3 IS NULL OR id = $3)",
        )
        .bind(at)
        .bind(user)
        .bind(token)
        .execute(c)
        .await.map(|r| r.rows_affected()))?;
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn changes_count_revisions_and_deletes_are_kept() {
        let (_dir, store) = store().await;
        let mut tx = store.begin().await.unwrap();
        let r1 = tx.record_config_change("surveys", "s", Some("{}"), 1, Some("alice"));
        assert_eq!(r1.await.unwrap(), 1);
        let r2 = tx.record_config_change("surveys", "s", None, 2, None);
        assert_eq!(r2.await.unwrap(), 2);
        tx.commit().await.unwrap();
        let changes = store.config_changes().await.unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!((changes[0].body.as_deref(), changes[0].revision), (None, 2));
    }

    #[tokio::test]
    async fn revoked_tokens_no_longer_name_their_user() {
        let (_dir, store) = store().await;
        let mut tx = store.begin().await.unwrap();
        tx.insert_api_token("t1", "bob", "d1", 1).await.unwrap();
        tx.insert_api_token("t2", "bob", "d2", 2).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store.api_token_user("d1").await.unwrap().as_deref(),
            Some("bob")
        );
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.revoke_api_tokens("bob", Some("t1"), 3).await.unwrap(), 1);
        tx.commit().await.unwrap();
        assert_eq!(store.api_token_user("d1").await.unwrap(), None);
        assert_eq!(
            store.api_token_user("d2").await.unwrap().as_deref(),
            Some("bob")
        );
        let tokens = store.api_tokens("bob").await.unwrap();
        assert_eq!(tokens[1].revoked_at, Some(3));
    }
}
