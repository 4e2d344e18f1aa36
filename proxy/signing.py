"""Sign upstream requests with the gateway's own AWS credentials (SigV4, via botocore).

The gateway changes the body, so the client's signature can no longer hold. botocore is
an optional extra (`pip install aliasgate[bedrock]`); its credential chain finds the
gateway's identity (environment, profile, container or instance role).
"""

from __future__ import annotations

import asyncio
from typing import Any

from multidict import CIMultiDict
from yarl import URL

from .errors import ConfigError

# Client headers that belong to the client's own signature and never go upstream.
_CLIENT_SIGNATURE = ("authorization", "x-amz-date", "x-amz-security-token",
                     "x-amz-content-sha256", "amz-sdk-invocation-id", "amz-sdk-request")


class SigV4Signer:
    def __init__(self, region: str, service: str = "bedrock") -> None:
        try:
            from botocore.session import get_session
        except ImportError as exc:
            raise ConfigError(["bedrock routes need botocore: pip install 'aliasgate[bedrock]'"]
                              ) from exc
        credentials = get_session().get_credentials()
        if credentials is None:
            raise ConfigError(["bedrock routes need AWS credentials for the gateway "
                               "(environment, profile or role); none were found"])
        self._credentials = credentials
        self._region = region
        self._service = service

    def _sign(self, method: str, url: URL, headers: CIMultiDict[str], body: bytes | None
              ) -> CIMultiDict[str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        clean = {k: v for k, v in headers.items() if k.lower() not in _CLIENT_SIGNATURE}
        request: Any = AWSRequest(method=method, url=str(url), data=body or b"", headers=clean)
        SigV4Auth(self._credentials.get_frozen_credentials(), self._service,
                  self._region).add_auth(request)
        return CIMultiDict(request.headers.items())

    async def sign(self, method: str, url: URL, headers: CIMultiDict[str], body: bytes | None
                   ) -> CIMultiDict[str]:
        # In a thread: refreshing role credentials may call the network.
        return await asyncio.to_thread(self._sign, method, url, headers, body)
