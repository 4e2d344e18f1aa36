"""Per-request residency: what the request itself asks for must fit the route and policy.

- A location in the request (Vertex `locations/{region}`, a Bedrock profile geography) must
  be allowed by the policy, and a Vertex location must be the upstream host's own region.
- An Azure deployment must be one the route declares.
A refusal names the rule it broke; nothing is sent upstream.
"""

from __future__ import annotations

from ..config import RouteConfig
from ..errors import Refused
from ..formats.base import Placement
from ..policy import Policy
from ..shapes import shown
from .regions import FAMILIES, is_allowed


def enforce(placement: Placement, route: RouteConfig, route_region: str, policy: Policy,
            regions: dict[str, str]) -> None:
    if placement.deployment is not None and placement.deployment not in route.deployments:
        raise Refused(f"residency: deployment {shown(placement.deployment)} is not one this "
                      "route declares")
    location = placement.location
    if location is None:
        if route.format == "vertex" and route_region == "global":
            raise Refused("residency: a request to the global Vertex host must name its "
                          "locations/{region} in the path")
        return
    if route.format == "vertex" and route_region not in FAMILIES and \
            location.lower() != route_region.lower():
        raise Refused(f"residency: location {shown(location)} in the path does not match the "
                      f"upstream region {route_region!r}")
    residency = policy.residency
    if residency and not is_allowed(location, residency.allowed_regions, regions):
        raise Refused(f"residency: {shown(location)} is not allowed by policy {policy.name!r} "
                      f"(allowed_regions: {', '.join(residency.allowed_regions)})")
