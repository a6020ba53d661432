//! Disposition categories per department.

use crate::auth::{Admin, Principal};
use crate::error::{ApiResult, Json, Query};
use crate::idempotency::IdempotencyKey;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use callboard_core::store::categories::{self, Category, CategoryPatch, NewCategory};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Categories offered in this department (its own and the global ones).
    pub department: Option<String>,
    pub include_inactive: Option<bool>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CategoryList {
    pub data: Vec<Category>,
}

#[utoipa::path(get, path = "/api/categories", operation_id = "listCategories", tag = "categories", params(ListParams),
    responses((status = 200, body = CategoryList)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    who: Principal,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<CategoryList>> {
    if let Some(d) = &p.department {
        who.check_department(d)?;
    }
    let inactive = p.include_inactive.unwrap_or(false);
    let dep = p.department.clone();
    let rows = state
        .store
        .read(move |c| categories::list(c, dep.as_deref(), inactive))
        .await?;
    let data = rows
        .into_iter()
        .filter(|c| c.department.as_deref().is_none_or(|d| who.can_see(d)))
        .collect();
    Ok(Json(CategoryList { data }))
}

#[utoipa::path(post, path = "/api/categories", operation_id = "createCategory", tag = "categories", request_body = NewCategory,
    responses((status = 201, body = Category), (status = 409, body = crate::error::ErrorBody)),
    security(("bearer" = ["admin"])))]
pub async fn create(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Json(input): Json<NewCategory>,
) -> ApiResult<(StatusCode, Json<Category>)> {
    let actor = who.actor();
    let c = state
        .store
        .write_keyed(key.0, move |w| categories::create(w, input, &actor))
        .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

#[utoipa::path(patch, path = "/api/categories/{id}", operation_id = "updateCategory", tag = "categories", params(("id" = i64, Path)),
    request_body = CategoryPatch, responses((status = 200, body = Category)), security(("bearer" = ["admin"])))]
pub async fn update(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(id): Path<i64>,
    Json(patch): Json<CategoryPatch>,
) -> ApiResult<Json<Category>> {
    let actor = who.actor();
    Ok(Json(
        state
            .store
            .write_keyed(key.0, move |w| categories::update(w, id, patch, &actor))
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/categories/{id}", operation_id = "retireCategory", tag = "categories", params(("id" = i64, Path)),
    description = "Retires the category (kept for the history that uses it).",
    responses((status = 200, body = Category)), security(("bearer" = ["admin"])))]
pub async fn retire(
    State(state): State<AppState>,
    key: IdempotencyKey,
    Admin(who): Admin,
    Path(id): Path<i64>,
) -> ApiResult<Json<Category>> {
    let actor = who.actor();
    let patch = CategoryPatch {
        active: Some(false),
        ..Default::default()
    };
    Ok(Json(
        state
            .store
            .write_keyed(key.0, move |w| categories::update(w, id, patch, &actor))
            .await?,
    ))
}

/// This module's routes, with their OpenAPI operations.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update, retire))
}
