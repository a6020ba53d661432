//! Providers ("masters"): CRUD, keys, the ingestion log, replay and previews.

use crate::auth::{Admin, Principal};
use crate::error::{ApiError, ApiResult, Json, OptionalJson, Query};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use callboard_core::mapping::{MapContext, MapOutcome, Mapping};
use callboard_core::signature::AuthScheme;
use callboard_core::store::ingest::{self, DeliveryQuery, RawEvent, ReplayReport};
use callboard_core::store::providers::{self, NewProvider, Provider, ProviderPatch};
use callboard_core::store::workflow;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProviderView {
    #[serde(flatten)]
    pub provider: Provider,
    /// Where the platform must POST its events.
    pub webhook_url: String,
    /// The IVR URL (`/ivr/{slug}`) the platform calls when Callboard runs
    /// the department's flow.
    pub ivr_url: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProviderCreated {
    #[serde(flatten)]
    pub provider: Provider,
    pub webhook_url: String,
    /// Shown this once: store it in the platform's webhook settings.
    pub api_key: String,
    /// The signing secret for signature schemes (HMAC, JWT), shown this
    /// once; absent for key schemes and for Twilio (paste its auth token).
    pub signing_secret: Option<String>,
    /// The secret the platform needs, whichever it is (the API key or the
    /// signing secret); shown this once.
    pub secret: Option<String>,
    /// The URL to paste into the platform, with the token in it for
    /// query-token schemes, or Cloudonix's session-update URL.
    pub platform_url: String,
    /// The IVR URL to paste into the platform's call-flow (answer) URL, with
    /// the token for query-token schemes.
    pub ivr_url: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProviderList {
    pub data: Vec<ProviderView>,
}

/// The provider as `who` may see it: the key hint is for admins only.
fn view(state: &AppState, headers: &HeaderMap, who: &Principal, p: Provider) -> ProviderView {
    let p = if who.is_admin() {
        p
    } else {
        Provider {
            api_key_hint: None,
            ..p
        }
    };
    let webhook_url = state.webhook_url(headers, &p.slug);
    let ivr_url = format!("{}/ivr/{}", state.base_url(headers), p.slug);
    ProviderView {
        provider: p,
        webhook_url,
        ivr_url,
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Include deactivated providers (admins only).
    pub include_inactive: Option<bool>,
}

#[utoipa::path(get, path = "/api/providers", operation_id = "listProviders", tag = "providers", params(ListParams),
    responses((status = 200, body = ProviderList)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<ProviderList>> {
    let all = p.include_inactive.unwrap_or(false) && who.is_admin();
    let rows = state.store.read(move |c| providers::list(c, all)).await?;
    let data = rows
        .into_iter()
        .filter(|p| who.can_see(&p.slug))
        .map(|p| view(&state, &headers, &who, p))
        .collect();
    Ok(Json(ProviderList { data }))
}

#[utoipa::path(post, path = "/api/providers", operation_id = "createProvider", tag = "providers", request_body = NewProvider,
    responses((status = 201, body = ProviderCreated), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)), security(("bearer" = ["admin"])))]
pub async fn create(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    headers: HeaderMap,
    Json(input): Json<NewProvider>,
) -> ApiResult<(StatusCode, Json<ProviderCreated>)> {
    let actor = who.actor();
    let created = state
        .store
        .write_keyed(key.0, move |w| providers::create(w, input, &actor))
        .await?;
    let p = created.provider;
    let webhook_url = state.webhook_url(&headers, &p.slug);
    let scheme = AuthScheme::from_config(&p.auth_config).unwrap_or_default();
    let session_update = p
        .preset
        .as_deref()
        .and_then(callboard_core::presets::get)
        .is_some_and(|pr| pr.route == "session_update");
    let url = if session_update {
        state.base_url(&headers) + "/api/session/update"
    } else {
        webhook_url.clone()
    };
    let platform_url = match &scheme {
        AuthScheme::QueryToken { param } => format!("{url}?{param}={}", created.api_key),
        _ => url,
    };
    let ivr_base = format!("{}/ivr/{}", state.base_url(&headers), p.slug);
    let ivr_url = match &scheme {
        AuthScheme::QueryToken { param } => format!("{ivr_base}?{param}={}", created.api_key),
        _ => ivr_base,
    };
    let secret = if scheme.uses_signing_secret() {
        created.signing_secret.clone()
    } else {
        Some(created.api_key.clone())
    };
    Ok((
        StatusCode::CREATED,
        Json(ProviderCreated {
            provider: p,
            webhook_url,
            api_key: created.api_key,
            signing_secret: created.signing_secret,
            secret,
            platform_url,
            ivr_url,
        }),
    ))
}

#[utoipa::path(get, path = "/api/providers/{slug}", operation_id = "getProvider", tag = "providers",
    params(("slug" = String, Path)), responses((status = 200, body = ProviderView),
        (status = 404, body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> ApiResult<Json<ProviderView>> {
    who.check_department(&slug)?;
    let p = state.store.read(move |c| providers::get(c, &slug)).await?;
    Ok(Json(view(&state, &headers, &who, p)))
}

#[utoipa::path(patch, path = "/api/providers/{slug}", operation_id = "updateProvider", tag = "providers",
    params(("slug" = String, Path)), request_body = ProviderPatch,
    responses((status = 200, body = ProviderView), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn update(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Json(patch): Json<ProviderPatch>,
) -> ApiResult<Json<ProviderView>> {
    let actor = who.actor();
    let p = state
        .store
        .write_keyed(key.0, move |w| {
            workflow::providers::update(w, &slug, patch, &actor)
        })
        .await?;
    Ok(Json(view(&state, &headers, &who, p)))
}

async fn set_active(
    state: AppState,
    key: IdempotencyKey,
    Admin(who): Admin,
    headers: HeaderMap,
    slug: String,
    active: bool,
) -> ApiResult<Json<ProviderView>> {
    let actor = who.actor();
    let p = state
        .store
        .write_keyed(key.0, move |w| {
            providers::set_active(w, &slug, active, &actor)
        })
        .await?;
    Ok(Json(view(&state, &headers, &who, p)))
}

#[utoipa::path(delete, path = "/api/providers/{slug}", operation_id = "deactivateProvider", tag = "providers",
    description = "Deactivates the provider (soft): its webhook answers 404, its calls stay.",
    params(("slug" = String, Path)), responses((status = 200, body = ProviderView)),
    security(("bearer" = ["admin"])))]
pub async fn deactivate(
    State(state): State<AppState>,
    key: IdempotencyKey,
    who: Admin,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> ApiResult<Json<ProviderView>> {
    set_active(state, key, who, headers, slug, false).await
}

#[utoipa::path(post, path = "/api/providers/{slug}/activate", operation_id = "activateProvider", tag = "providers",
    params(("slug" = String, Path)), responses((status = 200, body = ProviderView)),
    security(("bearer" = ["admin"])))]
pub async fn activate(
    State(state): State<AppState>,
    key: IdempotencyKey,
    who: Admin,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> ApiResult<Json<ProviderView>> {
    set_active(state, key, who, headers, slug, true).await
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// Seconds the old key keeps working (default 0: it dies at once).
    #[serde(default)]
    pub grace_seconds: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RotateResponse {
    /// The new key, shown this once.
    pub api_key: String,
    pub previous_key_expires_at: Option<String>,
    pub provider: ProviderView,
}

#[utoipa::path(post, path = "/api/providers/{slug}/rotate-key", operation_id = "rotateProviderKey", tag = "providers",
    params(("slug" = String, Path)), request_body(content = Option<RotateRequest>),
    responses((status = 200, body = RotateResponse)), security(("bearer" = ["admin"])))]
pub async fn rotate_key(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    headers: HeaderMap,
    Path(slug): Path<String>,
    OptionalJson(body): OptionalJson<RotateRequest>,
) -> ApiResult<Json<RotateResponse>> {
    let grace = body.map(|b| b.grace_seconds).unwrap_or(0);
    let actor = who.actor();
    let (p, api_key) = state
        .store
        .write_keyed(key.0, move |w| {
            providers::rotate_key(w, &slug, grace, &actor)
        })
        .await?;
    Ok(Json(RotateResponse {
        api_key,
        previous_key_expires_at: p.previous_key_expires_at.clone(),
        provider: view(&state, &headers, &who, p),
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryParams {
    /// applied, duplicate, mapping_failed or rejected.
    pub outcome: Option<String>,
    /// Page backwards: deliveries with a smaller id.
    pub before: Option<i64>,
    /// 1-500, default 100.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    pub data: Vec<RawEvent>,
}

#[utoipa::path(get, path = "/api/providers/{slug}/deliveries", operation_id = "listDeliveries", tag = "providers",
    description = "The ingestion log: recent deliveries with their outcome and error, newest first.",
    params(("slug" = String, Path), DeliveryParams), responses((status = 200, body = DeliveryList)),
    security(("bearer" = ["admin"])))]
pub async fn deliveries(
    State(state): State<AppState>,
    _: Admin,
    Path(slug): Path<String>,
    Query(p): Query<DeliveryParams>,
) -> ApiResult<Json<DeliveryList>> {
    let q = DeliveryQuery {
        outcome: p.outcome,
        before_id: p.before,
        limit: p.limit.unwrap_or(100),
    };
    let data = state
        .store
        .read(move |c| {
            let prov = providers::get(c, &slug)?;
            ingest::deliveries(c, prov.id, &q)
        })
        .await?;
    Ok(Json(DeliveryList { data }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Only deliveries received at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Only deliveries received before this time (RFC 3339).
    pub to: Option<String>,
}

#[utoipa::path(post, path = "/api/providers/{slug}/replay", operation_id = "replayDeliveries", tag = "providers",
    description = "Maps the provider's failed deliveries again with its current mapping.",
    params(("slug" = String, Path)), request_body(content = Option<ReplayRequest>),
    responses((status = 200, body = ReplayReport)), security(("bearer" = ["admin"])))]
pub async fn replay(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(slug): Path<String>,
    OptionalJson(body): OptionalJson<ReplayRequest>,
) -> ApiResult<Json<ReplayReport>> {
    let req = body.unwrap_or_default();
    let from = super::timestamp_param(req.from, "from")?;
    let to = super::timestamp_param(req.to, "to")?;
    let actor = who.actor();
    let report = state
        .store
        .write_keyed(key.0, move |w| {
            ingest::replay(w, &slug, from.as_deref(), to.as_deref(), &actor)
        })
        .await?;
    Ok(Json(report))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// Draft mapping; defaults to the provider's saved one.
    #[schema(value_type = Option<Object>)]
    pub field_mapping: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub status_map: Option<Value>,
    /// Sample payload; defaults to the provider's last received one.
    pub sample: Option<Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreviewResponse {
    /// The call the sample maps to (nothing is stored).
    #[schema(value_type = Object)]
    pub call: Value,
    pub event_id: Option<String>,
    pub event_at: Option<String>,
    pub warnings: Vec<String>,
    /// Why the sample would be stored as a failed delivery, if it would.
    pub error: Option<String>,
    pub unknown_status: bool,
    /// The sample that was used.
    pub sample: Value,
}

fn preview_of(outcome: MapOutcome, sample: Value) -> PreviewResponse {
    PreviewResponse {
        call: serde_json::to_value(&outcome.call).unwrap_or(Value::Null),
        event_id: outcome.event_id,
        event_at: outcome.event_at.map(callboard_core::time::fmt),
        warnings: outcome.warnings,
        error: outcome.error,
        unknown_status: outcome.unknown_status,
        sample,
    }
}

fn run_preview(
    slug: &str,
    fm: &Value,
    sm: &Value,
    sample: Value,
    now: callboard_core::time::Timestamp,
) -> ApiResult<PreviewResponse> {
    let mapping = Mapping::compile(fm, sm).map_err(|e| ApiError::invalid(e.to_string()))?;
    let outcome = mapping.apply(
        &sample,
        &MapContext {
            slug,
            received_at: now,
        },
    );
    Ok(preview_of(outcome, sample))
}

#[utoipa::path(post, path = "/api/providers/{slug}/preview", operation_id = "previewProvider", tag = "providers",
    description = "Runs a draft mapping over a sample (or the last received payload); stores nothing.",
    params(("slug" = String, Path)), request_body = PreviewRequest,
    responses((status = 200, body = PreviewResponse), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn preview(
    State(state): State<AppState>,
    _: Admin,
    Path(slug): Path<String>,
    Json(req): Json<PreviewRequest>,
) -> ApiResult<Json<PreviewResponse>> {
    let s = slug.clone();
    let (prov, last) = state
        .store
        .read(move |c| {
            let p = providers::get(c, &s)?;
            let last = ingest::last_payload(c, p.id)?;
            Ok((p, last))
        })
        .await?;
    let sample =
        match req.sample.or(last) {
            Some(s) => s,
            None => return Err(ApiError::invalid(
                "no sample given and this provider has not received anything yet: paste a sample",
            )),
        };
    let fm = req.field_mapping.unwrap_or(prov.field_mapping);
    let sm = req.status_map.unwrap_or(prov.status_map);
    Ok(Json(run_preview(
        &slug,
        &fm,
        &sm,
        sample,
        state.store.now(),
    )?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftPreviewRequest {
    #[schema(value_type = Object)]
    pub field_mapping: Value,
    #[schema(value_type = Option<Object>)]
    pub status_map: Option<Value>,
    pub sample: Value,
    /// Used for generated call ids; default `draft`.
    pub slug: Option<String>,
}

#[utoipa::path(post, path = "/api/mapping/preview", operation_id = "previewMapping", tag = "providers",
    description = "Previews a mapping for a provider not saved yet.",
    request_body = DraftPreviewRequest,
    responses((status = 200, body = PreviewResponse), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn draft_preview(
    State(state): State<AppState>,
    _: Admin,
    Json(req): Json<DraftPreviewRequest>,
) -> ApiResult<Json<PreviewResponse>> {
    let slug = req.slug.unwrap_or_else(|| "draft".into());
    let sm = req.status_map.unwrap_or(Value::Null);
    Ok(Json(run_preview(
        &slug,
        &req.field_mapping,
        &sm,
        req.sample,
        state.store.now(),
    )?))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, deactivate))
        .routes(routes!(activate))
        .routes(routes!(rotate_key))
        .routes(routes!(deliveries))
        .routes(routes!(replay))
        .routes(routes!(preview))
        .routes(routes!(draft_preview))
}
