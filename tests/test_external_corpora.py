"""The frozen external corpora are well-formed (no detection figures are asserted here)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).parents[1]
EXTERNAL = ROOT / "corpus" / "external"
NAMES = ["presidio_evaluator", "mimesis_locales", "faker_records", "wnut16_tweets"]
TYPES = {"PERSON", "LOCATION", "STREET_ADDRESS", "EMAIL_ADDRESS", "PHONE_NUMBER",
         "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS"}


def _load(name: str) -> list[dict[str, Any]]:
    lines = (EXTERNAL / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("name", NAMES)
def test_corpus_is_well_formed(name: str) -> None:
    records = _load(name)
    assert 400 <= len(records) <= 700
    ids = [r["id"] for r in records]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith(f"{name}-") for i in ids)
    for rec in records:
        assert isinstance(rec["template"], str) and rec["template"]
        assert rec["messages"] and all(isinstance(m, str) and m for m in rec["messages"])
        for ent in rec["entities"]:
            assert ent["type"] in TYPES
            message = rec["messages"][ent["message"]]
            assert 0 <= ent["start"] < ent["end"] <= len(message)
            written = message[ent["start"]:ent["end"]]
            # As the source wrote it, in lower case, or a CSV cell with its quotes doubled.
            assert written in (ent["value"], ent["value"].lower(),
                               ent["value"].replace('"', '""')), (rec["id"], ent)
        for phrase in rec["keep"]:
            message = rec["messages"][phrase["message"]]
            assert message[phrase["start"]:phrase["end"]] == phrase["text"], rec["id"]


@pytest.mark.parametrize("name", NAMES)
def test_corpus_has_texts_without_personal_data(name: str) -> None:
    records = _load(name)
    clean = sum(1 for r in records if not r["entities"])
    assert 0.10 <= clean / len(records) <= 0.20


def test_readme_names_every_corpus_and_says_never_tuned_on() -> None:
    readme = (EXTERNAL / "README.md").read_text(encoding="utf-8")
    assert "never tuned on" in readme.lower()
    for name in NAMES:
        assert f"{name}.jsonl" in readme
    assert {p.stem for p in EXTERNAL.glob("*.jsonl")} == set(NAMES)


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_external_corpora", ROOT / "tools" / "build_external_corpora.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


def test_builder_is_deterministic_on_a_small_sample() -> None:
    pytest.importorskip("faker")  # build-time only: the `tools` extra
    builder = _builder()
    builder._freeze_faker_clock()
    first = builder.build_faker(total=40)
    assert first == builder.build_faker(total=40)
    builder.check(first)
