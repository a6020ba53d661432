//! User administration (admins only).

use crate::auth::{Admin, Principal, Supervisor};
use crate::error::ErrorCode;
use crate::error::{ApiError, ApiResult, Json};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use callboard_core::keys;
use callboard_core::store::users::{self, NewUser, User, UserPatch};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub data: Vec<User>,
}

/// An argon2 hash of `password`, computed off the async threads.
pub(crate) async fn hash(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || keys::hash_password(&password))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                e.to_string(),
            )
        })?
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, e))
}

#[utoipa::path(get, path = "/api/users", operation_id = "listUsers", tag = "users",
    responses((status = 200, body = UserList)), security(("bearer" = ["supervisor"])))]
pub async fn list(State(state): State<AppState>, _: Supervisor) -> ApiResult<Json<UserList>> {
    let data = state.store.read(users::list).await?;
    Ok(Json(UserList { data }))
}

#[utoipa::path(post, path = "/api/users", operation_id = "createUser", tag = "users", request_body = NewUser,
    responses((status = 201, body = User), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)), security(("bearer" = ["admin"])))]
pub async fn create(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Json(input): Json<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    users::validate_new(&input)?;
    let h = hash(input.password.clone()).await?;
    let actor = who.actor();
    let u = state
        .store
        .write_keyed(key.0, move |w| users::create(w, input, h, &actor))
        .await?;
    Ok((StatusCode::CREATED, Json(u)))
}

#[utoipa::path(get, path = "/api/users/{id}", operation_id = "getUser", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<i64>,
) -> ApiResult<Json<User>> {
    if who.user_id() != Some(id) {
        who.require_supervisor()?;
    }
    Ok(Json(state.store.read(move |c| users::get(c, id)).await?))
}

#[utoipa::path(patch, path = "/api/users/{id}", operation_id = "updateUser", tag = "users", params(("id" = i64, Path)),
    description = "An admin changes a user (a new password ends all their sessions). People change their own password with POST /api/auth/password, which asks for the current one.",
    request_body = UserPatch,
    responses((status = 200, body = User), (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn update(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(id): Path<i64>,
    Json(patch): Json<UserPatch>,
) -> ApiResult<Json<User>> {
    users::validate_patch(&patch)?;
    let h = match &patch.password {
        Some(p) => Some(hash(p.clone()).await?),
        None => None,
    };
    let actor = who.actor();
    Ok(Json(
        state
            .store
            .write_keyed(key.0, move |w| users::update(w, id, patch, h, &actor))
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/users/{id}", operation_id = "deactivateUser", tag = "users", params(("id" = i64, Path)),
    description = "Deactivates the user and ends their sessions; their history stays.",
    responses((status = 200, body = User), (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn deactivate(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(id): Path<i64>,
) -> ApiResult<Json<User>> {
    let actor = who.actor();
    let patch = UserPatch {
        active: Some(false),
        ..Default::default()
    };
    Ok(Json(
        state
            .store
            .write_keyed(key.0, move |w| users::update(w, id, patch, None, &actor))
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/users/{id}/totp", operation_id = "resetUserTotp", tag = "users",
    description = "Turns a user's two-step sign-in off (a lost phone); they sign in with their password and may set it up again. Audited.",
    params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 404, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn reset_totp(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(id): Path<i64>,
) -> ApiResult<Json<User>> {
    let actor = who.actor();
    state
        .store
        .write_keyed(key.0, move |w| {
            callboard_core::store::totp::reset(w, id, &actor)
        })
        .await?;
    Ok(Json(state.store.read(move |c| users::get(c, id)).await?))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reset_totp))
        .routes(routes!(list, create))
        .routes(routes!(get, update, deactivate))
}
