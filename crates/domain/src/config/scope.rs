//! What rule parsing can see of the rest of the config: declared surveys and distributions,
//! users, the rule author and the load instant, and the reference checks built on them.

use std::collections::BTreeSet;

use time::OffsetDateTime;

use super::error::{join, Problems};
use super::model::{Distribution, DistributionStatus, Role, Survey, User};
use crate::condition::SurveyRef;

/// The only channel closeloop sends on.
pub const CHANNEL_WHATSAPP: &str = "whatsapp";

/// What a rule's survey targets are checked for beyond existing and belonging together.
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct TargetChecks {
    /// The author must own or hold `edit_distribution` on the survey.
    pub permission: bool,
    /// The distribution must not have expired.
    pub expiry: bool,
    /// The distribution must not be paused, nor sent from a stopped (failed) account.
    pub sending_state: bool,
}

#[derive(Copy, Clone)]
pub(crate) struct Scope<'a> {
    pub surveys: &'a [Survey],
    pub distributions: &'a [Distribution],
    pub users: &'a [User],
    /// Ids declared in the document, even if the object itself had errors (avoids cascades).
    pub declared_surveys: &'a BTreeSet<String>,
    pub declared_distributions: &'a BTreeSet<String>,
    /// Accounts stopped by the provider: their distributions are `failed`.
    pub failed_accounts: &'a BTreeSet<String>,
    /// The user the rule acts for; `None` = trusted (a file without `owner`).
    pub author: Option<&'a str>,
    pub checks: TargetChecks,
    pub now: OffsetDateTime,
}

impl<'a> Scope<'a> {
    pub fn survey(&self, id: &str) -> Option<&'a Survey> {
        self.surveys.iter().find(|s| s.id == id)
    }

    pub fn distribution(&self, id: &str) -> Option<&'a Distribution> {
        self.distributions.iter().find(|d| d.id == id)
    }

    fn is_admin(&self, user: &str) -> bool {
        self.users
            .iter()
            .any(|u| u.id == user && u.role == Role::Admin)
    }

    /// Checks that a target's survey and distribution exist, that the channel is WhatsApp and
    /// that the distribution sends that survey. Returns the typed objects when available.
    pub fn check_target(
        &self,
        target: &SurveyRef,
        base: &str,
        problems: &mut Problems,
    ) -> Option<(&'a Survey, &'a Distribution)> {
        if target.channel != CHANNEL_WHATSAPP {
            problems.add(
                join(base, "channel"),
                format!("unsupported channel `{}` (only `whatsapp`)", target.channel),
            );
        }
        if !self.declared_surveys.contains(&target.survey) {
            problems.add(
                join(base, "survey"),
                format!("unknown survey `{}`", target.survey),
            );
        }
        if !self.declared_distributions.contains(&target.distribution) {
            problems.add(
                join(base, "distribution"),
                format!("unknown distribution `{}`", target.distribution),
            );
        }
        let survey = self.survey(&target.survey)?;
        let dist = self.distribution(&target.distribution)?;
        if dist.survey != survey.id {
            problems.add(
                join(base, "distribution"),
                format!(
                    "distribution `{}` belongs to survey `{}`, not `{}`",
                    dist.id, dist.survey, survey.id
                ),
            );
            return None;
        }
        Some((survey, dist))
    }

    /// The distribution a rule sends through must be able to send: not expired (always for
    /// a checked rule) and, for a rule written through the API, neither paused nor on a
    /// stopped account (SPEC §3.3; the list filters of the source document).
    pub fn check_sending(&self, dist: &Distribution, path: &str, problems: &mut Problems) {
        if self.checks.expiry && dist.is_expired(self.now) {
            problems.add(path, format!("distribution `{}` has expired", dist.id));
        }
        if !self.checks.sending_state {
            return;
        }
        if dist.status == DistributionStatus::Paused {
            problems.add(path, format!("distribution `{}` is paused", dist.id));
        }
        if self.failed_accounts.contains(&dist.sender_account) {
            problems.add(
                path,
                format!(
                    "distribution `{}` has failed: its sender account `{}` was stopped by the provider",
                    dist.id, dist.sender_account
                ),
            );
        }
    }

    /// The author must own the survey, hold `edit_distribution` on it, or be an admin.
    pub fn check_permission(&self, survey: &Survey, path: &str, problems: &mut Problems) {
        let Some(author) = self.author.filter(|_| self.checks.permission) else {
            return;
        };
        if !survey.can_edit(author) && !self.is_admin(author) {
            problems.add(
                path,
                format!(
                    "`{author}` may not write rules for survey `{}` (needs ownership or edit_distribution)",
                    survey.id
                ),
            );
        }
    }
}
