//! Calling back from the worklist: each department's dialer (settings, with
//! its credentials in the secret store, never returned), and the Call back
//! action that asks the platform to ring the agent, then the customer.
//! (Texting missed callers through the same dialer: `super::sms`.)

use super::calls::{find, CallKey};
use crate::auth::{Admin, Principal};
use crate::error::{ApiError, ApiResult, ErrorCode, Json, Query};
use crate::idempotency::IdempotencyKey;
use crate::outbound::breaker::CircuitState;
use crate::outbound::credentials::{read_secrets, read_secrets_of, write_secrets};
use crate::outbound::{self, Dialling};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use callboard_core::dialer::request::{self, Dial};
use callboard_core::dialer::{self, AgentIdentity, DialerConfig, DialerKind, DialerSpec};
use callboard_core::store::callbacks::{self, Attempt, Dialer, NewAttempt};
use callboard_core::store::calls::Call;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// A department's dialer as the console sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DialerView {
    pub department: String,
    pub kind: DialerKind,
    pub label: String,
    /// What the agent gives as their end of the call.
    pub agent: AgentIdentity,
    /// The platform reports each attempt's end to Callboard.
    pub reports_status: bool,
    /// The public settings (admins only; empty for others).
    pub fields: BTreeMap<String, String>,
    /// Secret fields not yet given: the dialer cannot call until they are.
    pub missing_secrets: Vec<String>,
    pub ready: bool,
    pub circuit: CircuitState,
    pub updated_at: String,
}

fn view(
    state: &AppState,
    d: Dialer,
    secrets: &BTreeMap<String, String>,
    admin: bool,
) -> DialerView {
    let spec = d.config.kind.spec();
    let missing: Vec<String> = dialer::missing_secrets(d.config.kind, secrets)
        .into_iter()
        .map(String::from)
        .collect();
    DialerView {
        circuit: state.dialling.circuit(&d.department, state.store.now()),
        department: d.department,
        kind: d.config.kind,
        label: spec.label.to_string(),
        agent: spec.agent,
        reports_status: spec.reports_status,
        fields: if admin {
            d.config.fields
        } else {
            BTreeMap::new()
        },
        ready: missing.is_empty(),
        missing_secrets: missing,
        updated_at: d.updated_at,
    }
}

#[utoipa::path(get, path = "/api/dialer-kinds", operation_id = "listDialerKinds", tag = "callbacks",
    description = "The platforms Callboard can call back through, with the settings each needs.",
    responses((status = 200, body = Vec<DialerSpec>)), security(("bearer" = [])))]
pub async fn kinds(_who: Principal) -> Json<Vec<DialerSpec>> {
    Json(DialerKind::ALL.into_iter().map(DialerKind::spec).collect())
}

