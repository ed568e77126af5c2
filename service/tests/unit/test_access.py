"""serving.access: one public door. Behind a gateway (GATEWAY_ONLY, SERVICE_TOKENS) the service answers predictions,
its schema and its index only to the gateway's X-Service-Token; the health check stays open; locally it is open."""

import pytest
from support import post, problem_of

import serving
from serving import access

TOKEN = "tok-0123456789abcdef-new"
OLD = "tok-0123456789abcdef-old"


@pytest.fixture
def door(monkeypatch, classifier_dir):
    """door(**environ) -> a test client of an app built under those environment properties."""

    def make(**environ):
        for name in ("GATEWAY_ONLY", "SERVICE_TOKENS"):
            monkeypatch.delenv(name, raising=False)
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        return serving.create_app(str(classifier_dir)).test_client()

    return make


def asks(client, rows, token=None):
    """The status of each gated request and of the health check, presenting `token` (None: no header)."""
    headers = {access.HEADER: token} if token is not None else {}
    return [
        post(client, {"instances": rows(1)}, headers=headers).status_code,
        client.get("/v1/schema", headers=headers).status_code,
        client.get("/", headers=headers).status_code,
        client.get("/health", headers=headers).status_code,
    ]


def test_without_a_gateway_the_service_is_open(door, rows):
    assert asks(door(), rows) == [200, 200, 200, 200]


def test_gateway_only_without_a_token_configured_refuses_everyone_but_the_health_check(door, rows):
    client = door(GATEWAY_ONLY="true")
    assert asks(client, rows) == [401, 401, 401, 200]
    assert asks(client, rows, "anything-at-all-0123") == [401, 401, 401, 200]
    body = problem_of(post(client, {"instances": rows(1)}), "unauthorized", "gateway-only")
    assert "errors" not in body


def test_gateway_only_admits_each_configured_token_and_nothing_else(door, rows):
    client = door(GATEWAY_ONLY="true", SERVICE_TOKENS="%s, %s" % (TOKEN, OLD))  # a rotation: both accepted
    assert asks(client, rows, TOKEN) == [200, 200, 200, 200]
    assert asks(client, rows, OLD) == [200, 200, 200, 200]
    for wrong in (None, "", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), "%s,%s" % (TOKEN, OLD)):
        assert asks(client, rows, wrong) == [401, 401, 401, 200], wrong
    refused = post(client, {"instances": rows(1)})
    assert refused.headers["WWW-Authenticate"].startswith("Service-Token")


def test_a_token_alone_turns_the_check_on(door, rows):
    assert asks(door(SERVICE_TOKENS=TOKEN), rows) == [401, 401, 401, 200]


def test_a_short_token_stops_start_up(door):
    with pytest.raises(access.AccessError, match="shorter than 16 characters"):
        door(SERVICE_TOKENS="%s,short" % TOKEN)


def test_every_token_is_compared_in_constant_time_even_after_a_match(monkeypatch):
    door = access.Access([TOKEN, OLD, "tok-0123456789abcdef-3rd"], gateway_only=True)
    compared = []
    real = access.hmac.compare_digest

    def spy(a, b):
        compared.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(access.hmac, "compare_digest", spy)
    assert door.admits(TOKEN)
    assert compared == [(32, 32)] * 3  # sha256 digests: the same length whatever was sent


def test_strict_transport_security_is_sent_when_served_over_https(monkeypatch, classifier_dir):
    monkeypatch.delenv("GATEWAY_ONLY", raising=False)
    monkeypatch.delenv("SERVICE_TOKENS", raising=False)
    monkeypatch.delenv("HSTS_MAX_AGE", raising=False)
    plain = serving.create_app(str(classifier_dir)).test_client()
    assert "Strict-Transport-Security" not in plain.get("/health").headers
    monkeypatch.setenv("HSTS_MAX_AGE", "31536000")  # what 02_flask.config sets with a certificate
    https = serving.create_app(str(classifier_dir)).test_client()
    for response in (https.get("/health"), https.get("/v1/schema"), https.get("/nowhere")):
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
