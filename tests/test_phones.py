"""Phone numbers in national and international formats (phones.py), from
tests/fixtures/detection/phones.yaml, and through the real detector."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from proxy.detect.phones import REGIONS, phone_numbers
from proxy.detect.pool import WorkerPoolAnalyzer
from tests.test_detection import DEFAULT, sent

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "detection" / "phones.yaml").read_text("utf-8"))


def found(text: str) -> list[str]:
    return [text[s.start:s.end] for s in phone_numbers(text)]


@pytest.mark.parametrize("case", CASES["positives"], ids=lambda c: c["value"])
def test_phone_numbers_are_found(case: dict[str, Any]) -> None:
    assert case["value"] in found(case["text"])


@pytest.mark.parametrize("text", CASES["negatives"])
def test_other_numbers_are_not_phones(text: str) -> None:
    assert found(text) == []


def test_fixture_is_large_enough() -> None:
    assert len(CASES["positives"]) >= 30 and len(CASES["negatives"]) >= 25


def test_the_regions_tried_include_europe_and_beyond() -> None:
    wanted = {"US", "CA", "GB", "IE", "DE", "AT", "CH", "FR", "BE", "NL", "LU", "IT", "ES",
              "PT", "BR", "DK", "NO", "SE", "FI", "PL", "IN", "AU"}
    assert wanted <= set(REGIONS)


def test_a_short_national_number_needs_a_phone_word() -> None:
    assert found("Code 32 12 34 56 applies") == []
    assert found("Ring 32 12 34 56 any time") == ["32 12 34 56"]


async def test_a_timestamp_is_not_a_phone_number(analyzer: WorkerPoolAnalyzer) -> None:
    [out] = await sent(analyzer, DEFAULT,
                       "The backup ran at 1989-07-20 13:33:26 and finished at 20:15:33.")
    assert "<PHONE_NUMBER_" not in out and "13:33:26" in out and "20:15:33" in out


async def test_national_numbers_are_tokenized(analyzer: WorkerPoolAnalyzer) -> None:
    out = await sent(analyzer, DEFAULT, "Appelez-moi au 06 12 34 56 78 demain.",
                     "Chiamami al 333 123 4567 domani.")
    assert "06 12" not in out[0] and "<PHONE_NUMBER_" in out[0]
    assert "333 123" not in out[1] and "<PHONE_NUMBER_" in out[1]


@pytest.mark.parametrize("unit", ["1/1/", "10/4 ", "1 2 3 4 5 6 7 8 9 0 ",
                                  "1 2 3 4 5 6 7 8 9 0 " * 5 + "x "])
def test_long_runs_of_digits_cost_linear_time(unit: str) -> None:
    text = unit * (200_000 // len(unit))
    started = time.perf_counter()
    phone_numbers(text)
    assert time.perf_counter() - started < 1.5
