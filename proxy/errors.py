"""Errors the gateway raises on purpose, each mapped to one HTTP status.

    GatewayError                 base: status, kind, message (never a value or a body)
    ├── ConfigError              startup: a broken config or policy (file, line, key)
    ├── BadRequest          400  malformed JSON or a body of the wrong shape
    ├── Unauthorized        401  a route that needs a gateway key got none or a wrong one
    ├── Refused             403  a policy refusal or something the gateway cannot inspect
    ├── ClientTooSlow       408  the client did not send its body in time
    ├── PayloadTooLarge     413  body or decompressed body over the limit
    ├── UnsupportedMedia    415  content type or content encoding the gateway cannot read
    ├── Blocked             422  a `block` action matched
    ├── UpstreamFailed      502  the provider could not be reached or broke the stream
    ├── UpstreamTimeout     504  the provider did not answer in time
    └── InternalFailure     503  detection, tokenization or audit failed: fail closed

Boundaries translate foreign exceptions with ``raise X(...) from exc``; the app
turns a GatewayError into the provider's own error shape (see formats/).
"""

from __future__ import annotations


class GatewayError(Exception):
    status = 500
    kind = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(GatewayError):
    """A config or policy file is invalid; each problem names file, line and key."""

    kind = "config"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class BadRequest(GatewayError):
    status = 400
    kind = "bad_request"


class Unauthorized(GatewayError):
    status = 401
    kind = "unauthorized"


class Refused(GatewayError):
    status = 403
    kind = "refused"


class ClientTooSlow(GatewayError):
    status = 408
    kind = "client_timeout"


class PayloadTooLarge(GatewayError):
    status = 413
    kind = "too_large"


class UnsupportedMedia(GatewayError):
    status = 415
    kind = "unsupported_media"


class Blocked(GatewayError):
    status = 422
    kind = "blocked"


class UpstreamFailed(GatewayError):
    status = 502
    kind = "upstream_failed"


class UpstreamTimeout(GatewayError):
    status = 504
    kind = "upstream_timeout"


class InternalFailure(GatewayError):
    status = 503
    kind = "internal"
