//! `GET|POST /ivr/{slug}` (and `/ivr/{slug}/status`): the platform asks what
//! to do next; Callboard authenticates it like a webhook, reads the request
//! into a neutral event, runs one step of the department's flow inside the
//! writer transaction, and answers in the provider's dialect. Never a 5xx
//! and never silence: any failure answers the node's error edge or a polite
//! goodbye, and the cause is logged with the request id. An unreadable
//! request gets a 400 JSON error, as webhooks do.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use callboard_core::ivr::exec::{ApiOutcome, ApiRequest};
use callboard_core::ivr::render::{plivo, twiml, with_params, Rendered, MUSIC_PARAM};
use callboard_core::ivr::request;
use callboard_core::signature::{self, AuthScheme, SignedRequest};
use callboard_core::store::ivr::{self as store_ivr, StepInput, StepOutput};
use callboard_core::store::providers::ProviderRuntime;
use callboard_core::ErrorCode;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest `api` node answer read.
pub const API_MAX_BYTES: usize = 64 * 1024;
/// Longest an `api` node may wait.
pub const API_MAX_TIMEOUT_MS: u32 = 3000;

/// The query parameters Callboard writes into the URLs it gives the
/// platform (read from the raw query; this type documents them).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct IvrQuery {
    /// The step the action URL was made for (a stale one gets the current answer).
    s: Option<u64>,
    /// Hold music (an http(s) audio URL): with Plivo, the `<Dial dialMusic>`
    /// request, answered with the looped audio; with Twilio, the
    /// `<Enqueue waitUrl>`'s music.
    music: Option<String>,
    /// Twilio `<Enqueue waitUrl>`: the seconds after which the caller leaves
    /// the queue (the queue node's slice); answered with the music, or
    /// `<Leave/>` once `QueueTime` reaches it.
    cb_wait: Option<u32>,
    /// Twilio `<Queue url>`: an agent's call (`DequeingCallSid`) is taking
    /// the caller; the other agents' calls are cancelled.
    cb_bridge: Option<String>,
}

#[utoipa::path(get, path = "/ivr/{slug}", tag = "ivr", operation_id = "ivrGet",
    params(("slug" = String, Path, description = "The provider's slug"), IvrQuery),
    responses(
        (status = 200, description = "The next instruction in the provider's dialect (XML or JSON)", content_type = "application/xml"),
        (status = 400, description = "The request cannot be read", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or wrong key or signature (the provider's scheme)", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown or inactive provider", body = crate::error::ErrorBody),
    ),
    security(("api_key" = [])))]
pub async fn ivr_get(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    req: Request,
) -> Response {
    handle(state, slug, req, false).await
}

#[utoipa::path(post, path = "/ivr/{slug}", tag = "ivr", operation_id = "ivrPost",
    params(("slug" = String, Path, description = "The provider's slug"), IvrQuery),
    request_body(content = Object, description = "The platform's request: form, JSON or query", content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The next instruction in the provider's dialect (XML or JSON)", content_type = "application/xml"),
        (status = 400, description = "The request cannot be read", body = crate::error::ErrorBody),
        (status = 401, description = "Missing or wrong key or signature", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown or inactive provider", body = crate::error::ErrorBody),
    ),
    security(("api_key" = [])))]
pub async fn ivr_post(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    req: Request,
) -> Response {
    handle(state, slug, req, false).await
}

#[utoipa::path(get, path = "/ivr/{slug}/status", tag = "ivr", operation_id = "ivrStatusGet",
    params(("slug" = String, Path)),
    responses((status = 200, description = "Recorded (a hang-up ends the call's IVR state)")),
    security(("api_key" = [])))]
pub async fn ivr_status_get(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    req: Request,
) -> Response {
    handle(state, slug, req, true).await
}

#[utoipa::path(post, path = "/ivr/{slug}/status", tag = "ivr", operation_id = "ivrStatusPost",
    params(("slug" = String, Path)),
    responses((status = 200, description = "Recorded (a hang-up ends the call's IVR state)")),
    security(("api_key" = [])))]
pub async fn ivr_status_post(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    req: Request,
) -> Response {
    handle(state, slug, req, true).await
}

fn header_str(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn answer(r: Rendered) -> Response {
    let mut res = (StatusCode::OK, r.body).into_response();
    if let Ok(v) = HeaderValue::from_str(&r.content_type) {
        res.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    res
}

/// The token parameter of a query-token provider, as sent (`token=…`):
/// the only part of the query our action URLs keep.
fn token_param(query: Option<&str>, param: &str) -> Option<String> {
    query?
        .split('&')
        .find(|kv| kv.split('=').next() == Some(param))
        .map(str::to_string)
}

/// One query parameter's value, decoded.
fn query_text(query: Option<&str>, param: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query?)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == param)
        .map(|(_, v)| v)
}

