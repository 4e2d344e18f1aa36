"""One request, top to bottom: route, inspect, tokenize, forward, restore, audit."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
from yarl import URL

from .audit import AuditRecord, AuditSink
from .audit.values import value_fingerprint, value_key
from .body import read_body
from .callers import PREFIX as KEY_PREFIX
from .callers import authenticate
from .config import GatewayConfig
from .detect.pool import Analyzer
from .errors import ClientTooSlow, GatewayError, Refused, UpstreamFailed
from .eventstream import Decoder as EventStreamDecoder
from .formats.base import ApiFormat, Endpoint
from .headers import client_response_headers, upstream_request_headers
from .inspection import Inspector, RequestInspection
from .issued import IssuedTokens
from .jsonbudget import Budget
from .keys import derive, fingerprint
from .metrics import Metrics
from .monitor import account as account_monitored
from .monitor import inspected_as, warn_at_start
from .reidentify import Restorer
from .relay import pipe_bytes, relay_stream, relay_whole
from .residency.enforce import enforce
from .routes import Match, RouteTable
from .sse import SSEDecoder
from .tenant import tenant_of
from .tokens import TokenMap
from .upstream import Upstream
from .vault import TokenVault
from .vault.blocking import blocking_lookup

log = logging.getLogger("aliasgate")
_NO_AUDIT = "the audit log cannot be written, so aliasgate refuses requests; nothing was sent"
REQUEST_ID = web.RequestKey("request_id", str)
# A method is client text too: the audit log names only these.
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


@dataclass
class Outbound:
    """What goes upstream: the body (None for body-less calls), its content type when the
    gateway wrote it (or the client's, for a monitored body), and the request's tokens
    (None: nothing is restored)."""

    body: bytes | None
    tokens: TokenMap | None
    content_type: str | None = None


class Gateway:
    def __init__(self, routes: RouteTable, analyzer: Analyzer, upstream: Upstream,
                 audit: AuditSink, master_key: bytes, config: GatewayConfig,
                 metrics: Metrics, vault: TokenVault) -> None:
        self._routes = routes
        self._vault = vault
        self._analyzer = analyzer
        self._upstream = upstream
        self._audit = audit
        self._master = master_key
        self._config = config
        self._limits = config.limits
        self._timeouts = config.timeouts
        self._metrics = metrics
        value_key_ = value_key(master_key)
        # How much JSON may be walked, the client's body and the provider's answer alike.
        self._budget = Budget(config.limits.max_json_values, config.limits.max_json_depth)
        self._inspector = Inspector(analyzer, self._budget, IssuedTokens(),
                                    lambda v: value_fingerprint(value_key_, v))
        warn_at_start(config.routes)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        method = request.method if request.method in _METHODS else "OTHER"
        record = AuditRecord(ts=datetime.now(UTC).isoformat(timespec="milliseconds"),
                             request_id=request[REQUEST_ID], method=method)
        try:
            response = await self._respond(request, record)
        except asyncio.CancelledError:
            # Shutdown cancels what did not finish in time, or the client went away: the
            # request still leaves its line.
            record.decision, record.error = "failed", "cancelled"
            record.reason = "the request was cancelled before it finished"
            record.duration_ms = round((time.perf_counter() - started) * 1000, 2)
            self._audit.enqueue(record)
            raise
        record.duration_ms = round((time.perf_counter() - started) * 1000, 2)
        # Every request is in the audit log; the operator log names the ones that did not go
        # as asked (all of them at --log-level debug).
        log.log(logging.DEBUG if record.decision in ("forwarded", "passthrough") else logging.INFO,
                "request %s route=%s endpoint=%s status=%s decision=%s ms=%s",
                record.request_id, record.route, record.endpoint, record.status,
                record.decision, record.duration_ms)
        self._metrics.observe(record)
        if response.prepared or not request.body_exists:
            # The answer has left already (a stream, bytes piped through), or the request
            # carried nothing to inspect (GET /v1/models): its line is queued in order now
            # and written in the next batch, without holding the answer or the connection.
            # A failure marks the log unwritable for the requests after it.
            self._audit.enqueue(record)
            return response
        written = await self._audit.write(record)
        if not written and self._refuse_without_audit():
            # The answer has not left yet: without its audit line it does not leave at all.
            return _error(None, 503, "audit_unavailable", _NO_AUDIT, record)
        return response

    def _refuse_without_audit(self) -> bool:
        return self._config.audit.on_failure == "refuse"

    async def _respond(self, request: web.Request, record: AuditRecord) -> web.StreamResponse:
        fmt: ApiFormat | None = None
        try:
            if self._refuse_without_audit() and not self._audit.is_writable():
                record.decision, record.reason = "refused", _NO_AUDIT
                return _error(None, 503, "audit_unavailable", _NO_AUDIT, record)
            match = self._routes.match(request.rel_url.path, request.rel_url.raw_path)
            if match is None:
                record.decision, record.reason = "refused", "no route for this path"
                return _error(None, 404, "not_found", "no route for this path", record)
            fmt = match.route.format
            return await self._through_route(request, match, record)
        except GatewayError as exc:
            record.decision = _decision_for(exc)
            record.reason = exc.message
            return _error(fmt, exc.status, exc.kind, exc.message, record)
        except Exception as exc:  # fail closed: whatever was not yet sent never will be
            log.error("request %s failed: %s", record.request_id, exc.__class__.__name__)
            sent = record.upstream_status is not None
            record.decision = "failed"
            record.reason = "internal failure " + ("after forwarding" if sent else "before sending")
            message = "the gateway failed while relaying the answer" if sent \
                else "the gateway failed; nothing was sent"
            return _error(fmt, 503, "internal", message, record)

    async def _through_route(self, request: web.Request, match: Match, record: AuditRecord
                             ) -> web.StreamResponse:
        route, method = match.route, request.method
        policy = route.policy.policy
        record.route, record.upstream_host = route.config.name, URL(route.config.upstream).host
        record.upstream_region = route.region
        record.policy, record.policy_version = policy.name, policy.version
        record.policy_sha256 = route.policy.sha256
        authenticate(route.config, request.headers)
        tenant = tenant_of(route.config, request.headers, self._master)
        # The audit line's name for the tenant, and the vault's.
        record.tenant = tenant_id = fingerprint(self._master, "audit-tenant", tenant)
        endpoint = route.format.endpoint(method, match.subpath)
        record.endpoint = endpoint.name if endpoint else "unknown"

        def check_placement(document: object) -> None:
            enforce(route.format.placement(match.subpath, document), route.config, route.region,
                    policy, self._config.regions)

        check_placement(None)  # what the path alone says, before reading the body
        url = match.upstream_url(request.rel_url.query)
        try:
            async with asyncio.timeout(self._timeouts.client_body):
                body = await read_body(request, self._limits.max_body_bytes,
                                       self._limits.max_decompressed_bytes)
        except TimeoutError as exc:
            raise ClientTooSlow("the request body did not arrive in time") from exc
        if endpoint is None:
            if not policy.allows_passthrough(method, match.subpath):
                raise Refused(f"aliasgate cannot inspect {record.method} requests to this path, "
                              "and the route's policy does not list it as passthrough")
            if route.signer is not None:
                raise Refused("aliasgate never signs a request it did not inspect")
            check_placement(_json_or_none(body))  # a `model` in the body still counts
            outbound, record.decision = Outbound(body or None, None), "passthrough"
        elif endpoint.inspect:
            monitor = route.config.mode == "monitor"
            tokens = self._tokens(tenant)
            inspection = RequestInspection(self._inspector,
                                           inspected_as(policy) if monitor else policy,
                                           tokens, record, check_placement,
                                           derive(self._master, "detection-cache", tenant))
            detection_started = time.perf_counter()
            content_type = request.headers.get("Content-Type", "")
            sent = await inspection.body(route.format, endpoint, body, content_type)
            record.detection_ms = round((time.perf_counter() - detection_started) * 1000, 2)
            # Monitor mode: audited as found, and the client's own body goes, with nothing
            # to restore. Only the rewrite and a block are skipped: authentication and the
            # residency checks above and in inspection applied all the same (monitor mode
            # is about detection, never about sending to a region the policy forbids).
            if monitor:
                account_monitored(record, policy)
                outbound = Outbound(body, None, content_type or None)
            else:
                await self._keep_in_vault(tenant_id, tokens)
                outbound = Outbound(sent.body, tokens, sent.content_type)
                record.decision = "forwarded"
        else:
            if body:
                raise Refused(f"aliasgate does not forward a body on {record.method} "
                              f"{endpoint.name}")
            # No body, but the answer may hold what the provider kept (a stored response).
            outbound, record.decision = Outbound(None, self._tokens(tenant)), "forwarded"
        headers = upstream_request_headers(route.config.format, request.headers)
        if request.headers.get("Authorization", "").startswith("Bearer " + KEY_PREFIX):
            headers.popall("Authorization", None)  # it carried the gateway key
        if outbound.content_type is not None:
            headers["Content-Type"] = outbound.content_type
        if route.signer is not None:
            headers = await route.signer.sign(method, url, headers, outbound.body)
        upstream_started = time.perf_counter()
        try:
            async with self._upstream.request(method, url, headers, outbound.body) as upstream:
                record.upstream_status = upstream.status
                restorer = None if outbound.tokens is None else Restorer(
                    outbound.tokens, self._budget, blocking_lookup(self._vault, tenant_id),
                    policy.tokenized_entities())
                return await self._relay(request, route.format, endpoint, upstream, restorer,
                                         record)
        finally:
            record.upstream_ms = round((time.perf_counter() - upstream_started) * 1000, 2)

    def _tokens(self, tenant: str) -> TokenMap:
        return TokenMap(derive(self._master, "tokens", tenant))

    async def _keep_in_vault(self, tenant_id: str, tokens: TokenMap) -> None:
        """Every token is in the vault before its request leaves: the provider may send it
        back in a later answer (a stored response, a thread, a batch's results)."""
        if tokens.by_token:
            await self._vault.store(tenant_id, tokens.by_token)

    async def _relay(self, request: web.Request, fmt: ApiFormat, endpoint: Endpoint | None,
                     upstream: aiohttp.ClientResponse, restorer: Restorer | None,
                     record: AuditRecord) -> web.StreamResponse:
        if 300 <= upstream.status < 400:
            # SDKs follow redirects and would resend the original, untokenized body there.
            raise UpstreamFailed("the provider answered with a redirect, which aliasgate "
                                 "does not pass on")
        headers = client_response_headers(upstream.headers)
        headers["x-aliasgate-request-id"] = record.request_id
        record.status = upstream.status
        content_type = upstream.headers.get("Content-Type", "").lower()
        if restorer is None:  # passed through uninspected: nothing to restore
            return await pipe_bytes(request, upstream, headers, record)
        try:
            if content_type.startswith("text/event-stream"):
                return await relay_stream(request, SSEDecoder(), fmt.stream_rewriter(restorer),
                                          upstream, headers, record, restorer)
            if content_type.startswith("application/vnd.amazon.eventstream") and \
                    hasattr(fmt, "eventstream_rewriter"):
                return await relay_stream(request, EventStreamDecoder(),
                                          fmt.eventstream_rewriter(restorer), upstream, headers,
                                          record, restorer)
            if _restorable(content_type):
                return await relay_whole(fmt, upstream, restorer, headers,
                                         self._limits.max_response_bytes,
                                         lines=not _is_json(content_type),
                                         rewrite=endpoint.answer if endpoint else None)
            return await pipe_bytes(request, upstream, headers, record)
        finally:
            record.tokens_restored = restorer.stats.restored
            record.tokens_repaired = restorer.stats.repaired
            record.tokens_unknown = restorer.stats.unknown


def _restorable(content_type: str) -> bool:
    """JSON, JSON lines, text, and the untyped bytes files come back as (a batch's
    results); not images, audio or other media."""
    kind = content_type.split(";")[0].strip()
    return "json" in kind or kind.startswith("text/") or kind in ("", "application/octet-stream")


def _is_json(content_type: str) -> bool:
    """One JSON document (`application/json`, `application/problem+json`), not JSON lines."""
    kind = content_type.split(";")[0].strip()
    return kind.endswith("/json") or kind.endswith("+json")


def _json_or_none(body: bytes) -> object:
    try:
        return json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return None


def _decision_for(exc: GatewayError) -> str:
    if exc.kind in ("blocked", "refused"):
        return exc.kind
    return "refused" if exc.status < 500 else "failed"


def _error(fmt: ApiFormat | None, status: int, kind: str, message: str, record: AuditRecord
           ) -> web.Response:
    record.status, record.error = status, kind
    if fmt is not None:
        body = fmt.error_body(status, kind, message)
    else:  # no route matched: a neutral shape
        body = {"error": {"message": message, "type": "invalid_request_error",
                          "code": f"aliasgate_{kind}"}}
    headers = {"x-aliasgate-request-id": record.request_id, "x-aliasgate-error": kind,
               **(fmt.error_headers(status) if fmt is not None else {})}
    return web.json_response(body, status=status, headers=headers)
