//! Compression for the answers that can use it, and none of its cost for
//! the rest.
//!
//! tower-http's compression wraps every response body in one type big
//! enough for any of its encoders (5.8 KB), allocated for every answer
//! whether or not it is compressed: on a webhook's acknowledgement that
//! allocation, and glibc tidying its free lists before it, were a visible
//! part of the request's CPU (BENCHMARKS.md). A request whose client
//! accepts no encoding, or that comes from a telephony platform (its
//! answers are a few hundred bytes), goes past it.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::ACCEPT_ENCODING;
use axum::response::Response;
use futures_util::future::{Either, MapOk};
use futures_util::TryFutureExt;
use std::convert::Infallible;
use std::task::{Context, Poll};
use tower::{Layer, Service};
use tower_http::compression::predicate::Predicate;
use tower_http::compression::{Compression, CompressionBody, CompressionLayer};

/// [`CompressionLayer`] for the requests [`worth_compressing`] picks.
#[derive(Clone)]
pub struct CompressWhereItPaysLayer<P> {
    inner: CompressionLayer<P>,
}

impl<P> CompressWhereItPaysLayer<P> {
    pub fn new(inner: CompressionLayer<P>) -> Self {
        Self { inner }
    }
}

impl<S: Clone, P: Predicate> Layer<S> for CompressWhereItPaysLayer<P> {
    type Service = CompressWhereItPays<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        CompressWhereItPays {
            compressed: self.inner.layer(inner.clone()),
            plain: inner,
        }
    }
}

#[derive(Clone)]
pub struct CompressWhereItPays<S, P> {
    plain: S,
    compressed: Compression<S, P>,
}

type Boxed = fn(Response<CompressionBody<Body>>) -> Response;

impl<S, P> Service<Request> for CompressWhereItPays<S, P>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    P: Predicate,
{
    type Response = Response;
    type Error = Infallible;
    type Future =
        Either<S::Future, MapOk<tower_http::compression::ResponseFuture<S::Future, P>, Boxed>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        match self.plain.poll_ready(cx) {
            Poll::Ready(Ok(())) => self.compressed.poll_ready(cx),
            other => other,
        }
    }

    fn call(&mut self, req: Request) -> Self::Future {
        if worth_compressing(&req) {
            let boxed: Boxed = |res| res.map(Body::new);
            Either::Right(self.compressed.call(req).map_ok(boxed))
        } else {
            Either::Left(self.plain.call(req))
        }
    }
}

/// A client that accepts an encoding, on a route that is not a platform's.
fn worth_compressing(req: &Request) -> bool {
    req.headers().contains_key(ACCEPT_ENCODING) && !crate::conn::platform_path(req.uri().path())
}