async fn handle(state: AppState, slug: String, req: Request, status: bool) -> Response {
    match run(state, slug, req, status).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn run(state: AppState, slug: String, req: Request, status: bool) -> ApiResult<Response> {
    let provider: Arc<ProviderRuntime> = match state.store.providers().get(&slug) {
        Some(p) if p.active => p,
        _ => {
            return Err(ApiError::not_found(format!(
                "no active provider `{slug}`: check the IVR URL"
            )))
        }
    };
    let (parts, body) = req.into_parts();
    let rid = header_str(&parts.headers, "x-request-id");
    let ctype = header_str(&parts.headers, header::CONTENT_TYPE.as_str());
    let base = state.base_url(&parts.headers);
    let url = match parts.uri.query() {
        Some(q) => format!("{base}{}?{q}", parts.uri.path()),
        None => format!("{base}{}", parts.uri.path()),
    };
    let bytes: Bytes = crate::webhooks::read_body(
        body,
        &parts.headers,
        state.config.max_body_bytes,
        state.config.limits.body_timeout,
    )
    .await?;
    let headers = parts.headers.clone();
    let lookup = move |name: &str| header_str(&headers, name);
    let verified = provider
        .verify(&SignedRequest {
            method: parts.method.as_str(),
            url: &url,
            query: parts.uri.query(),
            content_type: ctype.as_deref(),
            body: &bytes,
            header: &lookup,
            now: state.store.now(),
        })
        .map_err(|r| {
            tracing::warn!(provider = %slug, request_id = rid.as_deref().unwrap_or("-"), code = r.code.as_str(), "IVR request refused");
            ApiError::unauthorized(r.code, r.message)
        })?;
    let query = match &verified.strip_query_param {
        Some(p) => signature::strip_query_param(parts.uri.query(), p),
        None => parts.uri.query().map(str::to_string),
    };
    // Plivo fetches a queue's hold music from the URL its `<Dial dialMusic>`
    // names: answered here, the call's place in the flow untouched.
    if provider.ivr_dialect == callboard_core::ivr::Dialect::Plivo
        && query_text(query.as_deref(), MUSIC_PARAM).is_some()
    {
        return Ok(answer(plivo::hold_music(&music_url(query.as_deref())?)));
    }
    let (bytes, ctype) = match verified.body {
        Some(claims) => (Bytes::from(claims), Some("application/json".to_string())),
        None => (bytes, ctype),
    };
    let fields = callboard_core::body::normalize(ctype.as_deref(), &bytes, query.as_deref())
        .map_err(|e| ApiError::bad_request(ErrorCode::MalformedBody, e.to_string()))?;
    let dialect = provider.ivr_dialect;
    // Twilio's `<Enqueue>` asks what the caller hears while waiting, and
    // tells us when an agent dequeues them: answered here, the call's
    // place in the flow untouched.
    if dialect == callboard_core::ivr::Dialect::Twilio {
        if let Some(r) =
            twilio_queue(&state, &provider, query.as_deref(), &fields, rid.as_deref()).await?
        {
            return Ok(answer(r));
        }
    }
    let ivr_req = request::parse(dialect, &fields, status)
        .map_err(|e| ApiError::bad_request(ErrorCode::UnreadableIvrRequest, e.to_string()))?;

    // Where the platform calls back: this URL (its token kept), no markers.
    let path = format!("/ivr/{slug}");
    let action_base = match &provider.auth {
        AuthScheme::QueryToken { param } => match token_param(parts.uri.query(), param) {
            Some(t) => format!("{base}{path}?{t}"),
            None => format!("{base}{path}"),
        },
        _ => format!("{base}{path}"),
    };
    let fingerprint = callboard_core::store::ingest::body_hash(
        format!(
            "{}\n{}\n{}",
            parts.uri.path(),
            query.as_deref().unwrap_or(""),
            String::from_utf8_lossy(&bytes)
        )
        .as_bytes(),
    );
    let call_id = ivr_req.call_id.clone();
    let mut input = StepInput {
        provider_id: provider.id,
        slug: slug.clone(),
        sla_minutes: provider.sla_minutes,
        flow_id: provider.flow_id,
        dialect,
        request: ivr_req,
        fingerprint,
        request_id: rid.clone(),
        action_base: action_base.clone(),
        api: BTreeMap::new(),
    };
    let rid_log = rid.clone().unwrap_or_else(|| "-".into());
    for _ in 0..8 {
        let job = input.clone();
        match state
            .store
            .write(move |w| store_ivr::run_step(w, job))
            .await
        {
            Ok(StepOutput::Answer {
                rendered,
                duplicate,
                problem,
                sms,
                queue_legs,
                cancel_legs,
                ..
            }) => {
                state.queue_legs.cancel(&state, &slug, cancel_legs);
                if let Some(legs) = queue_legs {
                    ring(&state, &slug, &call_id, legs, &action_base, &rid_log);
                }
                if let Some(p) = problem {
                    tracing::warn!(provider = %slug, call_id = %call_id, request_id = %rid_log, problem = %p, "IVR step had a problem");
                }
                if duplicate {
                    tracing::info!(provider = %slug, call_id = %call_id, request_id = %rid_log, "repeated IVR request: the earlier answer is sent again");
                }
                for n in sms {
                    // A text that cannot go is the department's setup, not
                    // the caller's problem: the call goes on, and the
                    // operator learns why from this line and the step log.
                    if n.code.starts_with("sms_not_sent") {
                        tracing::warn!(provider = %slug, call_id = %call_id, request_id = %rid_log, node = %n.node, to = %n.to, reason = n.code, "IVR sms not sent");
                    } else {
                        tracing::info!(provider = %slug, call_id = %call_id, request_id = %rid_log, node = %n.node, outcome = n.code, "IVR sms");
                    }
                }
                return Ok(answer(rendered));
            }
            Ok(StepOutput::NeedsApi(api)) => {
                let node = api.node.clone();
                let outcome = call_api(&state, &api).await;
                if let ApiOutcome::Failed { error } = &outcome {
                    tracing::warn!(provider = %slug, call_id = %call_id, request_id = %rid_log, node = %node, %error, "IVR api node failed");
                }
                input.api.insert(node, outcome);
            }
            Err(e) => {
                tracing::error!(provider = %slug, call_id = %call_id, request_id = %rid_log, error = %e, "IVR step failed: answering a goodbye");
                return Ok(answer(store_ivr::goodbye(dialect, &call_id, &action_base)));
            }
        }
    }
    tracing::error!(provider = %slug, call_id = %call_id, request_id = %rid_log, "IVR step asked for too many api requests: answering a goodbye");
    Ok(answer(store_ivr::goodbye(dialect, &call_id, &action_base)))
}

/// The hold music a platform asks for (`music=`): an http(s) URL, or a 400.
fn music_url(query: Option<&str>) -> ApiResult<String> {
    let music = query_text(query, MUSIC_PARAM).unwrap_or_default();
    if music.starts_with("https://") || music.starts_with("http://") {
        Ok(music)
    } else {
        Err(ApiError::bad_request(
            ErrorCode::Invalid,
            "`music` is not an http(s) URL",
        ))
    }
}

/// The wait and bridge URLs of a Twilio queue (`None`: an ordinary step).
async fn twilio_queue(
    state: &AppState,
    provider: &ProviderRuntime,
    query: Option<&str>,
    fields: &serde_json::Value,
    rid: Option<&str>,
) -> ApiResult<Option<Rendered>> {
    let field = |k: &str| request::field(fields, k);
    if let Some(leave_after) = query_text(query, twiml::WAIT_PARAM) {
        let leave_after: u32 = leave_after.parse().map_err(|_| {
            ApiError::bad_request(ErrorCode::Invalid, "`cb_wait` is not a number of seconds")
        })?;
        let music = music_url(query)?;
        // Twilio sends how long the caller has waited (`QueueTime`, with
        // every wait request); a request without it reads as just arrived.
        let waited = field("QueueTime")
            .and_then(|t| t.parse::<f64>().ok())
            .map_or(0, |t| t.max(0.0) as u32);
        return Ok(Some(twiml::queue_wait(&music, waited, leave_after)));
    }
    if query_text(query, twiml::BRIDGE_PARAM).is_some() {
        let Some(caller) = field("CallSid") else {
            return Err(ApiError::bad_request(
                ErrorCode::UnreadableIvrRequest,
                "the request has no `CallSid` (the call id)",
            ));
        };
        let agent = field("DequeingCallSid");
        let number =
            crate::queue_legs::bridged(state, &provider.slug, &caller, agent.as_deref()).await;
        tracing::info!(provider = %provider.slug, call_id = %caller, request_id = rid.unwrap_or("-"), agent_leg = agent.as_deref().unwrap_or("-"), agent = number.as_deref().unwrap_or("-"), "IVR queue: an agent takes the caller");
        return Ok(Some(twiml::queue_bridge()));
    }
    Ok(None)
}

/// After a step of a Twilio call that put the caller in `<Enqueue>`: ring
/// the queue's agents, in the background.
fn ring(
    state: &AppState,
    slug: &str,
    call_id: &str,
    legs: store_ivr::QueueLegs,
    action_base: &str,
    rid: &str,
) {
    let bridge_url = with_params(action_base, &[(twiml::BRIDGE_PARAM, "1")]);
    let (state, slug, call_id, rid) = (
        state.clone(),
        slug.to_string(),
        call_id.to_string(),
        rid.to_string(),
    );
    tokio::spawn(async move {
        let agents = legs.numbers.len();
        match state
            .queue_legs
            .ring(&state, &slug, &call_id, legs, &bridge_url)
            .await
        {
            Ok(rung) => {
                tracing::info!(provider = %slug, call_id = %call_id, request_id = %rid, rung, agents, "IVR queue: agents rung")
            }
            Err(why) => {
                tracing::warn!(provider = %slug, call_id = %call_id, request_id = %rid, reason = %why, "IVR queue: no agent rung; the caller hears the music until the slice ends")
            }
        }
    });
}

/// Whether an address is one an `api` node may not reach by default.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Makes an `api` node's request: at most 3 s, at most 64 KiB read, no
/// redirects, never to loopback/private ranges or the receiver itself unless
/// the admin's allow-list names the host.
pub async fn call_api(state: &AppState, api: &ApiRequest) -> ApiOutcome {
    let fail = |e: String| ApiOutcome::Failed { error: e };
    let url = match reqwest::Url::parse(&api.url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        Ok(u) => return fail(format!("scheme `{}` is not http(s)", u.scheme())),
        Err(e) => return fail(format!("bad url: {e}")),
    };
    let Some(host) = url
        .host_str()
        .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
    else {
        return fail("the url has no host".into());
    };
    let port = url.port_or_known_default().unwrap_or(80);
    let allow = state
        .store
        .read(store_ivr::api_allow_hosts)
        .await
        .unwrap_or_default();
    let allowed = allow.contains(&host);
    // The receiver's own API (its public URL) is refused like private ranges.
    if let Some(own) = state
        .config
        .public_url
        .as_deref()
        .and_then(|u| reqwest::Url::parse(u).ok())
    {
        if own.host_str().map(str::to_ascii_lowercase).as_deref() == Some(host.as_str())
            && own.port_or_known_default() == Some(port)
            && !allowed
        {
            return fail("the url points at this receiver's own API".into());
        }
    }
    let timeout = Duration::from_millis(u64::from(api.timeout_ms.clamp(1, API_MAX_TIMEOUT_MS)));
    let work = async {
        let addrs: Vec<SocketAddr> = match tokio::net::lookup_host((host.as_str(), port)).await {
            Ok(a) => a.collect(),
            Err(e) => return fail(format!("cannot resolve `{host}`: {e}")),
        };
        let Some(first) = addrs.first().copied() else {
            return fail(format!("`{host}` has no address"));
        };
        if !allowed {
            if let Some(bad) = addrs.iter().find(|a| is_private(a.ip())) {
                return fail(format!(
                    "`{host}` resolves to {} (private or loopback): an admin must allow the host (PUT /api/ivr/settings)",
                    bad.ip()
                ));
            }
        }
        // The checked address is the one connected to (no re-resolution).
        let client = match crate::http::client()
            .redirect(reqwest::redirect::Policy::none())
            .resolve(&host, first)
            .timeout(timeout)
            .build()
        {
            Ok(c) => c,
            Err(e) => return fail(format!("client: {e}")),
        };
        let method = reqwest::Method::from_bytes(api.method.to_ascii_uppercase().as_bytes())
            .unwrap_or(reqwest::Method::GET);
        let mut rb = client.request(method, url.clone());
        for (k, v) in &api.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        if let Some(b) = &api.body {
            rb = rb.body(b.clone());
            if !api
                .headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case("content-type"))
            {
                rb = rb.header("content-type", "application/json");
            }
        }
        let mut res = match rb.send().await {
            Ok(r) => r,
            Err(e) => return fail(format!("request failed: {e}")),
        };
        if !res.status().is_success() {
            return fail(format!("answered {}", res.status()));
        }
        let mut buf: Vec<u8> = Vec::new();
        loop {
            match res.chunk().await {
                Ok(Some(c)) => {
                    if buf.len() + c.len() > API_MAX_BYTES {
                        return fail(format!("the answer is larger than {API_MAX_BYTES} bytes"));
                    }
                    buf.extend_from_slice(&c);
                }
                Ok(None) => break,
                Err(e) => return fail(format!("reading the answer failed: {e}")),
            }
        }
        let body = serde_json::from_slice(&buf).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&buf).into_owned())
        });
        ApiOutcome::Ok { body }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(o) => o,
        Err(_) => fail(format!("no answer within {} ms", timeout.as_millis())),
    }
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ivr_get, ivr_post))
        .routes(routes!(ivr_status_get, ivr_status_post))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.1.1",
            "172.16.0.1",
            "169.254.1.1",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn action_urls_keep_only_the_token() {
        assert_eq!(
            token_param(Some("token=abc&s=3&ev=timeout"), "token").as_deref(),
            Some("token=abc")
        );
        assert_eq!(token_param(Some("s=3"), "token"), None);
        assert_eq!(token_param(None, "token"), None);
    }
}
