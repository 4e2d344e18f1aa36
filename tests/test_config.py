"""Config and policy validation: every error names file, line and key."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from proxy.config import DEFAULT_CONFIG, load_settings
from proxy.errors import ConfigError
from proxy.keys import ENV_VAR, load_master_key
from proxy.policy import load_policy_file

FIXTURES = Path(__file__).parent / "fixtures" / "policies"


@pytest.mark.parametrize(("name", "line", "key", "why"), [
    ("bad_action", 4, "entities.PERSON", "'tokenize', 'redact', 'block' or 'allow'"),
    ("unknown_entity", 5, "entities.SHOE_SIZE", "unknown entity type 'SHOE_SIZE'"),
    ("bad_score", 4, "min_score", "less than or equal to 1"),
    ("unknown_key", 4, "min_scroe", "Extra inputs are not permitted"),
    ("duplicate_key", 5, "entities.PERSON", "duplicate key"),
    ("syntax", 4, "(syntax)", ""),
    ("bad_passthrough", 5, "passthrough[0]", "must look like 'POST /v1/files*'"),
    ("bad_regex", 7, "recognizers[0].regex", "not a valid regular expression"),
    ("recognizer_without_action", 1, "(top level)", "TICKET_ID, which `entities` gives no"),
    ("bad_validator", 8, "recognizers[0].validator", "'luhn' or 'iban'"),
    ("empty_match", 7, "recognizers[0].regex", "matches the empty string"),
])
def test_invalid_policies_name_file_line_and_key(name: str, line: int, key: str, why: str
                                                 ) -> None:
    path = FIXTURES / f"{name}.yaml"
    with pytest.raises(ConfigError) as caught:
        load_policy_file(path)
    problem = caught.value.problems[0]
    assert problem.startswith(f"{path}:{line}: {key}:"), problem
    assert why in problem


def test_valid_policy_loads_with_its_hash() -> None:
    loaded = load_policy_file(FIXTURES / "valid.yaml")
    policy = loaded.policy
    assert policy.action_for("CREDIT_CARD") == "block"
    assert policy.action_for("ORGANIZATION") == "allow"  # not listed: not looked for
    assert policy.detected_entities() == ("CREDIT_CARD", "DENY_LIST", "EMAIL_ADDRESS", "PERSON")
    assert policy.allows_passthrough("GET", "/v1/files/abc")
    assert not policy.allows_passthrough("POST", "/v1/files/abc")
    assert len(loaded.sha256) == 64


@pytest.mark.parametrize("name", ["strict", "healthcare"])
def test_shipped_policies_tokenize_street_addresses(name: str) -> None:
    policy = load_policy_file(Path(__file__).parents[1] / "policies" / f"{name}.yaml").policy
    assert policy.entities["STREET_ADDRESS"] == "tokenize"


def test_shipped_default_policy_covers_the_nine_types() -> None:
    policy = load_policy_file(Path(__file__).parents[1] / "policies" / "default.yaml").policy
    for entity in ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN",
                   "IBAN_CODE", "IP_ADDRESS", "LOCATION", "STREET_ADDRESS"):
        assert policy.entities[entity] == "tokenize"


def test_config_errors_name_file_line_and_key(tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    config.write_text("routes:\n  - name: x\n    path: openai/\n    format: grpc\n"
                      "    upstream: http://api.example.com\n    policy: default\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    problems = "\n".join(caught.value.problems)
    assert f"{config}:3: routes[0].path: must look like /openai" in problems
    assert f"{config}:4: routes[0].format: unknown format 'grpc'" in problems
    assert f"{config}:5: routes[0].upstream: plain http is only allowed for loopback" in problems


def test_config_naming_a_missing_policy_fails_at_startup(tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    config.write_text("routes:\n  - {name: x, path: /x, format: openai, "
                      "upstream: 'https://api.openai.com', policy: nope}\n")
    with pytest.raises(ConfigError, match="no policy named 'nope'"):
        load_settings(config)


def test_default_config_routes_to_the_real_providers() -> None:
    routes = {r.name: (r.path, r.format, r.upstream, r.policy) for r in DEFAULT_CONFIG.routes}
    assert routes == {
        "openai": ("/openai", "openai", "https://api.openai.com", "default"),
        "anthropic": ("/anthropic", "anthropic", "https://api.anthropic.com", "default"),
    }
    assert str(DEFAULT_CONFIG.state_dir) == ".aliasgate"


def test_default_settings_fall_back_to_the_builtin_policy(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None)
    assert settings.policies["default"].policy.name == "default"
    assert settings.state_dir == tmp_path / ".aliasgate"


def test_master_key_is_generated_once_with_mode_0600(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    first = load_master_key(tmp_path / "state")
    path = tmp_path / "state" / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_master_key(tmp_path / "state") == first
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_master_key(tmp_path / "state")


def test_master_key_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = bytes(range(32))
    monkeypatch.setenv(ENV_VAR, base64.b64encode(key).decode())
    assert load_master_key(tmp_path) == key
    assert not (tmp_path / "master.key").exists()
    monkeypatch.setenv(ENV_VAR, base64.b64encode(b"short").decode())
    with pytest.raises(ConfigError, match="32 bytes"):
        load_master_key(tmp_path)


def test_every_shipped_policy_is_valid() -> None:
    shipped = sorted((Path(__file__).parents[1] / "policies").glob("*.yaml"))
    assert {p.stem for p in shipped} >= {"default", "strict", "healthcare"}
    for path in shipped:
        assert load_policy_file(path).policy.name == path.stem
