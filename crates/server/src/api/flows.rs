//! IVR flows: CRUD, validation, publishing (immutable versions), rollback,
//! duplication, the simulator, the template, analytics; agents' phone
//! numbers and the `api` node allow-list. Admins edit and publish;
//! supervisors view; agents get 403.

use crate::auth::{Admin, Supervisor};
use crate::error::{ApiError, ApiResult, Json, OptionalJson, Query};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use callboard_core::ivr::exec::{self, ApiOutcome, CallState, IvrEvent, Visit};
use callboard_core::ivr::model::NodeKind;
use callboard_core::ivr::render::{self, Dialect, RenderCtx, Rendered};
use callboard_core::ivr::{validate, FlowError};
use callboard_core::store::ivr::{self, DbEnv, Flow, FlowAnalytics, FlowVersion};
use callboard_core::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FlowList {
    pub data: Vec<Flow>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValidationReport {
    pub errors: Vec<FlowError>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Published {
    pub version: i64,
    pub flow: Flow,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvalidFlow {
    pub error: crate::error::ErrorDetail,
    pub errors: Vec<FlowError>,
}

/// A flow: `{"name","entry","nodes":[{"id","type",…}]}` (docs/IVR.md).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(value_type = Object)]
pub struct FlowInput(pub Value);

#[utoipa::path(get, path = "/api/flows", tag = "flows", operation_id = "listFlows",
    responses((status = 200, body = FlowList), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = ["supervisor"])))]
pub async fn list(State(state): State<AppState>, _: Supervisor) -> ApiResult<Json<FlowList>> {
    let data = state.store.read(ivr::list).await?;
    Ok(Json(FlowList { data }))
}

