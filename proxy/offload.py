"""Work that may run long goes to a thread; small work stays on the event loop, where it
costs less than the hop to a thread and back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")


async def off_loop_if(large: bool, work: Callable[..., _T], *args: object) -> _T:
    return await asyncio.to_thread(work, *args) if large else work(*args)
