"""The Flask app: the four routes of the reranker-transformers protocol and JSON errors.

`create_app(settings, engine=None)` builds the app. With `engine=None` the configured engine is
loaded once, in the background (see `loader`); tests inject their own. Every answer that is not
a success is JSON `{"error": ...}` (Weaviate decodes the body before it looks at the status),
and every response carries an `X-Request-Id` that the logs name too. `POST /rerank` is admitted
before its body is read and holds its place until its answer is written (`admission`); under
overload it is answered 503 with `Retry-After`. From its arrival it is watched (`watch`): when
its client closes the connection, or REQUEST_TIMEOUT passes, it is dropped, the rest of it
unscored, counted on /metrics and logged once.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from reranker import metrics, protocol
from reranker.admission import RETRY_AFTER_SECONDS, Admission, Overloaded
from reranker.drain import discard_unread_body
from reranker.engine import Engine
from reranker.loader import EngineLoader, describe
from reranker.settings import Settings
from reranker.watch import Dropped, Watch, Watcher

log = logging.getLogger("reranker.app")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class NotReady(Exception):
    """The model is not loaded (yet, or at all): answered 503."""


def _error(message: str, status: int) -> tuple[Response, int]:
    return jsonify(protocol.error_body(message)), status


def _too_large(max_body_bytes: int) -> str:
    return f"request body too large: the limit is {max_body_bytes} bytes (MAX_BODY_BYTES)"


def _http_error_message(exc: HTTPException, max_body_bytes: int) -> str:
    code = exc.code or 500
    if code == 404:
        return f"not found: {request.method} {request.path}"
    if code == 405:
        return f"method {request.method} not allowed on {request.path}"
    if code == 413:
        return _too_large(max_body_bytes)
    return f"{exc.name}: {exc.description}" if exc.description else str(exc.name)


def create_app(settings: Settings, engine: Engine | None = None, *,
               on_load_failure: Callable[[BaseException], None] | None = None) -> Flask:
    """Build the reranker app; `engine=None` loads the configured one in the background."""
    app = Flask("reranker")
    # One byte of slack: werkzeug cuts a chunked body (no Content-Length) silently at the
    # limit, so a body of limit+1 bytes is how we learn that it was longer (checked below).
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes + 1
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the official key order
    metrics.configure(settings.metrics)
    loader = EngineLoader(engine)
    if engine is None:
        loader.start(settings, on_failure=on_load_failure)
    else:
        describe(engine, settings)
    app.extensions["reranker.loader"] = loader
    admission = Admission(max_bytes=settings.max_inflight_bytes,
                          max_queued=settings.queue_bound, timeout=settings.queue_timeout)
    app.extensions["reranker.admission"] = admission
    watcher = Watcher(request_timeout=settings.request_timeout)
    app.extensions["reranker.watcher"] = watcher

    @app.before_request
    def assign_request_id() -> None:
        g.started = time.perf_counter()
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex[:16]

    @app.after_request
    def tag_response(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "-")
        # The route's rule, not the path: an unknown path must not become a new series.
        endpoint = request.url_rule.rule if request.url_rule else "other"
        metrics.request_done(endpoint, response.status_code,
                             time.perf_counter() - g.get("started", time.perf_counter()))
        # Before the answer goes out: an unread body would end in a reset, not this answer.
        discard_unread_body(request.environ)
        return response

    @app.errorhandler(protocol.BadRequest)
    def bad_request(exc: protocol.BadRequest) -> tuple[Response, int]:
        log.info("request %s refused (%d): %s", g.get("request_id"), exc.status, exc.message)
        return _error(exc.message, exc.status)

    @app.errorhandler(Overloaded)
    def overloaded(exc: Overloaded) -> tuple[Response, int]:
        metrics.rejected(exc.reason)
        log.info("request %s refused (503): %s", g.get("request_id"), exc.message)
        response, status = _error(exc.message, 503)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response, status

    @app.errorhandler(Dropped)
    def dropped(exc: Dropped) -> tuple[Response, int]:
        metrics.dropped(exc.reason)
        log.warning("request %s dropped after %.1f s: %s; the rest of it is not scored",
                    g.get("request_id"),
                    time.perf_counter() - g.get("started", time.perf_counter()), exc.why)
        response, status = _error(exc.message, 503)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response, status

    @app.errorhandler(NotReady)
    def not_ready(exc: NotReady) -> tuple[Response, int]:
        return _error(str(exc), 503)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        response, status = _error(_http_error_message(exc, settings.max_body_bytes),
                                  exc.code or 500)
        response.status_code = status
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        return response

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> tuple[Response, int]:
        request_id = g.get("request_id", "-")
        log.exception("request %s (%s %s) failed", request_id, request.method, request.path)
        return _error(f"internal error (request id {request_id}): "
                      f"{type(exc).__name__}: {exc}", 500)

    def ready_engine() -> Engine:
        engine = loader.engine
        if engine is None:
            reason = (f"model failed to load: {loader.error}" if loader.error
                      else "model is still loading")
            raise NotReady(reason)
        return engine

    @app.get("/.well-known/live")
    def live() -> tuple[str, int]:
        return "", 204

    @app.get("/.well-known/ready")
    def ready() -> tuple[str, int]:
        ready_engine()
        return "", 204

    @app.get("/meta")
    def meta() -> Response:
        return jsonify({"model": ready_engine().meta()})

    @app.get("/metrics")
    def prometheus_metrics() -> Response:
        if not metrics.enabled():
            return _error("metrics are off (METRICS=off)", 404)
        body, content_type = metrics.exposition(request.headers.get("Accept", ""))
        return Response(body, content_type=content_type)

    @app.post("/rerank")
    def rerank() -> Response:
        length = request.content_length
        if length is not None and length > settings.max_body_bytes:
            raise protocol.BadRequest(_too_large(settings.max_body_bytes), status=413)
        # Watched from its arrival to its answer: the socket is gunicorn's (None in tests).
        watch = watcher.watch(request.environ.get("gunicorn.socket"))
        try:
            # Admitted before the body is read; a body without a length may be as long as
            # allowed.
            ticket = admission.admit(settings.max_body_bytes if length is None else length,
                                     watch)
            try:
                response = answer_rerank(ticket.deadline, watch)
            except BaseException:
                admission.release(ticket)
                raise
        finally:
            watcher.forget(watch)
        # Held until the answer is written: its bytes are in memory until then.
        response.call_on_close(lambda: admission.release(ticket))
        return response

    def answer_rerank(deadline: float, watch: Watch) -> Response:
        # Weaviate sends no Content-Type: parse the raw body, whatever the header says.
        body = request.get_data(cache=False)
        if len(body) > settings.max_body_bytes:
            raise protocol.BadRequest(_too_large(settings.max_body_bytes), status=413)
        parsed = protocol.parse_rerank_request(body, max_documents=settings.max_documents)
        del body  # the texts are parsed out; the raw bytes need not wait for the model
        engine = ready_engine()
        metrics.documents(1 if parsed.documents is None else len(parsed.documents))
        if parsed.documents is None:
            assert parsed.property is not None  # guaranteed by the parser
            [score] = engine.score(parsed.query, [parsed.property], deadline=deadline,
                                   watch=watch)
            return jsonify(protocol.single_response(parsed.query, parsed.property, score))
        scores = engine.score(parsed.query, parsed.documents, deadline=deadline, watch=watch)
        return jsonify(protocol.documents_response(parsed.query, parsed.documents, scores))

    return app