#[utoipa::path(post, path = "/api/flows", tag = "flows", operation_id = "createFlow",
    request_body = FlowInput,
    responses((status = 201, description = "A draft (version 0); `errors` lists what blocks publishing", body = Flow),
        (status = 422, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn create(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Json(input): Json<Value>,
) -> ApiResult<(StatusCode, Json<Flow>)> {
    let actor = who.actor();
    let flow = state
        .store
        .write_keyed(key.0, move |w| ivr::create(w, &input, &actor))
        .await?;
    Ok((StatusCode::CREATED, Json(flow)))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    /// The department (provider slug) of the sales queue; default: the first provider.
    pub sales: Option<String>,
    /// The department of the support queue; default: the second provider, else the first.
    pub support: Option<String>,
    pub name: Option<String>,
}

#[utoipa::path(post, path = "/api/flows/template", tag = "flows", operation_id = "createTemplateFlow",
    description = "Creates the shipped \"Customer support\" flow as a draft in one click.",
    request_body(content = Option<TemplateInput>),
    responses((status = 201, body = Flow), (status = 403, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn template(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    OptionalJson(input): OptionalJson<TemplateInput>,
) -> ApiResult<(StatusCode, Json<Flow>)> {
    let input = input.unwrap_or_default();
    let actor = who.actor();
    let flow = state
        .store
        .write_keyed(key.0, move |w| {
            ivr::create_template(
                w,
                input.sales.as_deref(),
                input.support.as_deref(),
                input.name.as_deref(),
                &actor,
            )
        })
        .await?;
    Ok((StatusCode::CREATED, Json(flow)))
}

#[utoipa::path(get, path = "/api/flows/{id}", tag = "flows", operation_id = "getFlow",
    params(("id" = i64, Path)),
    responses((status = 200, body = Flow), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["supervisor"])))]
pub async fn get(
    State(state): State<AppState>,
    _: Supervisor,
    Path(id): Path<i64>,
) -> ApiResult<Json<Flow>> {
    Ok(Json(state.store.read(move |c| ivr::get(c, id)).await?))
}

#[utoipa::path(put, path = "/api/flows/{id}", tag = "flows", operation_id = "updateFlow",
    params(("id" = i64, Path)), request_body = FlowInput,
    responses((status = 200, description = "The saved draft with its validation errors", body = Flow),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn update(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(id): Path<i64>,
    Json(input): Json<Value>,
) -> ApiResult<Json<Flow>> {
    let actor = who.actor();
    Ok(Json(
        state
            .store
            .write_keyed(key.0, move |w| ivr::update(w, id, &input, &actor))
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/flows/{id}", tag = "flows", operation_id = "deleteFlow",
    params(("id" = i64, Path)),
    responses((status = 204), (status = 409, description = "A provider uses it, or calls are in it", body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn delete(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    let actor = who.actor();
    state
        .store
        .write_keyed(key.0, move |w| ivr::delete(w, id, &actor))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/flows/{id}/validate", tag = "flows", operation_id = "validateFlow",
    params(("id" = i64, Path)),
    description = "Validates the saved draft, or the flow in the body when one is sent (without saving it).",
    request_body(content = Option<FlowInput>),
    responses((status = 200, body = ValidationReport)), security(("bearer" = ["supervisor"])))]
pub async fn validate_flow(
    State(state): State<AppState>,
    _: Supervisor,
    Path(id): Path<i64>,
    OptionalJson(body): OptionalJson<Value>,
) -> ApiResult<Json<ValidationReport>> {
    let errors = state
        .store
        .read(move |c| {
            let flow = ivr::get(c, id)?;
            // A JSON `null` body is "no flow sent", as an absent body is.
            Ok(match body.filter(|v| !v.is_null()) {
                None => flow.errors,
                Some(v) => validate::validate(&v, &ivr::context(c)?).1,
            })
        })
        .await?;
    Ok(Json(ValidationReport { errors }))
}

fn invalid(errors: Vec<FlowError>) -> Response {
    let n = errors.len();
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        axum::Json(InvalidFlow {
            error: crate::error::ErrorDetail {
                code: ErrorCode::InvalidFlow,
                message: format!("the flow has {n} validation error(s); see `errors`"),
                current: None,
            },
            errors,
        }),
    )
        .into_response()
}

#[utoipa::path(post, path = "/api/flows/{id}/publish", tag = "flows", operation_id = "publishFlow",
    params(("id" = i64, Path)),
    responses((status = 200, body = Published),
        (status = 422, description = "The draft is invalid", body = InvalidFlow)),
    security(("bearer" = ["admin"])))]
pub async fn publish(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let actor = who.actor();
    let out = state
        .store
        .write_keyed(key.0, move |w| ivr::publish(w, id, &actor))
        .await?;
    Ok(match out {
        Ok(flow) => Json(Published {
            version: flow.version,
            flow,
        })
        .into_response(),
        Err(errors) => invalid(errors),
    })
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackInput {
    /// The version to publish again; default: the one before the newest.
    pub version: Option<i64>,
}

#[utoipa::path(post, path = "/api/flows/{id}/rollback", tag = "flows", operation_id = "rollbackFlow",
    params(("id" = i64, Path)), request_body(content = Option<RollbackInput>),
    responses((status = 200, description = "The older version, published again as the newest", body = Published),
        (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn rollback(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(id): Path<i64>,
    OptionalJson(input): OptionalJson<RollbackInput>,
) -> ApiResult<Json<Published>> {
    let actor = who.actor();
    let version = input.and_then(|i| i.version);
    let flow = state
        .store
        .write_keyed(key.0, move |w| ivr::rollback(w, id, version, &actor))
        .await?;
    Ok(Json(Published {
        version: flow.version,
        flow,
    }))
}

#[utoipa::path(post, path = "/api/flows/{id}/duplicate", tag = "flows", operation_id = "duplicateFlow",
    params(("id" = i64, Path)),
    responses((status = 201, body = Flow)), security(("bearer" = ["admin"])))]
pub async fn duplicate(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, Json<Flow>)> {
    let actor = who.actor();
    let flow = state
        .store
        .write_keyed(key.0, move |w| ivr::duplicate(w, id, &actor))
        .await?;
    Ok((StatusCode::CREATED, Json(flow)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VersionList {
    pub data: Vec<FlowVersion>,
}

#[utoipa::path(get, path = "/api/flows/{id}/versions", tag = "flows", operation_id = "listFlowVersions",
    params(("id" = i64, Path)),
    responses((status = 200, body = VersionList)), security(("bearer" = ["supervisor"])))]
pub async fn versions(
    State(state): State<AppState>,
    _: Supervisor,
    Path(id): Path<i64>,
) -> ApiResult<Json<VersionList>> {
    let data = state.store.read(move |c| ivr::versions(c, id)).await?;
    Ok(Json(VersionList { data }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateInput {
    /// exotel, twilio, kookoo, vonage, plivo or json; default json.
    pub dialect: Option<String>,
    pub caller: Option<String>,
    pub did: Option<String>,
    /// The moment of the test call (RFC 3339); default now.
    pub at: Option<String>,
    /// What the caller does, in order: keys (`"1"`, `"1234#"`), or
    /// `timeout`, `hangup`, `answer`, `no_answer`, `record`.
    #[serde(default)]
    pub inputs: Vec<String>,
    /// Answers for `api` nodes by node id (the simulator makes no requests:
    /// a node without one takes its error edge).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub api_responses: BTreeMap<String, Value>,
    /// Simulate a published version instead of the draft.
    pub version: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SimStep {
    /// The input that led here (`start` for the first).
    pub input: String,
    pub event: IvrEvent,
    /// Nodes visited, with the edge each was left by.
    pub visits: Vec<Visit>,
    /// The node waiting for the caller after this step.
    pub node: Option<String>,
    pub instruction: exec::Instruction,
    /// Exactly what the dialect would answer.
    pub rendered: Rendered,
    pub ended: bool,
    pub exit_reason: Option<String>,
    pub problem: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Simulation {
    pub dialect: Dialect,
    pub steps: Vec<SimStep>,
    pub vars: BTreeMap<String, String>,
}

fn sim_event(input: &str) -> ApiResult<IvrEvent> {
    let t = input.trim();
    Ok(match t.to_ascii_lowercase().as_str() {
        "timeout" | "silence" => IvrEvent::Timeout,
        "hangup" => IvrEvent::Hangup,
        "answer" | "answered" => IvrEvent::Dialed { answered: true },
        "no_answer" | "no-answer" => IvrEvent::Dialed { answered: false },
        "record" | "recorded" => IvrEvent::Recorded { url: None },
        _ if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '#') => {
            IvrEvent::Digits {
                digits: t.to_string(),
            }
        }
        _ => {
            return Err(ApiError::invalid(format!(
                "input `{input}` is not keys (0-9, *, #) nor timeout, hangup, answer, no_answer, record"
            )))
        }
    })
}

#[utoipa::path(post, path = "/api/flows/{id}/simulate", tag = "flows", operation_id = "simulateFlow",
    params(("id" = i64, Path)), request_body = SimulateInput,
    responses((status = 200, body = Simulation),
        (status = 422, description = "The draft does not parse, or an input is unknown", body = InvalidFlow)),
    security(("bearer" = ["supervisor"])))]
pub async fn simulate(
    State(state): State<AppState>,
    _: Supervisor,
    Path(id): Path<i64>,
    Json(input): Json<SimulateInput>,
) -> ApiResult<Response> {
    let dialect = match input.dialect.as_deref() {
        None => Dialect::Json,
        Some(d) => Dialect::parse(d).ok_or_else(|| {
            ApiError::invalid(format!(
                "dialect `{d}` is not one of exotel, twilio, kookoo, vonage, plivo, json"
            ))
        })?,
    };
    let at = match input.at.as_deref() {
        Some(s) => super::timestamp(s, "at")?,
        None => state.store.now(),
    };
    if input.inputs.len() > 100 {
        return Err(ApiError::invalid("at most 100 inputs"));
    }
    let mut events = vec![("start".to_string(), IvrEvent::Start)];
    for i in &input.inputs {
        events.push((i.clone(), sim_event(i)?));
    }
    let api: BTreeMap<String, ApiOutcome> = input
        .api_responses
        .into_iter()
        .map(|(k, body)| (k, ApiOutcome::Ok { body }))
        .collect();
    let providers = state.store.providers().clone();
    let caller = input.caller.clone();
    let did = input.did.clone();
    let version = input.version;
    let out = state
        .store
        .read(move |c| {
            let def = match version {
                Some(v) => Ok((*ivr::version_def(c, id, v)?).clone()),
                None => {
                    let flow = ivr::get(c, id)?;
                    let raw = serde_json::json!({"name": flow.name, "entry": flow.entry, "nodes": flow.nodes});
                    let (def, errors) = validate::validate(&raw, &Default::default());
                    let structural: Vec<FlowError> = errors
                        .into_iter()
                        .filter(|e| {
                            matches!(
                                e.code.as_str(),
                                "invalid_flow" | "invalid_node" | "unknown_type" | "unknown_field" | "missing_entry"
                            )
                        })
                        .collect();
                    match def {
                        Some(d) if structural.is_empty() => Ok(d),
                        _ => Err(structural),
                    }
                }
            };
            let def = match def {
                Ok(d) => d,
                Err(errors) => return Ok(Err(errors)),
            };
            let mut api = api;
            let mut state = CallState {
                caller,
                did,
                ..CallState::default()
            };
            let mut steps = Vec::new();
            for (input, event) in events {
                // api nodes without a given answer take their error edge.
                let mut s;
                loop {
                    let env = DbEnv {
                        conn: c,
                        providers: &providers,
                        now: at,
                        api: &api,
                        // The simulated call is in no queue itself.
                        call_id: "",
                    };
                    s = exec::step(&def, &state, &event, &env);
                    match &s.needs_api {
                        Some(req) => {
                            api.insert(
                                req.node.clone(),
                                ApiOutcome::Failed {
                                    error: "the simulator makes no requests: give api_responses".into(),
                                },
                            );
                        }
                        None => break,
                    }
                }
                // A Twilio queue with music waits in <Enqueue> when the
                // department it rings has a Twilio dialer (the department
                // stands in for the provider that will receive the call:
                // usually the same one).
                let twilio_enqueue = dialect == Dialect::Twilio
                    && s.state.node.as_deref().and_then(|n| def.node(n)).is_some_and(|n| {
                        matches!(&n.kind, NodeKind::Queue { department, .. }
                            if ivr::twilio_dialer(c, department).unwrap_or(false))
                    });
                let ctx = RenderCtx {
                    action_url: format!("https://callboard.example/ivr/sim?s={}", s.state.step),
                    call_id: "SIMULATED".into(),
                    twilio_enqueue,
                };
                let rendered = render::render(dialect, &s.instruction, &ctx);
                let ended = s.state.ended;
                steps.push(SimStep {
                    input,
                    event,
                    visits: s.visits,
                    node: s.state.node.clone(),
                    instruction: s.instruction,
                    rendered,
                    ended,
                    exit_reason: s.state.exit_reason.clone(),
                    problem: s.problem,
                });
                state = s.state;
                if ended {
                    break;
                }
            }
            Ok(Ok(Simulation {
                dialect,
                steps,
                vars: state.vars,
            }))
        })
        .await?;
    Ok(match out {
        Ok(sim) => Json(sim).into_response(),
        Err(errors) => invalid(errors),
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsParams {
    /// From (RFC 3339, inclusive).
    pub from: Option<String>,
    /// To (RFC 3339, exclusive).
    pub to: Option<String>,
}

#[utoipa::path(get, path = "/api/flows/{id}/analytics", tag = "flows", operation_id = "flowAnalytics",
    params(("id" = i64, Path), AnalyticsParams),
    responses((status = 200, body = FlowAnalytics)), security(("bearer" = ["supervisor"])))]
pub async fn analytics(
    State(state): State<AppState>,
    _: Supervisor,
    Path(id): Path<i64>,
    Query(p): Query<AnalyticsParams>,
) -> ApiResult<Json<FlowAnalytics>> {
    let from = super::timestamp_param(p.from, "from")?;
    let to = super::timestamp_param(p.to, "to")?;
    Ok(Json(
        state
            .store
            .read(move |c| ivr::analytics(c, id, from.as_deref(), to.as_deref()))
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IvrSettings {
    /// Hosts `api` nodes may reach although they resolve to private or
    /// loopback addresses.
    pub api_allow_hosts: Vec<String>,
}

#[utoipa::path(get, path = "/api/ivr/settings", tag = "flows", operation_id = "getIvrSettings",
    responses((status = 200, body = IvrSettings)), security(("bearer" = ["supervisor"])))]
pub async fn get_settings(
    State(state): State<AppState>,
    _: Supervisor,
) -> ApiResult<Json<IvrSettings>> {
    let api_allow_hosts = state.store.read(ivr::api_allow_hosts).await?;
    Ok(Json(IvrSettings { api_allow_hosts }))
}

#[utoipa::path(put, path = "/api/ivr/settings", tag = "flows", operation_id = "putIvrSettings",
    request_body = IvrSettings,
    responses((status = 200, body = IvrSettings)), security(("bearer" = ["admin"])))]
pub async fn put_settings(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Json(input): Json<IvrSettings>,
) -> ApiResult<Json<IvrSettings>> {
    let actor = who.actor();
    let api_allow_hosts = state
        .store
        .write_keyed(key.0, move |w| {
            ivr::set_api_allow_hosts(w, &input.api_allow_hosts, &actor)
        })
        .await?;
    Ok(Json(IvrSettings { api_allow_hosts }))
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentPhone {
    /// The number queue and transfer nodes ring; null clears it.
    pub phone: Option<String>,
}

#[utoipa::path(put, path = "/api/users/{id}/phone", tag = "flows", operation_id = "setAgentPhone",
    params(("id" = i64, Path)), request_body = AgentPhone,
    responses((status = 200, body = AgentPhone), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn set_phone(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(id): Path<i64>,
    Json(input): Json<AgentPhone>,
) -> ApiResult<Json<AgentPhone>> {
    let actor = who.actor();
    let phone = input.phone.clone();
    state
        .store
        .write_keyed(key.0, move |w| {
            ivr::set_phone(w, id, phone.as_deref(), &actor)
        })
        .await?;
    let phone = state.store.read(move |c| ivr::phone(c, id)).await?;
    Ok(Json(AgentPhone { phone }))
}

#[utoipa::path(get, path = "/api/users/{id}/phone", tag = "flows", operation_id = "getAgentPhone",
    params(("id" = i64, Path)),
    responses((status = 200, body = AgentPhone)), security(("bearer" = ["supervisor"])))]
pub async fn get_phone(
    State(state): State<AppState>,
    _: Supervisor,
    Path(id): Path<i64>,
) -> ApiResult<Json<AgentPhone>> {
    let phone = state.store.read(move |c| ivr::phone(c, id)).await?;
    Ok(Json(AgentPhone { phone }))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(template))
        .routes(routes!(get, update, delete))
        .routes(routes!(validate_flow))
        .routes(routes!(publish))
        .routes(routes!(rollback))
        .routes(routes!(duplicate))
        .routes(routes!(versions))
        .routes(routes!(simulate))
        .routes(routes!(analytics))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(get_phone, set_phone))
}
