"""Company and institution names (organizations.py), from
tests/fixtures/detection/organizations.yaml, and through the real detector: a company is
not a person or a place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from proxy.detect.organizations import SCORE, organizations
from proxy.detect.pool import WorkerPoolAnalyzer
from tests.test_detection import DEFAULT, sent

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "detection" / "organizations.yaml")
    .read_text("utf-8"))


def found(text: str) -> list[str]:
    spans = organizations(text)
    assert all(s.entity == "ORGANIZATION" and s.score == SCORE for s in spans)
    return [text[s.start:s.end] for s in spans]


@pytest.mark.parametrize("case", CASES["positives"], ids=lambda c: c["value"])
def test_organizations_are_found(case: dict[str, Any]) -> None:
    names = found(case["text"])
    assert case["value"] in names
    if "person" in case:
        person = case["text"].index(case["person"])
        assert all(case["text"].find(n) >= person + len(case["person"]) for n in names)


@pytest.mark.parametrize("text", CASES["negatives"])
def test_other_words_are_not_organizations(text: str) -> None:
    assert found(text) == []


def test_fixture_is_large_enough() -> None:
    assert len(CASES["positives"]) >= 30 and len(CASES["negatives"]) >= 15


async def test_a_company_is_neither_person_nor_place(analyzer: WorkerPoolAnalyzer) -> None:
    texts = ["We licensed the compound from Xenon Pharmaceuticals last year.",
             "Initech GmbH reported earnings on Tuesday; Bank of America too."]
    assert await sent(analyzer, DEFAULT, *texts) == texts


@pytest.mark.parametrize("text", [
    "My name is Anna Kowalski Ltd", "Please contact John Smith LLC about his diagnosis",
    "Forward this to the Office of Maria Gonzalez", "I met Priya Consulting yesterday",
    "Dear Mrs Okonkwo Foundation"])
async def test_a_company_word_after_a_person_does_not_hide_them(
        analyzer: WorkerPoolAnalyzer, text: str) -> None:
    [out] = await sent(analyzer, DEFAULT, text)
    assert "<PERSON_" in out
    assert not any(w in out for w in ("Anna", "Kowalski", "John", "Smith", "Maria",
                                      "Gonzalez", "Priya", "Okonkwo"))


async def test_the_person_before_of_stays_a_person(analyzer: WorkerPoolAnalyzer) -> None:
    [out] = await sent(analyzer, DEFAULT, "Dr Hargreaves of Acme Corp called twice.")
    assert "Hargreaves" not in out and "Acme Corp" in out
