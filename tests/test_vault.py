"""The token vault, against both backends: a real SQLite file and the real Redis on
127.0.0.1:6379 (each test under its own key prefix, deleted afterwards)."""

from __future__ import annotations

import asyncio
import base64
import secrets
import socket
import sqlite3
import stat
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from redis.asyncio import Redis

from proxy.cli import main
from proxy.config import VaultSettings, load_settings
from proxy.errors import ConfigError
from proxy.keys import ENV_VAR, fingerprint
from proxy.vault import VaultUnavailable
from proxy.vault.open import open_vault
from proxy.vault.purge import purge
from proxy.vault.redis import RedisStore
from proxy.vault.sealed import SealedVault
from proxy.vault.sqlite import FILE_NAME, SqliteStore
from tests.conftest import GatewayFactory

REDIS_URL = "redis://127.0.0.1:6379/0"
CLI_REDIS_URL = "redis://127.0.0.1:6379/9"   # the CLI uses the default prefix: its own DB
RETENTION = timedelta(days=30)
VALUES = {
    "<PERSON_7QK2M9XH4R2A>": "Zoë Ångström-Nakamura 山田太郎",
    "<EMAIL_ADDRESS_0ABCDEFGHJKM>": "zoë@exämple.org",
    "<PERSON_ZZZZZZZZZZZZ>": "half a pair: \ud83d and emoji \U0001f600",   # a lone surrogate
}


def _raw(reply: bytes | str | None) -> bytes:
    assert isinstance(reply, bytes)
    return reply


class Clock:
    """Unix seconds that a test moves forward instead of sleeping."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class Backend:
    """One backend under test: new vault objects over the same storage (replicas), and raw
    access to what it keeps, as someone reading the disk or Redis would see it."""

    name: str
    master: bytes
    path: Path
    prefix: str
    clock: Clock

    async def vault(self) -> SealedVault:
        if self.name == "sqlite":
            return SealedVault(await SqliteStore.open(self.path, clock=self.clock), self.master)
        return SealedVault(await RedisStore.open(REDIS_URL, RETENTION, prefix=self.prefix),
                           self.master)

    async def entries(self) -> dict[tuple[bytes, bytes], bytes]:
        """(tenant id, lookup id) -> blob, read behind the vault's back."""
        if self.name == "sqlite":
            with sqlite3.connect(self.path) as db:
                return {(bytes(t), bytes(lk)): bytes(b) for t, lk, b in
                        db.execute("SELECT tenant, lookup, blob FROM entries")}
        async with Redis.from_url(REDIS_URL) as client:
            found = {}
            async for key in client.scan_iter(match=self.prefix + "entry:*"):
                tenant, lookup = key.decode().removeprefix(self.prefix + "entry:").split(":")
                found[(bytes.fromhex(tenant), bytes.fromhex(lookup))] = _raw(await client.get(key))
            return found

    async def overwrite(self, tenant: bytes, lookup: bytes, blob: bytes) -> None:
        if self.name == "sqlite":
            with sqlite3.connect(self.path) as db:
                db.execute("UPDATE entries SET blob = ? WHERE tenant = ? AND lookup = ?",
                           (blob, tenant, lookup))
            return
        async with Redis.from_url(REDIS_URL) as client:
            key = f"{self.prefix}entry:{tenant.hex()}:{lookup.hex()}"
            await client.set(key, blob, keepttl=True)

    async def salts(self) -> dict[bytes, bytes]:
        if self.name == "sqlite":
            with sqlite3.connect(self.path) as db:
                return {bytes(t): bytes(s) for t, s in db.execute("SELECT tenant, salt FROM salts")}
        async with Redis.from_url(REDIS_URL) as client:
            return {bytes.fromhex(k.decode().removeprefix(self.prefix + "salt:")):
                    _raw(await client.get(k))
                    async for k in client.scan_iter(match=self.prefix + "salt:*")}

    async def at_rest(self) -> bytes:
        """Every byte the backend keeps (the SQLite file with its WAL; Redis keys and values)."""
        if self.name == "sqlite":
            return b"".join(p.read_bytes() for p in self.path.parent.glob(FILE_NAME + "*"))
        async with Redis.from_url(REDIS_URL) as client:
            kept = b""
            async for key in client.scan_iter(match=self.prefix + "*"):
                kept += key + (await client.get(key) or b"")
            return kept


