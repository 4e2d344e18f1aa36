"""Match a request path to a route. Only the path counts: never Host or an absolute target."""

from __future__ import annotations

import re
from dataclasses import dataclass

from multidict import MultiMapping
from yarl import URL

from .config import GatewayConfig, RouteConfig, route_region
from .errors import BadRequest, Refused
from .formats import get_format
from .formats.base import ApiFormat
from .policy import LoadedPolicy
from .shapes import SEGMENT, has_id_shape
from .signing import SigV4Signer

# Google Cloud names a project by id or by its 12-digit number: the one place a long number
# is an id.
_NUMBERED = re.compile(r"/projects/\d{12}(?=/)")


@dataclass(frozen=True)
class Route:
    config: RouteConfig
    format: ApiFormat
    policy: LoadedPolicy
    region: str              # from the route's declaration or the endpoint catalogue
    signer: SigV4Signer | None = None  # routes that sign with the gateway's credentials


@dataclass(frozen=True)
class Match:
    route: Route
    subpath: str  # the rest of the decoded path after the route prefix, e.g. /v1/models

    def upstream_url(self, query: MultiMapping[str]) -> URL:
        """The provider URL: the configured upstream plus the subpath and allowed query,
        each checked for its shape.

        Built from the decoded subpath, so no encoding trick can move it to another host.
        """
        _check_segments(self.subpath)
        shapes = self.route.format.query_params
        if set(query) - set(shapes):
            raise Refused("the request has a query parameter aliasgate does not forward")
        for name, value in query.items():
            if not has_id_shape(value, shapes[name]):  # page cursors are ids
                raise Refused(f"the query parameter {name} does not have the shape aliasgate "
                              "forwards; it was not sent")
        base = URL(self.route.config.upstream)
        url = base.with_path(base.path.rstrip("/") + self.subpath).with_query(query)
        if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port):
            raise Refused("the request path does not stay on the route's upstream")
        return url


class RouteTable:
    def __init__(self, routes: list[Route]) -> None:
        self._routes = sorted(routes, key=lambda r: len(r.config.path), reverse=True)

    @classmethod
    def build(cls, config: GatewayConfig, policies: dict[str, LoadedPolicy]) -> RouteTable:
        """Routes of a validated config (load_settings checked every route's region)."""
        routes = []
        for route in config.routes:
            region = route_region(route, config)
            assert region is not None, "load_settings refuses routes without a region"
            signer = SigV4Signer(region) if route.format == "bedrock" else None
            routes.append(Route(route, get_format(route.format), policies[route.policy],
                                region, signer))
        return cls(routes)

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


def _check_segments(subpath: str) -> None:
    """Every segment of the path must be an id, a name or a method: a path is not text."""
    segments = _NUMBERED.sub("/projects/0", subpath).split("/")[1:]
    if not all(has_id_shape(segment, SEGMENT) for segment in segments):
        raise Refused("a segment of the request path is not an identifier; aliasgate "
                      "does not send it")