#[utoipa::path(get, path = "/api/dialers", operation_id = "listDialers", tag = "callbacks",
    description = "The dialers of the departments you work in. Secrets are never returned; `missing_secrets` names those not yet given.",
    responses((status = 200, body = Vec<DialerView>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
) -> ApiResult<Json<Vec<DialerView>>> {
    let mine: Vec<_> = state
        .store
        .read(callbacks::dialers)
        .await?
        .into_iter()
        .filter(|d| who.can_see(&d.department))
        .collect();
    // One read of the secret store for the whole list, not one per dialer.
    let departments = mine.iter().map(|d| d.department.clone()).collect();
    let mut secrets = read_secrets_of(state.secrets.clone(), departments).await?;
    Ok(Json(
        mine.into_iter()
            .map(|d| {
                let s = secrets.remove(&d.department).unwrap_or_default();
                view(&state, d, &s, who.is_admin())
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DialerInput {
    pub kind: DialerKind,
    /// The kind's public fields (see `/api/dialer-kinds`).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// The kind's secret fields; those given replace the stored ones, those
    /// left out are kept. Written to the secret store, never returned.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

#[utoipa::path(put, path = "/api/providers/{slug}/dialer", operation_id = "putDialer", tag = "callbacks",
    description = "Sets the department's click-to-call platform. Secrets go to the receiver's secret store (secrets.json, not the database).",
    params(("slug" = String, Path)), request_body = DialerInput,
    responses((status = 200, body = DialerView), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn put(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(slug): Path<String>,
    Json(input): Json<DialerInput>,
) -> ApiResult<Json<DialerView>> {
    let config = DialerConfig {
        kind: input.kind,
        fields: input
            .fields
            .into_iter()
            .map(|(k, v)| (k, v.trim().to_string()))
            .filter(|(_, v)| !v.is_empty())
            .collect(),
    };
    config.validate()?;
    dialer::validate_secrets(config.kind, &input.secrets)?;
    let s = slug.clone();
    let previous = state
        .store
        .read(move |c| {
            callboard_core::store::providers::get(c, &s)?;
            callbacks::dialer(c, &s)
        })
        .await?;
    // Secrets of the kind kept (a change of platform drops the old ones).
    let mut secrets = match previous {
        Some(p) if p.config.kind == config.kind => {
            read_secrets(state.secrets.clone(), &slug).await?
        }
        _ => BTreeMap::new(),
    };
    for (k, v) in input.secrets {
        secrets.insert(k, v.trim().to_string());
    }
    write_secrets(state.secrets.clone(), &slug, Some(secrets.clone())).await?;
    let actor = who.actor();
    let s = slug.clone();
    let d = state
        .store
        .write_keyed(key.0, move |w| callbacks::put_dialer(w, &s, config, &actor))
        .await?;
    Ok(Json(view(&state, d, &secrets, true)))
}

#[utoipa::path(delete, path = "/api/providers/{slug}/dialer", operation_id = "deleteDialer", tag = "callbacks",
    description = "Removes the department's dialer and its secrets: Call back falls back to a tel: link.",
    params(("slug" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn delete(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(slug): Path<String>,
) -> ApiResult<StatusCode> {
    let actor = who.actor();
    let s = slug.clone();
    state
        .store
        .write_keyed(key.0, move |w| callbacks::delete_dialer(w, &s, &actor))
        .await?;
    write_secrets(state.secrets.clone(), &slug, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallbackRequest {
    /// The agent's end: the phone to ring first (or, for Dialpad and
    /// Ozonetel, the agent's user id on the platform).
    pub agent: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CallbackStarted {
    pub attempt: Attempt,
    pub call: Call,
}

#[utoipa::path(post, path = "/api/calls/{call_id}/callback", operation_id = "callBack", tag = "callbacks",
    description = "Calls the caller back through the department's platform: it rings the agent first, then connects the customer. The attempt is recorded before the platform is asked; its outcome arrives on the attempt's status URL. 409 `no_dialer` when the department has none (dial the number yourself); 502 `platform_error` when the platform refuses or cannot be reached (the attempt stays, marked failed).",
    params(("call_id" = String, Path), CallKey), request_body = CallbackRequest,
    responses((status = 201, body = CallbackStarted), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody), (status = 502, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn call_back(
    State(state): State<AppState>,
    headers: HeaderMap,
    who: Principal,
    Path(call_id): Path<String>,
    Query(k): Query<CallKey>,
    Json(req): Json<CallbackRequest>,
) -> ApiResult<(StatusCode, Json<CallbackStarted>)> {
    if who.integration.is_some() {
        return Err(ApiError::forbidden("integration tokens cannot place calls"));
    }
    let call = find(&state, &who, call_id, k.department).await?;
    let Some(customer) = call.mobile_number.clone().filter(|n| !n.trim().is_empty()) else {
        return Err(ApiError::invalid(format!(
            "call `{}` has no caller number to call back",
            call.call_id
        )));
    };
    let dep = call.department.clone();
    let d = dep.clone();
    let Some(dialer) = state.store.read(move |c| callbacks::dialer(c, &d)).await? else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::NoDialer,
            format!("department `{dep}` has no click-to-call platform: dial {customer} yourself"),
        ));
    };
    let secrets = read_secrets(state.secrets.clone(), &dep).await?;
    let missing = dialer::missing_secrets(dialer.config.kind, &secrets);
    if !missing.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::NoDialer,
            format!(
                "the {} dialer of `{dep}` lacks {}: an admin must complete it",
                dialer.config.kind.spec().label,
                missing.join(", ")
            ),
        ));
    }
    // A stored secret that cannot work (a key that does not sign) is the
    // admin's to fix: refused before an attempt is recorded.
    if let Err(e) = dialer::validate_secrets(dialer.config.kind, &secrets) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::NoDialer,
            format!(
                "the {} dialer of `{dep}` cannot call: {e}; an admin must fix it",
                dialer.config.kind.spec().label
            ),
        ));
    }
    let agent = dialer::agent_endpoint(dialer.config.kind, &req.agent)?;
    let actor = who.actor();
    let new = NewAttempt {
        call_row_id: call.id,
        via: dialer.config.kind,
        agent: agent.clone(),
        customer: customer.clone(),
    };
    let (attempt, call, token) = state
        .store
        .write(move |w| callbacks::start(w, new, &actor))
        .await?;
    let base = state.base_url(&headers);
    let status_url = format!("{base}/dial/{token}/status");
    let answer_url = format!("{base}/dial/{token}/answer");
    let out = request::build(
        &dialer.config,
        &secrets,
        &Dial {
            agent: &agent,
            customer: &customer,
            status_url: &status_url,
            answer_url: &answer_url,
        },
        state.store.now(),
    );
    let kind = dialer.config.kind;
    let sent = match out {
        Ok(out) => place(&state.dialling, &state, &dep, out, kind).await,
        Err(e) => Err(e.to_string()),
    };
    let id = attempt.id;
    let failure = sent.as_ref().err().cloned();
    let attempt = state
        .store
        .write(move |w| callbacks::sent(w, id, sent))
        .await?;
    if let Some(why) = failure {
        tracing::warn!(department = %dep, attempt = id, error = %why, "call back refused by the platform");
        return Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            ErrorCode::PlatformError,
            why,
        ));
    }
    tracing::info!(department = %dep, attempt = id, via = kind.as_str(), "call back placed");
    Ok((StatusCode::CREATED, Json(CallbackStarted { attempt, call })))
}

/// Sends the request; `Ok(platform's call id)` or why it failed, in words
/// an agent can act on.
async fn place(
    dialling: &Dialling,
    state: &AppState,
    department: &str,
    out: request::Outbound,
    kind: DialerKind,
) -> Result<Option<String>, String> {
    let label = kind.spec().label;
    match dialling.send(department, state.store.clock(), &out).await {
        Ok(body) => request::accepted(kind, &body),
        Err(e) => Err(outbound::explain(label, "the call", &e)),
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(kinds))
        .routes(routes!(list))
        .routes(routes!(put, delete))
        .routes(routes!(call_back))
}
