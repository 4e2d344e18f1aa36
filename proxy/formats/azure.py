"""Azure OpenAI: the OpenAI wire format under Azure's paths, with the `api-key` header.

    /openai/deployments/{deployment}/chat/completions?api-version=...
    /openai/deployments/{deployment}/completions | /embeddings
    /openai/v1/chat/completions | /completions | /embeddings   (deployment in `model`)
    /openai/v1/... and /openai/...?api-version=  every other OpenAI path (responses, files,
                                                 batches: what `AzureOpenAI` calls them)
    /openai/models, /openai/v1/models

The deployment (path or `model`) is the request's placement: residency checks it against
the deployments the route declares.
"""

from __future__ import annotations

import re

from .base import Endpoint, Json, Placement
from .openai import OpenAIFormat

_DEPLOYMENT_PATH = re.compile(r"^/openai/deployments/([^/]+)(/.*)$")


def _as_openai(subpath: str) -> tuple[str | None, str | None]:
    """(deployment in the path, the equivalent OpenAI path) or (None, None)."""
    match = _DEPLOYMENT_PATH.match(subpath)
    if match:
        return match.group(1), "/v1" + match.group(2)
    if subpath.startswith("/openai/v1/"):
        return None, subpath.removeprefix("/openai")
    if subpath in ("/openai/models", "/openai/v1/models"):
        return None, "/v1/models"
    if subpath.startswith("/openai/"):  # AzureOpenAI's spelling: /openai/responses
        return None, "/v1/" + subpath.removeprefix("/openai/")
    return None, None


class AzureFormat(OpenAIFormat):
    name = "azure"

    def endpoint(self, method: str, subpath: str) -> Endpoint | None:
        _, openai_path = _as_openai(subpath)
        return super().endpoint(method, openai_path) if openai_path else None

    def placement(self, subpath: str, body: Json | None) -> Placement:
        deployment, _ = _as_openai(subpath)
        if deployment is None and isinstance(body, dict) and isinstance(body.get("model"), str):
            deployment = body["model"]  # /openai/v1/... and any passthrough body
        return Placement(deployment=deployment)
