"""Place names (proxy/detect/places.py) from a YAML fixture: find_places directly, and a few
through the real detector."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from proxy.detect.places import find_places, gazetteer, is_known_place, is_place_name
from proxy.detect.pool import WorkerPoolAnalyzer

from .test_detection import DEFAULT, sent

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "detection" / "places.yaml").read_text("utf-8"))


def found(text: str) -> list[str]:
    likely, cued = find_places(text)
    return [text[s.start:s.end] for s in (*likely, *cued)]


@pytest.mark.parametrize("case", CASES["found"], ids=lambda c: c["text"][:40])
def test_places_found(case: dict[str, Any]) -> None:
    values = found(case["text"])
    for place in case["places"]:
        assert place in values, (place, values)
    for word in case.get("absent", []):
        assert word not in values, (word, values)


@pytest.mark.parametrize("text", CASES["kept"], ids=lambda t: t[:40])
def test_ordinary_words_are_not_places(text: str) -> None:
    assert found(text) == []


def test_the_fixture_has_enough_cases() -> None:
    assert len(CASES["found"]) >= 50 and len(CASES["kept"]) >= 40


def test_spans_are_locations_and_towns_are_not_ner_places() -> None:
    likely, cued = find_places("She lives in Stowe, VT with family from Italy.")
    assert {s.entity for s in (*likely, *cued)} == {"LOCATION"}
    assert is_place_name("Italy") and is_place_name("Lombardia")
    assert not is_place_name("Stowe") and is_known_place("Stowe")  # a town


def test_gazetteer_loads_fast_and_is_small() -> None:
    gazetteer.cache_clear()
    start = time.perf_counter()
    loaded = gazetteer()
    assert time.perf_counter() - start < 1.5  # about 0.15 s; slack for a loaded machine
    assert len(loaded.towns) > 100_000 and "QC" in loaded.codes and "IL" in loaded.codes
    data = Path(__file__).parents[1] / "proxy" / "detect" / "data" / "places.txt"
    assert data.stat().st_size < 4_000_000


@pytest.mark.parametrize("case", CASES["engine"], ids=lambda c: c["text"][:40])
async def test_places_through_the_detector(analyzer: WorkerPoolAnalyzer,
                                           case: dict[str, Any]) -> None:
    [out] = await sent(analyzer, DEFAULT, case["text"])
    for value in case.get("tokenized", []):
        assert value not in out, (value, out)
    for value in case.get("kept", []):
        assert value in out, (value, out)


def _seconds(text: str) -> float:
    find_places("London")  # gazetteer loaded
    start = time.process_time()
    find_places(text)
    return time.process_time() - start


def test_a_town_under_a_long_line_is_fast() -> None:
    # The line above a town on its own line is read only if short (a street line): a
    # regex with `.*` over 40 KB of prose took 15 s.
    prose = ("the quick brown fox jumps over the lazy dog " * 5000)[:200_000]
    assert _seconds(prose + "\nLondon\n") < 1.5  # about 0.05 s


def test_many_places_on_one_long_line_are_fast() -> None:
    # Each capitalised place checks whether it is a line of its own: by the characters
    # beside it, not by scanning back to the line's start. That scan is a fast memrchr,
    # so it takes 800 KB to show: 4.8 s before, about 1 s now.
    # Compared with a quarter of the text in the same run (4x if linear, 16x if not).
    text = ("London Paris " * 62000)[:800_000]
    assert _seconds(text) < 7 * _seconds(text[:200_000]) + 0.1
