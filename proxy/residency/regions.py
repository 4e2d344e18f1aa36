"""Cloud regions and the families they belong to.

A family is a legal area: `eu` (EU and EEA), `us`, `apac`, and smaller ones that are in
none of those (`uk`, `ch`, `ca`, `sa`, `me`, `af`). `global` means the provider picks the
region; `local` is a loopback upstream. A policy allows families or single regions; a
family admits all its members.
"""

from __future__ import annotations

FAMILIES = frozenset({"eu", "us", "apac", "uk", "ch", "ca", "sa", "me", "af", "global",
                      "local"})

_AWS = {
    "eu-central-1": "eu", "eu-central-2": "ch", "eu-west-1": "eu", "eu-west-2": "uk",
    "eu-west-3": "eu", "eu-north-1": "eu", "eu-south-1": "eu", "eu-south-2": "eu",
    "us-east-1": "us", "us-east-2": "us", "us-west-1": "us", "us-west-2": "us",
    "us-gov-east-1": "us", "us-gov-west-1": "us", "ca-central-1": "ca", "ca-west-1": "ca",
    "sa-east-1": "sa", "me-south-1": "me", "me-central-1": "me", "il-central-1": "me",
    "af-south-1": "af",
}
_AWS_PREFIXES = {"ap-": "apac"}
_GCP = {
    "europe-west1": "eu", "europe-west2": "uk", "europe-west3": "eu", "europe-west4": "eu",
    "europe-west6": "ch", "europe-west8": "eu", "europe-west9": "eu", "europe-west10": "eu",
    "europe-west12": "eu", "europe-north1": "eu", "europe-central2": "eu",
    "europe-southwest1": "eu",
}
_GCP_PREFIXES = {"us-": "us", "asia-": "apac", "australia-": "apac",
                 "northamerica-": "ca", "southamerica-": "sa", "me-": "me", "africa-": "af"}
_AZURE = {
    **dict.fromkeys(["westeurope", "northeurope", "swedencentral", "swedensouth",
                     "francecentral", "francesouth", "germanywestcentral", "germanynorth",
                     "italynorth", "polandcentral", "spaincentral", "norwayeast",
                     "norwaywest"], "eu"),
    **dict.fromkeys(["eastus", "eastus2", "westus", "westus2", "westus3", "centralus",
                     "northcentralus", "southcentralus", "westcentralus"], "us"),
    **dict.fromkeys(["japaneast", "japanwest", "australiaeast", "australiasoutheast",
                     "southeastasia", "eastasia", "koreacentral", "koreasouth",
                     "centralindia", "southindia", "westindia"], "apac"),
    **dict.fromkeys(["uksouth", "ukwest"], "uk"),
    **dict.fromkeys(["switzerlandnorth", "switzerlandwest"], "ch"),
    **dict.fromkeys(["canadacentral", "canadaeast"], "ca"),
    "brazilsouth": "sa", "uaenorth": "me", "qatarcentral": "me", "southafricanorth": "af",
}
_KNOWN = {**_AWS, **_GCP, **_AZURE}


def family_of(region: str, extra: dict[str, str] | None = None) -> str | None:
    """The family of a region (a family is its own family), or None if unknown."""
    region = region.lower()
    if region in FAMILIES:
        return region
    if extra and region in extra:
        return extra[region]
    if region in _KNOWN:
        return _KNOWN[region]
    for prefixes in (_AWS_PREFIXES, _GCP_PREFIXES):
        for prefix, family in prefixes.items():
            if region.startswith(prefix):
                return family
    return None


def is_allowed(region: str, allowed: tuple[str, ...], extra: dict[str, str] | None = None
               ) -> bool:
    """A region is allowed if it is listed, or its family is. A whole family (an Azure
    data zone, `global`) is allowed only if that family is listed."""
    region = region.lower()
    wanted = {a.lower() for a in allowed}
    if region in wanted:
        return True
    return region not in FAMILIES and family_of(region, extra) in wanted
