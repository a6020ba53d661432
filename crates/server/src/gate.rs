//! Middleware that runs only for the requests it concerns.
//!
//! An `axum::middleware::from_fn` layer costs every request that passes it
//! a clone of the service inside it, boxed, and a boxed future, even when
//! it only hands the request on: an Idempotency-Key check on a request
//! without a key, a console body timeout on a webhook. [`OnlyWhenLayer`]
//! asks a plain test first, and a request it does not concern goes to the
//! inner service directly.

use axum::extract::Request;
use axum::response::Response;
use futures_util::future::Either;
use std::convert::Infallible;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// `layer`, for the requests `applies` picks; the rest skip it.
#[derive(Clone)]
pub struct OnlyWhenLayer<L> {
    applies: fn(&Request) -> bool,
    layer: L,
}

impl<L> OnlyWhenLayer<L> {
    pub fn new(applies: fn(&Request) -> bool, layer: L) -> Self {
        Self { applies, layer }
    }
}

impl<S: Clone, L: Layer<S>> Layer<S> for OnlyWhenLayer<L> {
    type Service = OnlyWhen<L::Service, S>;

    fn layer(&self, inner: S) -> Self::Service {
        OnlyWhen {
            applies: self.applies,
            with: self.layer.layer(inner.clone()),
            without: inner,
        }
    }
}

#[derive(Clone)]
pub struct OnlyWhen<W, S> {
    applies: fn(&Request) -> bool,
    with: W,
    without: S,
}

impl<W, S> Service<Request> for OnlyWhen<W, S>
where
    W: Service<Request, Response = Response, Error = Infallible>,
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<W::Future, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        match self.with.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.without.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, req: Request) -> Self::Future {
        if (self.applies)(&req) {
            Either::Left(self.with.call(req))
        } else {
            Either::Right(self.without.call(req))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::middleware::Next;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    async fn mark(req: Request, next: Next) -> Response {
        let mut res = next.run(req).await;
        res.headers_mut()
            .insert("x-through", axum::http::HeaderValue::from_static("yes"));
        res
    }

    #[tokio::test]
    async fn only_the_requests_it_picks_go_through_the_layer() {
        let app = tower::ServiceBuilder::new()
            .layer(OnlyWhenLayer::new(
                |req: &Request| req.uri().path() == "/picked",
                axum::middleware::from_fn(mark),
            ))
            .service(
                Router::new()
                    .route("/picked", get(|| async { "a" }))
                    .route("/other", get(|| async { "b" })),
            );
        for (path, through) in [("/picked", true), ("/other", false)] {
            let res = app
                .clone()
                .oneshot(
                    Request::builder()
                        .uri(path)
                        .body(axum::body::Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{path}");
            assert_eq!(res.headers().contains_key("x-through"), through, "{path}");
        }
    }
}
