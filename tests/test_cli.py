"""The aliasgate command, run as a real process."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Gateway, write_config
from tests.fake_provider import FakeProvider

FIXTURES = Path(__file__).parent / "fixtures" / "policies"
CLI = [sys.executable, "-m", "proxy"]


def run(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=cwd, check=False)


def test_scan_prints_findings_and_pseudonymized_text(tmp_path: Path) -> None:
    result = run("scan", "--json", stdin="Mail Jane Doe at jane.doe@example.com today.",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    found = {f["entity"]: f["text"] for f in output["findings"]}
    assert found == {"PERSON": "Jane Doe", "EMAIL_ADDRESS": "jane.doe@example.com"}
    assert re.fullmatch(r"Mail <PERSON_\w+> at <EMAIL_ADDRESS_\w+> today\.", output["text"])
    assert "Traceback" not in result.stderr


def test_scan_human_output_with_a_policy_file(tmp_path: Path) -> None:
    result = run("scan", "--policy", str(FIXTURES / "valid.yaml"),
                 stdin="Mail jane.doe@example.com", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "EMAIL_ADDRESS" in result.stdout and "(redact)" in result.stdout
    assert result.stdout.rstrip().endswith("Mail [REDACTED_EMAIL_ADDRESS]")


def test_policy_check_reports_file_line_key_and_exit_code() -> None:
    bad = run("policy", "check", str(FIXTURES / "valid.yaml"), str(FIXTURES / "bad_score.yaml"))
    assert bad.returncode == 1
    assert f"{FIXTURES / 'valid.yaml'}: ok" in bad.stdout
    assert f"{FIXTURES / 'bad_score.yaml'}:4: min_score:" in bad.stderr
    good = run("policy", "check", str(Path(__file__).parents[1] / "policies" / "default.yaml"))
    assert good.returncode == 0


def test_email_detection_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    from proxy.detect.offline import use_bundled_suffix_list

    def refuse(*_: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    use_bundled_suffix_list()
    import tldextract

    started = time.perf_counter()
    assert tldextract.extract("mail.example.co.uk").suffix == "co.uk"
    assert time.perf_counter() - started < 1.0


async def test_serve_runs_the_gateway_from_a_config(tmp_path: Path, provider: FakeProvider
                                                    ) -> None:
    import aiohttp
    import yaml

    config_path = write_config(tmp_path, provider.url)
    config = yaml.safe_load(config_path.read_text())
    config["detection"] = {"workers": 1}
    config_path.write_text(yaml.safe_dump(config))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [*CLI, "serve", "--config", str(config_path), "--port", str(port),
               "--log-format", "json", "--log-level", "debug"]
    process = subprocess.Popen(  # noqa: ASYNC220 - the gateway under test
        command, stderr=subprocess.PIPE, text=True, env={**os.environ})
    try:
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                try:
                    async with session.get(url + "/readyz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            body = {"model": "m", "messages": [{"role": "user", "content": "I am Jane Doe"}]}
            async with session.post(url + "/openai/v1/chat/completions", json=body) as resp:
                assert resp.status == 200
                reply = await resp.json()
        assert reply["choices"][0]["message"]["content"] == "Echo: I am Jane Doe"
        assert "Jane Doe" not in provider.all_text()
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "Jane" not in stderr
    entries = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert any("decision=forwarded" in e["message"] for e in entries)
    audit = Gateway("", tmp_path / "state", provider).audit_lines()
    assert audit[-1]["decision"] == "forwarded"


def test_serve_refuses_to_start_with_an_invalid_policy(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.yaml").write_text("name: default\nversion: 1\nentities:\n"
                                           "  PERSON: tokenise\n")
    config = tmp_path / "gw.yaml"
    config.write_text("policies_dir: policies\nroutes:\n  - {name: o, path: /o, "
                      "format: openai, upstream: 'https://api.openai.com', policy: default}\n")
    result = run("serve", "--config", str(config), "--port", "0")
    assert result.returncode == 2
    assert f"{policies / 'default.yaml'}:4: entities.PERSON:" in result.stderr
    assert "Traceback" not in result.stderr
