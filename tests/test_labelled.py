"""Values typed by their label (proxy/detect/labelled.py): table columns and key-value
pairs, from tests/fixtures/detection/labelled.yaml, and through the real detector."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from proxy.detect.labelled import labelled_values
from proxy.detect.pool import WorkerPoolAnalyzer
from tests.test_detection import DEFAULT, sent

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "detection" / "labelled.yaml").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES["positives"], ids=lambda c: c["text"][:30])
def test_values_are_typed_by_their_label(case: dict[str, Any]) -> None:
    text = case["text"]
    found: dict[str, list[str]] = {}
    for span in labelled_values(text):
        found.setdefault(span.entity, []).append(text[span.start:span.end])
    assert found == case["values"]


@pytest.mark.parametrize("text", CASES["negatives"], ids=lambda t: t[:30])
def test_other_labels_and_prose_give_nothing(text: str) -> None:
    assert labelled_values(text) == []


async def test_a_pasted_table_is_tokenized_cell_by_cell(analyzer: WorkerPoolAnalyzer) -> None:
    [out] = await sent(analyzer, DEFAULT, "name,phone_number,city\nEgil Lund,98112848,Stowe")
    assert out.startswith("name,phone_number,city\n<PERSON_")
    assert not any(v in out for v in ("Egil", "Lund", "98112848", "Stowe"))


def test_a_long_key_costs_linear_time() -> None:
    text = "x: 1\n" + "a_" * 50_000 + "b=1"
    started = time.perf_counter()
    labelled_values(text)
    assert time.perf_counter() - started < 1.5
