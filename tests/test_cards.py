"""Card numbers of every brand and length (cards.py), from tests/fixtures/detection/
cards.yaml, and through the real detector where Presidio's own recognizer misses them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from proxy.detect.cards import card_numbers
from proxy.detect.pool import WorkerPoolAnalyzer
from tests.test_detection import DEFAULT, sent

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "detection" / "cards.yaml").read_text("utf-8"))


def found(text: str) -> list[tuple[str, float]]:
    return [(text[s.start:s.end], s.score) for s in card_numbers(text)]


@pytest.mark.parametrize("case", CASES["positives"], ids=lambda c: c["value"])
def test_card_numbers_are_found(case: dict[str, Any]) -> None:
    values = dict(found(case["text"]))
    assert case["value"] in values, found(case["text"])
    assert values[case["value"]] >= case.get("min_score", 0.9)


@pytest.mark.parametrize("text", CASES["negatives"])
def test_other_numbers_are_not_cards(text: str) -> None:
    assert found(text) == []


def test_fixture_is_large_enough() -> None:
    assert len(CASES["positives"]) >= 40 and len(CASES["negatives"]) >= 20


async def test_a_15_digit_amex_is_tokenized(analyzer: WorkerPoolAnalyzer) -> None:
    [grouped, plain] = await sent(analyzer, DEFAULT, "Charge my Amex 3763 049403 26996 today.",
                                  "Charge my Amex 376304940326996 today.")
    for out in (grouped, plain):
        assert out.startswith("Charge my Amex <CREDIT_CARD_") and out.endswith("> today.")


async def test_a_19_digit_visa_and_a_14_digit_diners_are_tokenized(
        analyzer: WorkerPoolAnalyzer) -> None:
    [out] = await sent(analyzer, DEFAULT, "Visa 4081 0033 9075 7938 343, Diners 3610 237409 5463.")
    assert "4081" not in out and "3610" not in out and out.count("<CREDIT_CARD_") == 2
