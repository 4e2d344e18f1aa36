"""The one client session that talks to providers: no redirects, no proxy env, timeouts."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp.abc import AbstractResolver
from multidict import CIMultiDict
from yarl import URL

from .config import Timeouts
from .errors import UpstreamFailed, UpstreamTimeout


class Upstream:
    def __init__(self, timeouts: Timeouts, resolver: AbstractResolver | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeouts.total, connect=timeouts.connect,
                                              sock_read=timeouts.read)
        self._resolver = resolver
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(resolver=self._resolver, ssl=self._ssl)
        self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout,
                                              trust_env=False, auto_decompress=True)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    @asynccontextmanager
    async def request(self, method: str, url: URL, headers: CIMultiDict[str],
                      body: bytes | None) -> AsyncIterator[aiohttp.ClientResponse]:
        """The provider's response once its headers arrived. Errors while reading its body
        are the caller's to handle: by then the client may have part of the answer."""
        assert self._session is not None, "Upstream.start() was not awaited"
        try:
            response = await self._session.request(method, url, headers=headers, data=body,
                                                   allow_redirects=False)
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise UpstreamTimeout("the provider did not answer in time") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamFailed("the provider could not be reached") from exc
        try:
            yield response
        finally:
            response.release()
