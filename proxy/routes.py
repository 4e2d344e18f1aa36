"""Match a request path to a route. Only the path counts: never Host or an absolute target."""

from __future__ import annotations

from dataclasses import dataclass

from .config import RouteConfig
from .errors import BadRequest
from .formats import get_format
from .formats.base import ApiFormat
from .policy import LoadedPolicy


@dataclass(frozen=True)
class Route:
    config: RouteConfig
    format: ApiFormat
    policy: LoadedPolicy


@dataclass(frozen=True)
class Match:
    route: Route
    subpath: str  # the rest of the path after the route prefix, e.g. /v1/chat/completions


class RouteTable:
    def __init__(self, routes: list[Route]) -> None:
        self._routes = sorted(routes, key=lambda r: len(r.config.path), reverse=True)

    @classmethod
    def build(cls, configs: tuple[RouteConfig, ...], policies: dict[str, LoadedPolicy]
              ) -> RouteTable:
        return cls([Route(c, get_format(c.format), policies[c.policy]) for c in configs])

    def match(self, path: str, raw_path: str) -> Match | None:
        """Route by the decoded path; a path that is not in normal form is refused."""
        segments = path.split("/")
        odd = any(s in (".", "..") for s in segments) or "//" in path or "\\" in path
        if odd or "%2f" in raw_path.lower() or "%5c" in raw_path.lower():
            raise BadRequest("the request path is not in normal form")
        for route in self._routes:
            prefix = route.config.path
            if path == prefix or path.startswith(prefix + "/"):
                return Match(route, path[len(prefix):])
        return None