@pytest.fixture(params=["sqlite", "redis"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    prefix = f"aliasgate:test:{secrets.token_hex(8)}:"
    yield Backend(request.param, secrets.token_bytes(32), tmp_path / "state" / FILE_NAME,
                  prefix, Clock())
    if request.param == "redis":
        async with Redis.from_url(REDIS_URL) as client:
            keys = [k async for k in client.scan_iter(match=prefix + "*")]
            if keys:
                await client.delete(*keys)


@pytest.fixture
async def vault(backend: Backend) -> AsyncIterator[SealedVault]:
    opened = await backend.vault()
    yield opened
    await opened.close()


def closed_port() -> int:
    """A loopback port nothing listens on (it was just bound and closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_round_trip_of_any_unicode_value(vault: SealedVault) -> None:
    await vault.store("tenant-a", VALUES)
    assert await vault.lookup("tenant-a", [*VALUES, "<PERSON_NOTSTOREDXXX>"]) == VALUES
    assert await vault.lookup("tenant-a", []) == {}
    assert await vault.problem() is None


async def test_a_replica_with_the_same_master_key_restores(backend: Backend,
                                                           vault: SealedVault) -> None:
    replica = await backend.vault()
    try:
        await vault.store("tenant-a", {"<PERSON_7QK2M9XH4R2A>": "Ana Horvat"})
        assert await replica.lookup("tenant-a", ["<PERSON_7QK2M9XH4R2A>"]) == {
            "<PERSON_7QK2M9XH4R2A>": "Ana Horvat"}
        # Both replicas meet a new tenant at once: they must agree on its one salt.
        await asyncio.gather(vault.store("tenant-new", {"<PERSON_AAAAAAAAAAAA>": "Ann"}),
                             replica.store("tenant-new", {"<PERSON_BBBBBBBBBBBB>": "Bob"}))
        both = {"<PERSON_AAAAAAAAAAAA>": "Ann", "<PERSON_BBBBBBBBBBBB>": "Bob"}
        assert await vault.lookup("tenant-new", list(both)) == both
        assert await replica.lookup("tenant-new", list(both)) == both
    finally:
        await replica.close()


async def test_another_master_key_restores_nothing(backend: Backend, vault: SealedVault
                                                   ) -> None:
    await vault.store("tenant-a", VALUES)
    backend.master = secrets.token_bytes(32)
    stranger = await backend.vault()
    try:
        assert await stranger.lookup("tenant-a", list(VALUES)) == {}
    finally:
        await stranger.close()


async def test_tenants_are_isolated(vault: SealedVault) -> None:
    await vault.store("tenant-a", {"<PERSON_7QK2M9XH4R2A>": "Ana Horvat"})
    assert await vault.lookup("tenant-b", ["<PERSON_7QK2M9XH4R2A>"]) == {}
    await vault.store("tenant-b", {"<PERSON_7QK2M9XH4R2A>": "Someone Else"})
    assert await vault.lookup("tenant-a", ["<PERSON_7QK2M9XH4R2A>"]) == {
        "<PERSON_7QK2M9XH4R2A>": "Ana Horvat"}


async def test_nothing_is_kept_in_the_clear(backend: Backend, vault: SealedVault) -> None:
    await vault.store("tenant-a", VALUES)
    kept = await backend.at_rest()
    assert kept, "the backend kept nothing"
    for token, value in VALUES.items():
        assert token.encode() not in kept
        assert token.strip("<>").encode() not in kept
        for part in (w for w in value.split() if len(w) > 3):   # words, not letters
            assert part.encode("utf-8", "surrogatepass") not in kept
    assert b"tenant-a" not in kept


async def test_purging_a_tenant_shreds_it(backend: Backend, vault: SealedVault) -> None:
    await vault.store("tenant-a", VALUES)
    await vault.store("tenant-b", {"<PERSON_7QK2M9XH4R2A>": "Bo"})
    old_salts = await backend.salts()
    old_entries = await backend.entries()
    assert await vault.purge_tenant("tenant-a") == len(VALUES)
    assert await vault.lookup("tenant-a", list(VALUES)) == {}
    assert await vault.lookup("tenant-b", ["<PERSON_7QK2M9XH4R2A>"]) == {
        "<PERSON_7QK2M9XH4R2A>": "Bo"}
    assert await vault.purge_tenant("tenant-a") == 0

    # The tenant stores again: a new salt, and a surviving copy of an old entry
    # (a backup, say) put where the new one is does not open.
    await vault.store("tenant-a", {"<PERSON_7QK2M9XH4R2A>": "Ana again"})
    (tenant_a, new_lookup), = [k for k in await backend.entries() if k not in old_entries]
    new_salts = await backend.salts()
    assert new_salts[tenant_a] != old_salts[tenant_a]
    [tenant_b] = set(new_salts) - {tenant_a}
    assert new_salts[tenant_b] == old_salts[tenant_b]
    old_blob = next(b for (t, _), b in old_entries.items() if t == tenant_a)
    await backend.overwrite(tenant_a, new_lookup, old_blob)
    assert await vault.lookup("tenant-a", ["<PERSON_7QK2M9XH4R2A>"]) == {}
    assert vault.unopened == 1


async def test_a_blob_moved_to_another_token_or_tenant_does_not_open(
        backend: Backend, vault: SealedVault) -> None:
    await vault.store("tenant-a", {"<PERSON_AAAAAAAAAAAA>": "Ann", "<PERSON_BBBBBBBBBBBB>": "Bob"})
    await vault.store("tenant-b", {"<PERSON_CCCCCCCCCCCC>": "Cid"})
    entries = await backend.entries()
    by_tenant: dict[bytes, list[tuple[bytes, bytes]]] = {}
    for (tenant, lookup), blob in entries.items():
        by_tenant.setdefault(tenant, []).append((lookup, blob))
    [(a1, blob1), (a2, blob2)] = next(v for v in by_tenant.values() if len(v) == 2)
    [(b1, blob3)] = next(v for v in by_tenant.values() if len(v) == 1)
    tenant_a = next(t for t, v in by_tenant.items() if len(v) == 2)
    tenant_b = next(t for t, v in by_tenant.items() if len(v) == 1)
    # Swap Ann's and Bob's blobs; give tenant b a blob of tenant a.
    await backend.overwrite(tenant_a, a1, blob2)
    await backend.overwrite(tenant_a, a2, blob1)
    await backend.overwrite(tenant_b, b1, blob1)
    assert await vault.lookup("tenant-a", ["<PERSON_AAAAAAAAAAAA>", "<PERSON_BBBBBBBBBBBB>"]) == {}
    assert await vault.lookup("tenant-b", ["<PERSON_CCCCCCCCCCCC>"]) == {}
    assert vault.unopened == 3
    await backend.overwrite(tenant_b, b1, blob3)   # its own blob, put back, opens again
    assert await vault.lookup("tenant-b", ["<PERSON_CCCCCCCCCCCC>"]) == {
        "<PERSON_CCCCCCCCCCCC>": "Cid"}


async def test_sqlite_purges_by_age_and_a_store_refreshes(tmp_path: Path) -> None:
    clock = Clock()
    vault = SealedVault(await SqliteStore.open(tmp_path / FILE_NAME, clock=clock),
                        secrets.token_bytes(32), clock=clock)
    try:
        await vault.store("t", {"<PERSON_AAAAAAAAAAAA>": "Ann", "<PERSON_BBBBBBBBBBBB>": "Bob"})
        clock.now += timedelta(days=2).total_seconds()
        await vault.store("t", {"<PERSON_BBBBBBBBBBBB>": "Bob"})   # refreshed
        await vault.store("t", {"<PERSON_CCCCCCCCCCCC>": "Cid"})
        clock.now += timedelta(hours=1).total_seconds()
        assert await vault.purge_older_than(timedelta(days=1)) == 1
        assert await vault.lookup("t", ["<PERSON_AAAAAAAAAAAA>", "<PERSON_BBBBBBBBBBBB>",
                                        "<PERSON_CCCCCCCCCCCC>"]) == {
            "<PERSON_BBBBBBBBBBBB>": "Bob", "<PERSON_CCCCCCCCCCCC>": "Cid"}
        assert await vault.purge_older_than(timedelta(minutes=30)) == 2
    finally:
        await vault.close()


async def test_sqlite_file_is_private_and_old_entries_go_when_it_opens(tmp_path: Path) -> None:
    master = secrets.token_bytes(32)
    clock = Clock()
    clock.now -= timedelta(days=31).total_seconds()
    old = SealedVault(await SqliteStore.open(tmp_path / FILE_NAME, clock=clock), master)
    await old.store("t", {"<PERSON_AAAAAAAAAAAA>": "Ann"})
    await old.close()
    vault = await open_vault(VaultSettings(), tmp_path, master)   # 30 days' retention
    try:
        await vault.store("t", {"<PERSON_BBBBBBBBBBBB>": "Bob"})
        assert await vault.lookup("t", ["<PERSON_AAAAAAAAAAAA>", "<PERSON_BBBBBBBBBBBB>"]) == {
            "<PERSON_BBBBBBBBBBBB>": "Bob"}
        files = sorted(tmp_path.glob(FILE_NAME + "*"))  # noqa: ASYNC240 (test code)
        assert [f.name for f in files] == [FILE_NAME, FILE_NAME + "-shm", FILE_NAME + "-wal"]
        assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
        files[0].unlink()
        assert "was removed" in (await vault.problem() or "")
    finally:
        await vault.close()
    with pytest.raises(VaultUnavailable):
        await vault.lookup("t", ["<PERSON_BBBBBBBBBBBB>"])


async def test_redis_entries_live_for_the_retention(backend: Backend, vault: SealedVault
                                                    ) -> None:
    if backend.name != "redis":
        pytest.skip("Redis expires entries itself; SQLite is swept (tests above)")
    await vault.store("t", {"<PERSON_AAAAAAAAAAAA>": "Ann", "<PERSON_BBBBBBBBBBBB>": "Bob"})
    async with Redis.from_url(REDIS_URL) as client:
        keys = [k async for k in client.scan_iter(match=backend.prefix + "*")]
        assert len(keys) == 3   # the salt and two entries
        for key in keys:
            assert RETENTION.total_seconds() - 60 < await client.ttl(key) <= \
                RETENTION.total_seconds()
        # Make one entry look 29 days and 23 hours old: it has an hour left.
        entry = next(k for k in keys if b":entry:" in k)
        await client.expire(entry, 3600)
    assert await vault.purge_older_than(timedelta(days=1)) == 1
    assert len(await vault.lookup("t", ["<PERSON_AAAAAAAAAAAA>", "<PERSON_BBBBBBBBBBBB>"])) == 1
    assert await vault.purge_older_than(timedelta(days=31)) == 0   # Redis expires those


async def test_redis_unreachable_fails_closed_quickly() -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    vault = SealedVault(await RedisStore.open(url, RETENTION), secrets.token_bytes(32))
    try:
        started = time.monotonic()
        with pytest.raises(VaultUnavailable):
            await vault.store("t", {"<PERSON_AAAAAAAAAAAA>": "Ann"})
        with pytest.raises(VaultUnavailable):
            await vault.lookup("t", ["<PERSON_AAAAAAAAAAAA>"])
        assert time.monotonic() - started < 3
        why = await vault.problem()
        assert why is not None and "Redis" in why and "ConnectionError" in why, why
        assert "Ann" not in why
    finally:
        await vault.close()


async def test_redis_that_never_answers_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(-1)   # accepts, reads, never answers

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    store = await RedisStore.open(f"redis://127.0.0.1:{port}/0", RETENTION,
                                  socket_seconds=0.3)
    vault = SealedVault(store, secrets.token_bytes(32))
    try:
        started = time.monotonic()
        with pytest.raises(VaultUnavailable):
            await vault.lookup("t", ["<PERSON_AAAAAAAAAAAA>"])
        assert time.monotonic() - started < 2
        assert "Timeout" in (await vault.problem() or "")
    finally:
        await vault.close()
        server.close()


def test_redis_without_a_url_is_refused_with_file_line_and_key(tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    for vault, why in [("{backend: redis}", "the redis vault needs a url"),
                       ("{backend: redis, url: 'http://127.0.0.1:6379'}", "redis:// or rediss://"),
                       ("{url: 'redis://127.0.0.1:6379/0'}", "takes no url"),
                       ("{retention_days: 0}", "greater than or equal to 1")]:
        config.write_text("routes: []\nlisten: {port: 8081}\n"
                          f"vault: {vault}\n")
        with pytest.raises(ConfigError) as caught:
            load_settings(config)
        [problem] = caught.value.problems
        key = "vault.retention_days" if "retention" in vault else "vault.url"
        assert problem.startswith(f"{config}:3: {key}: "), problem
        assert why in problem, problem
    config.write_text("routes: []\nvault: {backend: redis, url: 'rediss://r.example:6380/2'}\n")
    assert load_settings(config).config.vault.url == "rediss://r.example:6380/2"


@pytest.fixture
def cli_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
               ) -> Iterator[tuple[Path, bytes]]:
    master = secrets.token_bytes(32)
    monkeypatch.setenv(ENV_VAR, base64.b64encode(master).decode())
    vault: dict[str, Any] = ({"backend": "redis", "url": CLI_REDIS_URL}
                             if request.param == "redis" else {})
    path = tmp_path / "gw.yaml"
    path.write_text(yaml.safe_dump({"state_dir": "state", "routes": [], "vault": vault}))
    yield path, master
    settings = load_settings(path)   # delete what the test wrote, even if it failed
    for tenant in ("acme", "sk-test-1"):
        asyncio.run(purge(settings.config.vault, settings.state_dir, master, tenant=tenant))


@pytest.mark.parametrize("cli_config", ["sqlite", "redis"], indirect=True)
def test_cli_purges_a_tenant_by_name_or_fingerprint_and_by_age(
        cli_config: tuple[Path, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    config, master = cli_config
    settings = load_settings(config)
    acme = fingerprint(master, "audit-tenant", "route:acme")
    keyed = fingerprint(master, "audit-tenant",
                        "key:" + fingerprint(master, "tenant-credential", "sk-test-1"))

    async def fill() -> None:
        vault = await open_vault(settings.config.vault, settings.state_dir, master)
        try:
            for tenant in (acme, keyed):
                await vault.store(tenant, {"<PERSON_AAAAAAAAAAAA>": "Ann",
                                           "<PERSON_BBBBBBBBBBBB>": "Bob"})
        finally:
            await vault.close()

    async def left(tenant: str) -> dict[str, str]:
        vault = await open_vault(settings.config.vault, settings.state_dir, master)
        try:
            return await vault.lookup(tenant, ["<PERSON_AAAAAAAAAAAA>", "<PERSON_BBBBBBBBBBBB>"])
        finally:
            await vault.close()

    asyncio.run(fill())
    assert main(["vault", "purge", "--config", str(config), "--older-than", "1d"]) == 0
    assert capsys.readouterr().out == "removed 0 vault entries\n"
    assert main(["vault", "purge", "--config", str(config), "--tenant", "acme"]) == 0
    assert capsys.readouterr().out == "removed 2 vault entries\n"
    assert asyncio.run(left(acme)) == {}
    assert len(asyncio.run(left(keyed))) == 2
    # An API credential, with or without its Bearer scheme, or the fingerprint.
    assert main(["vault", "purge", "--config", str(config), "--tenant", "sk-test-1"]) == 0
    assert capsys.readouterr().out == "removed 2 vault entries\n"
    asyncio.run(fill())
    assert main(["vault", "purge", "--config", str(config), "--tenant", acme]) == 0
    assert capsys.readouterr().out == "removed 2 vault entries\n"
    assert main(["vault", "purge", "--config", str(config), "--tenant", "key:Bearer sk-test-1"]
                ) == 0
    output = capsys.readouterr()
    assert output.out == "removed 2 vault entries\n" and "Ann" not in output.err
    with pytest.raises(SystemExit):
        main(["vault", "purge", "--config", str(config), "--older-than", "soon"])
    assert "not an age like 30d" in capsys.readouterr().err


async def test_readyz_reports_the_vault(start_gateway: GatewayFactory) -> None:
    gateway = await start_gateway()
    broken = await start_gateway(
        {"vault": {"backend": "redis", "url": f"redis://127.0.0.1:{closed_port()}/0"},
         "state_dir": "state-broken"})
    async with aiohttp.ClientSession() as session:
        async with session.get(gateway.url + "/readyz") as resp:
            body = await resp.json()
            assert resp.status == 200 and body["checks"]["vault"] is True
            assert body["reasons"] == {}
        async with session.get(broken.url + "/readyz") as resp:
            body = await resp.json()
            assert resp.status == 503 and body["checks"]["vault"] is False
            assert "Redis" in body["reasons"]["vault"]
    assert (gateway.state_dir / FILE_NAME).exists()


async def test_a_token_stored_minutes_ago_is_not_stored_again(tmp_path: Path) -> None:
    """A conversation resends its values turn after turn: the second store of the same
    token within REFRESH_SECONDS writes nothing; after it, the age is refreshed."""
    clock = Clock()
    store = await SqliteStore.open(tmp_path / FILE_NAME, clock=clock)
    vault = SealedVault(store, secrets.token_bytes(32), clock=clock)
    try:
        await vault.store("t", {"<PERSON_AAAAAAAAAAAA>": "Ann"})
        clock.now += 60
        await vault.store("t", {"<PERSON_AAAAAAAAAAAA>": "Ann"})
        assert await vault.purge_older_than(timedelta(seconds=30)) == 1  # not refreshed
        await vault.store("t", {"<PERSON_AAAAAAAAAAAA>": "Ann"})
        clock.now += 3600
        await vault.store("t", {"<PERSON_AAAAAAAAAAAA>": "Ann"})
        assert await vault.lookup("t", ["<PERSON_AAAAAAAAAAAA>"]) == {
            "<PERSON_AAAAAAAAAAAA>": "Ann"}
        assert await vault.purge_older_than(timedelta(minutes=30)) == 0  # refreshed
    finally:
        await vault.close()
