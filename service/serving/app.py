"""create_app(): the Flask app that serves a model bundle under the contract (docs/contract.md).

Loading happens here, not at import, so a test (or a second app in one process) builds an app from any model folder.
The user's application.py calls create_app() with its hooks; Elastic Beanstalk imports `application:application`.
"""

import json
import logging
import math
import os
import re
import sys
import time
import traceback
import uuid

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map

from . import access, contract, largest_request, request_body, settings
from .bundle import load_model
from .prediction import predict_rows, self_test
from .request_body import BodyProblem
from .validation import validate_instances

JSON_TYPE = "application/json"
PROBLEM_TYPE = "application/problem+json"
_REQUEST_ID = re.compile(contract.CONTRACT["requestIdPattern"])
# Lone surrogates (from "\ud800" escapes in a field name) cannot be encoded as UTF-8; JSON.stringify writes them
# as escapes, and so does this service, so both servers send the same bytes.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_surrogate(match):
    return "\\u%04x" % ord(match.group())


class NonFiniteAnswer(ValueError):
    """An answer holding inf or NaN, which JSON cannot carry: its message names where (member names and indices,
    never a value a client sent), so the log says what to fix."""


def _non_finite_at(value, path="answer"):
    """The path of the first inf or NaN in a JSON-able value, or None."""
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if isinstance(value, dict):
        items = ((".%s" % k, v) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        items = (("[%d]" % i, v) for i, v in enumerate(value))
    else:
        return None
    for step, item in items:
        found = _non_finite_at(item, path + step)
        if found:
            return found
    return None


def json_text(body):
    """Compact JSON as the gateway writes it (JSON.stringify): UTF-8, not ASCII-escaped. allow_nan=False turns a
    non-finite number into an error (a 500, logged with where it is) instead of invalid JSON."""
    try:
        return json.dumps(body, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    except ValueError as exc:
        where = _non_finite_at(body)
        if where is None:
            raise
        raise NonFiniteAnswer(
            "%s is inf or NaN, which JSON cannot carry: an after_predict hook's value (clip it, or use None), or a "
            "model answering out of range" % where
        ) from exc


def json_response(body, status=200, content_type=JSON_TYPE, headers=None):
    return Response(json_text(body), status=status, content_type=content_type, headers=headers)


def problem(kind, detail=None, errors=None, headers=None):
    """An RFC 9457 application/problem+json response. Never put submitted values in `detail`."""
    body = contract.problem_body(kind, detail, errors, getattr(g, "request_id", None))
    # Only a problem can carry text the client chose (a field name in a pointer), so only here can it hold one.
    text = _LONE_SURROGATE.sub(_escape_surrogate, json_text(body))
    return Response(text, status=contract.status_of(kind), content_type=PROBLEM_TYPE, headers=headers)


# What only the gateway may ask for when the service is the gateway's (the health check is never among them).
_GATEWAY_ONLY_ENDPOINTS = frozenset(["predict_endpoint", "schema_endpoint", "index_endpoint"])


def _identity(value, *_args):
    return value


class _ExactMap(Map):
    """Routes that match paths exactly as sent: "//v1/predict" is another path, not /v1/predict (docs/contract.md).
    (Werkzeug's matcher takes merge_slashes when the map is made, so it cannot be switched off afterwards.)"""

    def __init__(self, *args, **kwargs):
        kwargs["merge_slashes"] = False
        Map.__init__(self, *args, **kwargs)


class _ServiceFlask(Flask):
    url_map_class = _ExactMap


def create_app(
    model_dir=None, before_predict=None, after_predict=None, health_check_path=None, log_level=None, bundle=None
):
    """The prediction service for the model in `model_dir` (default: $MODEL_DIR, else model/ beside application.py).

    before_predict(frame) -> frame: runs on every validated request, as a pandas DataFrame with the schema's columns
        in training order; what it returns is what the model gets (derived columns, clean-ups, unit changes).
    after_predict(answer, frame) -> answer: runs on every answer body before it is sent (the contract's keys must
        stay; adding keys is fine).
    health_check_path: where EB's health check looks (default: settings.HEALTH_CHECK_PATH).
    log_level: the request log's level name (default: $LOG_LEVEL, else INFO).
    bundle: an already loaded ModelBundle instead of model_dir (tests).

    Raises bundle.ModelError when the model folder cannot be served or fails its self-test (one example row through
    the hooks and the model), so gunicorn refuses to start rather than serve errors.
    """
    model_dir = model_dir or os.environ.get("MODEL_DIR") or settings.default_model_dir()
    door = access.from_environ(os.environ)  # before the model: a bad SERVICE_TOKENS fails start-up at once
    # Served over HTTPS (a certificate answer: .ebextensions/02_flask.config sets it): say so on every answer.
    hsts = _hsts(os.environ.get("HSTS_MAX_AGE"))
    bundle = bundle or load_model(model_dir)
    health_check_path = health_check_path or settings.HEALTH_CHECK_PATH
    log = _configure_logging(log_level or os.environ.get("LOG_LEVEL") or "INFO")
    before = before_predict or _identity
    after = after_predict or _identity
    self_test(bundle, before, after)
    if door.gateway_only and not door.configured:
        log.warning(
            "GATEWAY_ONLY is set but SERVICE_TOKENS is not: predictions and the schema are refused to everyone until "
            "`make gateway-create` sets the gateway's token"
        )
    compiled = bundle.compiled
    limit = compiled.max_body_bytes
    most_colons = largest_request.max_colons(bundle.schema)

    # No static folder: every path the service answers is one of the contract's.
    app = _ServiceFlask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = None  # the limit is the contract's, enforced in request_body
    app.extensions["sci_eb"] = {"bundle": bundle, "hooks": (before, after)}

    def route(path, method, view):
        app.add_url_rule(path, view.__name__, view, methods=[method], provide_automatic_options=False)

    @app.before_request
    def start_request():
        g.started = time.perf_counter()
        supplied = request.headers.get("X-Request-Id", "")
        g.request_id = supplied if _REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
        # Paths match exactly as sent: PATH_INFO is already percent-decoded, so compare the raw request target (which
        # starts with SCRIPT_NAME when the app is mounted under a prefix, e.g. gunicorn's SCRIPT_NAME); and
        # Werkzeug's matcher ignores leading slashes ("//v1/predict" would be /v1/predict).
        path = request.environ.get("PATH_INFO") or ""
        raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
        sent = (request.environ.get("SCRIPT_NAME") or "") + path
        if (raw is not None and raw.split("?", 1)[0] != sent) or path.startswith("//"):
            return problem("not-found", contract.detail("not-found"))
        # One public door: with a gateway, everything but the health check is the gateway's (serving/access.py).
        if request.endpoint in _GATEWAY_ONLY_ENDPOINTS and not door.admits(request.headers.get(access.HEADER)):
            return problem(
                "unauthorized",
                contract.detail("gateway-only"),
                headers={"WWW-Authenticate": 'Service-Token realm="prediction-service"'},
            )
        return None

    @app.after_request
    def finish_request(response):
        if hsts:
            response.headers["Strict-Transport-Security"] = hsts
        response.headers["X-Request-Id"] = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Model-Version"] = bundle.version
        started = g.get("started")
        duration_ms = (time.perf_counter() - started) * 1000.0 if started is not None else -1.0
        # The matched route, not the raw path: the log never carries anything the client chose.
        rule = request.url_rule.rule if request.url_rule is not None else "-"
        log.info(
            "request_id=%s method=%s route=%s status=%d rows=%d duration_ms=%.1f",
            g.get("request_id", "-"),
            request.method,
            rule,
            response.status_code,
            g.get("rows", 0),
            duration_ms,
        )
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc):
        if exc.code == 405:
            allowed = ", ".join(sorted(getattr(exc, "valid_methods", None) or []))
            return problem("method-not-allowed", contract.detail("method-not-allowed"), headers={"Allow": allowed})
        if exc.code == 404:
            return problem("not-found", contract.detail("not-found"))
        if exc.code == 413:
            return problem("body-too-large", contract.detail("body-too-large", maxBodyBytes=limit))
        if exc.code == 400:
            return problem("malformed-json", contract.detail("incomplete-body"))
        return unhandled_error(exc)

    @app.errorhandler(Exception)
    def unhandled_error(exc):
        # Exception messages can quote input (an estimator complaining about a value), so log the type and the stack
        # only: enough to find the bug, nothing a client sent.
        log.error(
            "unhandled %s request_id=%s\n%s",
            "%s: %s" % (type(exc).__name__, exc) if isinstance(exc, NonFiniteAnswer) else type(exc).__name__,
            g.get("request_id", "-"),
            "".join(traceback.format_tb(exc.__traceback__)).rstrip(),
        )
        return problem("internal-error", contract.detail("internal-error"))

    def predict_endpoint():
        try:
            request_body.check_media_type(request.headers.get("Content-Type"))
            encoding = request_body.check_encoding(request.headers.get("Content-Encoding"))
            raw = request_body.read_limited(
                request.environ, request.content_length, request_body.raw_limit(limit, encoding)
            )
            if encoding:
                raw = request_body.decompress(raw, encoding, limit)
            text = request_body.decode_text(raw)
            largest_request.refuse_impossible(text, most_colons, compiled.max_rows)
            payload = request_body.parse_json(text)
        except BodyProblem as exc:
            return problem(exc.kind, exc.detail, headers=exc.headers)
        errors = validate_instances(payload, compiled)
        if errors:
            # A body nesting deeper than the contract allows is refused as such, whatever else is wrong with it. The
            # text is measured, as the gateway measures it (a member overwritten by a duplicate counts too); a valid
            # body never nests that deep, so valid requests never pay for the scan.
            if request_body.too_deep(text):
                return problem("malformed-json", contract.detail("too-deep"))
            return problem("validation-error", errors=errors)
        rows = payload["instances"]
        g.rows = len(rows)
        answer, frame = predict_rows(bundle, rows, before_predict)
        return json_response(after(answer, frame))

    def schema_endpoint():
        # The public part only (bundle.public_schema): what a caller needs, not how the model was made.
        return Response(bundle.public_schema_bytes, status=200, content_type=JSON_TYPE)

    def health_endpoint():
        return json_response({"status": "ok", "model": bundle.model_info()})

    def index_endpoint():
        return json_response(
            {
                "model": bundle.model_info(),
                "endpoints": {
                    "predict": "POST /v1/predict",
                    "schema": "GET /v1/schema",
                    "health": "GET " + health_check_path,
                },
            }
        )

    route("/v1/predict", "POST", predict_endpoint)
    route("/v1/schema", "GET", schema_endpoint)
    route(health_check_path, "GET", health_endpoint)
    if health_check_path != "/":
        route("/", "GET", index_endpoint)
    return app


def _hsts(max_age):
    """The Strict-Transport-Security value for HSTS_MAX_AGE seconds, or None (unset, empty or 0: none is sent)."""
    if not max_age or not max_age.strip():
        return None
    seconds = int(max_age)  # a typo stops start-up rather than silently dropping the header
    return "max-age=%d" % seconds if seconds > 0 else None


def bundle_of(app):
    """The ModelBundle an app created by create_app() serves."""
    return app.extensions["sci_eb"]["bundle"]


def hooks_of(app):
    """(before_predict, after_predict) of an app created by create_app(): the functions it was given, or ones that
    return what they get. The contract suite uses them to compare the app's answers with the model's own."""
    return app.extensions["sci_eb"]["hooks"]


def _configure_logging(level_name):
    # One stderr handler of our own: gunicorn leaves the root logger unconfigured and Elastic Beanstalk collects
    # stderr. propagate=False avoids double lines when the host app configures the root logger too.
    log = logging.getLogger("serving")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        log.addHandler(handler)
        log.propagate = False
    level = getattr(logging, str(level_name).upper(), logging.INFO)
    log.setLevel(level if isinstance(level, int) else logging.INFO)
    return log
