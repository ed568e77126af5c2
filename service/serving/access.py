"""Who may ask the service for predictions and its schema: anyone, or, in a project with a gateway as deployed, only
the gateway (DESIGN "One public door": keys and rate limits are the gateway's, so a second public door would skip them).

Two environment properties decide it, set on Elastic Beanstalk and never in the bundle or the repository:

  GATEWAY_ONLY=true   written by the generator into .ebextensions/02_flask.config of a project with a gateway: the
                      service answers /v1/predict, /v1/schema and / only to requests carrying a valid X-Service-Token
                      (with no token configured, to none: refused until `make gateway-create` sets one);
  SERVICE_TOKENS      the accepted tokens, comma-separated, set by `make gateway-create` (`eb setenv`); two at once
                      during a rotation (`make gateway-token-rotate`), so no request is refused while the gateway moves
                      to the new one. Any token set turns the check on, GATEWAY_ONLY or not.

The health check stays open: EB's load balancer calls it without a token. Tokens are compared as sha256 digests with
hmac.compare_digest against every configured one, so the time taken says nothing about how much of a guess matched.
"""

import hashlib
import hmac

HEADER = "X-Service-Token"
MIN_TOKEN_LENGTH = 16
_TRUE = ("1", "true", "yes", "on")


def _digest(text):
    return hashlib.sha256(text.encode("utf-8")).digest()


class AccessError(ValueError):
    """The environment's access settings cannot be used; the message says what to set."""


class Access(object):
    """The service's door: open, or the gateway's only."""

    def __init__(self, tokens=(), gateway_only=False):
        short = [t for t in tokens if len(t) < MIN_TOKEN_LENGTH]
        if short:
            raise AccessError(
                "SERVICE_TOKENS holds a token shorter than %d characters; `make gateway-create` (or "
                "`make gateway-token-rotate`) sets random ones" % MIN_TOKEN_LENGTH
            )
        self._digests = [_digest(t) for t in tokens]
        self.gateway_only = bool(gateway_only)

    @property
    def open(self):
        return not self.gateway_only and not self._digests

    @property
    def configured(self):
        return bool(self._digests)

    def admits(self, presented):
        """Whether a request presenting this X-Service-Token (None: none) may be served."""
        if self.open:
            return True
        given = _digest(presented or "")
        matched = False
        for digest in self._digests:  # every one, without stopping at a match
            matched = hmac.compare_digest(digest, given) or matched
        return matched and bool(presented)


def from_environ(environ):
    tokens = [t.strip() for t in (environ.get("SERVICE_TOKENS") or "").split(",") if t.strip()]
    return Access(tokens, (environ.get("GATEWAY_ONLY") or "").strip().lower() in _TRUE)
