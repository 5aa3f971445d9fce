//! The dry run of the rules (`closeloop simulate` and the console's rule "try"): evaluates
//! the rules against a case exactly as the event worker does
//! (`closeloop_domain::engine::evaluate`) and reports every rule's outcome with its
//! conditions and the values they saw, the actions it chose and, for invitations, the
//! message as the customer would read it. Nothing is stored or sent. What needs the
//! database (suppression list, quarantine, once-per-case, account health, the case's
//! conversation and invites) is not known here and is said so.

use std::fmt::Write;

use closeloop_domain::action::{Action, SurveyAction};
use closeloop_domain::case::Case;
use closeloop_domain::condition::{EvalContext, EventKind};
use closeloop_domain::config::{Config, DistributionStatus};
use closeloop_domain::engine::{self, RuleOutcome};
use closeloop_domain::resolve;
use closeloop_domain::rule::Trigger;
use time::OffsetDateTime;

use crate::usecase::snapshot::{build_request, rendered_text, RenderInput, TemplateSnapshot};

/// Stands in for the 128-bit token a real invite would get.
const TOKEN_PLACEHOLDER: &str = "<token>";

/// The report of one dry run, as printed.
pub(crate) fn simulate(
    config: &Config,
    before: Option<&Case>,
    after: &Case,
    now: OffsetDateTime,
) -> String {
    let kind = if before.is_some() {
        EventKind::CaseUpdated
    } else {
        EventKind::CaseCreated
    };
    let ctx = EvalContext {
        event_kind: kind,
        before,
        after,
        invites: &[],
        now,
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "case {} ({}), dry run: nothing is stored or sent",
        after.id,
        kind.as_str()
    );
    let outcomes = engine::evaluate(&config.rules, &engine::RuleIndex::new(&config.rules), &ctx);
    for rule in &config.rules {
        match outcomes.iter().find(|o| o.rule == rule.id) {
            Some(outcome) => render_rule(&mut out, config, after, outcome),
            None => {
                let why = match &rule.on {
                    Trigger::Queue {
                        queue,
                        every,
                        runs_for,
                    } => format!("runs on queue {queue} every {every} for {runs_for}"),
                    Trigger::CaseUpdate => format!("does not run on {}", kind.as_str()),
                };
                let _ = writeln!(out, "\nrule {}: not evaluated ({why})", rule.id);
            }
        }
    }
    let matched = outcomes.iter().filter(|o| o.matched).count();
    let _ = writeln!(
        out,
        "\n{matched} of {} rules matched; the case's invites, suppressions and quarantine \
         are not known in a dry run",
        config.rules.len()
    );
    out
}

fn render_rule(out: &mut String, config: &Config, case: &Case, outcome: &RuleOutcome) {
    let _ = writeln!(
        out,
        "\nrule {}: {}",
        outcome.rule,
        if outcome.matched {
            "MATCHED"
        } else {
            "did not match"
        }
    );
    for c in &outcome.conditions {
        let _ = writeln!(
            out,
            "  [{}] {} {} {} (saw {})",
            if c.result { "x" } else { " " },
            c.field,
            c.op,
            c.expected,
            c.actual
        );
    }
    for action in &outcome.actions {
        match action {
            Action::TriggerSurveyInvitation(a) => render_invitation(out, config, case, a),
            Action::SendSurveyReminder(a) | Action::SendThankYouMessage(a) => {
                let _ = writeln!(
                    out,
                    "  -> {} {}: would need the case's invite (none known in a dry run)",
                    action.name(),
                    a.target
                );
            }
            Action::MoveToQueue { queue } => {
                let _ = writeln!(out, "  -> move_to_queue {queue}");
            }
            Action::SetField { field, value } => {
                let _ = writeln!(out, "  -> set_field {} = {value}", field.as_string());
            }
            Action::AddTag { tag } => {
                let _ = writeln!(out, "  -> add_tag {tag}");
            }
        }
    }
}

/// What the invitation would be: recipient, language, sender, and the rendered message.
fn render_invitation(out: &mut String, config: &Config, case: &Case, action: &SurveyAction) {
    let _ = writeln!(out, "  -> trigger_survey_invitation {}", action.target);
    let (Some(distribution), Some(survey)) = (
        config.distribution(&action.target.distribution),
        config.survey(&action.target.survey),
    ) else {
        let _ = writeln!(out, "     skipped: unknown_distribution");
        return;
    };
    if distribution.status != DistributionStatus::Active {
        let _ = writeln!(
            out,
            "     skipped: distribution_not_active (distribution {} is {:?})",
            distribution.id, distribution.status
        );
        return;
    }
    let account = sender_account(config, case, action, &distribution.sender_account);
    let default_region = config
        .account(&account)
        .and_then(|a| a.default_region.as_deref());
    // No conversation is known here, so the last-message language falls through.
    let (language, language_source) = resolve::language(action, survey, distribution, case, None);
    let _ = writeln!(
        out,
        "     language: {} (from {})",
        language.as_str(),
        language_source.as_str()
    );
    if action.use_last_message_language {
        let _ = writeln!(
            out,
            "     note: use_last_message_language: no conversation in a dry run; fell through"
        );
    }
    let _ = writeln!(out, "     account: {account}");
    let digits = match resolve::recipient(action, case, default_region) {
        Ok((phone, source)) => {
            let _ = writeln!(out, "     to: {} (from {source})", phone.as_str());
            phone.digits().to_string()
        }
        Err((source, why)) => {
            let _ = writeln!(
                out,
                "     to: invalid ({source}: {why}); the invite would be failed: invalid_recipient"
            );
            return;
        }
    };
    let template = TemplateSnapshot::from(&distribution.messages.invitation);
    let link = format!(
        "{}/s/{TOKEN_PLACEHOLDER}",
        config.public_url.trim_end_matches('/')
    );
    let input = RenderInput {
        case,
        link: &link,
        token: TOKEN_PLACEHOLDER,
        survey_name: &survey.name,
        language: language.as_str(),
        to_digits: &digits,
    };
    match build_request(&template, &input) {
        Ok(request) => {
            let _ = writeln!(
                out,
                "     template: {} ({})",
                request.template.name, request.template.language.code
            );
            let _ = writeln!(out, "     message:");
            for line in rendered_text(&template, language.as_str(), &request).lines() {
                let _ = writeln!(out, "       {line}");
            }
        }
        Err(why) => {
            let _ = writeln!(out, "     failed: template_not_available ({why})");
        }
    }
}

/// SPEC §4.3, as the service chooses it (`actions::sender_account`).
fn sender_account(
    config: &Config,
    case: &Case,
    action: &SurveyAction,
    distribution_account: &str,
) -> String {
    if action.use_distribution_account {
        return distribution_account.to_string();
    }
    case.conversation
        .as_ref()
        .and_then(|c| c.account.as_deref())
        .filter(|id| config.account(id).is_some())
        .unwrap_or(distribution_account)
        .to_string()
}
