//! The store's two secrets and the checks that every node holds the same ones.
//!
//! The audit key keys the audit chain's HMAC; the person-code key keys the HMAC that turns an
//! identity document into a person code. They are separate so that whoever verifies the audit log
//! cannot compute person codes. A node whose keys differ from the database's would split one
//! person into two (each node computing its own codes) and make every audit entry it writes a
//! break in the chain, so a node refuses to start with keys that do not match: each key's check
//! value is stored on first use, and the audit key must also verify the chain's newest entry.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use sqlx::Row;

use crate::{Result, Store, StoreError, audit};

/// Which key failed its check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyName {
    Audit,
    PersonCode,
}

impl KeyName {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyName::Audit => "audit",
            KeyName::PersonCode => "person_code",
        }
    }
}

impl std::fmt::Display for KeyName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// HMAC-SHA-256 of `label` under `key`, in hex.
pub(crate) fn mac_hex(key: &[u8], label: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(label);
    audit::hex(&mac.finalize().into_bytes())
}

fn check_value(name: KeyName, key: &[u8]) -> String {
    mac_hex(
        key,
        format!("freeport key check\0{}", name.as_str()).as_bytes(),
    )
}

/// The audit action of a key rotation.
pub(crate) const KEY_ROTATED: &str = "audit.key_rotated";

pub(crate) fn audit_check_value(key: &[u8]) -> String {
    check_value(KeyName::Audit, key)
}

/// The incoming key's check value a rotation entry names.
pub(crate) fn rotation_target(payload: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(payload)
        .ok()?
        .get("check_value")?
        .as_str()
        .map(str::to_owned)
}

impl Store {
    /// Checks that this node's keys are the database's: compares each key's check value with the
    /// stored one, recording it on first use (the audit key only once it verifies the chain's
    /// newest entry, for a database written before check values were kept). `KeyMismatch` names
    /// the key that differs.
    pub async fn check_keys(&self) -> Result<()> {
        for (name, key) in [
            (KeyName::Audit, self.audit_key.as_slice()),
            (KeyName::PersonCode, self.person_code_key.as_slice()),
        ] {
            let expected = check_value(name, key);
            let recorded = sqlx::query("SELECT check_value FROM key_checks WHERE name = $1")
                .bind(name.as_str())
                .fetch_optional(&self.pool)
                .await?;
            if recorded.is_none()
                && name == KeyName::Audit
                && !self.audit_key_verifies_the_head().await?
            {
                return Err(StoreError::KeyMismatch(name));
            }
            {
                let _gate = self.write_guard().await;
                sqlx::query("INSERT INTO key_checks (name, check_value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                    .bind(name.as_str())
                    .bind(&expected)
                    .execute(&self.pool)
                    .await?;
            }
            let stored: String = sqlx::query("SELECT check_value FROM key_checks WHERE name = $1")
                .bind(name.as_str())
                .fetch_one(&self.pool)
                .await?
                .try_get("check_value")?;
            if stored != expected {
                return Err(StoreError::KeyMismatch(name));
            }
        }
        Ok(())
    }

    /// Retires the current audit key for `new_key`: appends an `audit.key_rotated` entry, keyed
    /// with the current key and naming the new key's check value, and records that check value, in
    /// one transaction. Entries after it are keyed with the new key; verifying the older ones takes
    /// the retired key (`with_previous_audit_keys`). Run it with every node stopped, on a chain
    /// that verifies.
    pub async fn rotate_audit_key(&self, new_key: &[u8], actor: &str, now_ms: i64) -> Result<()> {
        let mut tx = self.begin_write(None, 0).await?;
        let incoming = audit_check_value(new_key);
        let payload = serde_json::json!({ "check_value": incoming }).to_string();
        crate::append_audit(
            &mut tx,
            &self.audit_key,
            now_ms,
            actor,
            KEY_ROTATED,
            "audit_key",
            &payload,
        )
        .await?;
        sqlx::query("UPDATE key_checks SET check_value = $1 WHERE name = $2")
            .bind(&incoming)
            .bind(KeyName::Audit.as_str())
            .execute(&mut **tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the audit key recomputes the newest entry's hash (true for an empty log): a node
    /// refuses to start when it does not, since every entry it appended would break the chain.
    /// Right after a rotation the newest entry is the rotation itself, keyed with the retired key;
    /// it stands for this key when it names this key's check value.
    pub async fn audit_key_verifies_the_head(&self) -> Result<bool> {
        let Some(row) = sqlx::query("SELECT l.seq, l.at_ms, l.actor, l.action, l.subject, l.payload, l.prev_hash, l.hash FROM audit_log l JOIN audit_head h ON h.seq = l.seq WHERE h.id = 1")
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(true);
        };
        let (actor, action, subject, payload): (String, String, String, String) = (
            row.try_get("actor")?,
            row.try_get("action")?,
            row.try_get("subject")?,
            row.try_get("payload")?,
        );
        if action == KEY_ROTATED {
            return Ok(rotation_target(&payload) == Some(audit_check_value(&self.audit_key)));
        }
        let prev: String = row.try_get("prev_hash")?;
        let hash = audit::entry_hash(
            &self.audit_key,
            &prev,
            &audit::Entry {
                seq: row.try_get("seq")?,
                at_ms: row.try_get("at_ms")?,
                actor: &actor,
                action: &action,
                subject: &subject,
                payload: &payload,
            },
        );
        Ok(hash == row.try_get::<String, _>("hash")?)
    }
}
