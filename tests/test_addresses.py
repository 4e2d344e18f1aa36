"""Street addresses (proxy/detect/addresses/) from a YAML fixture: street_addresses
directly, its speed on a large text, and address blocks through the real detector."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from proxy.detect.addresses import street_addresses
from proxy.detect.pool import WorkerPoolAnalyzer

from .test_detection import DEFAULT, sent

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "detection" / "addresses.yaml").read_text("utf-8"))
TOKEN = re.compile(r"<STREET_ADDRESS_[^>]+>")


def found(text: str) -> list[str]:
    return [text[s.start:s.end] for s in street_addresses(text)]


@pytest.mark.parametrize("case", CASES["positives"], ids=lambda c: c["text"][:40])
def test_addresses_found(case: dict[str, Any]) -> None:
    assert found(case["text"]) == case["spans"]


@pytest.mark.parametrize("text", CASES["negatives"], ids=lambda t: t[:40])
def test_ordinary_texts_hold_no_address(text: str) -> None:
    assert found(text) == []


def test_the_fixture_has_enough_cases() -> None:
    assert len(CASES["positives"]) >= 60 and len(CASES["negatives"]) >= 30


def test_spans_are_street_addresses_above_the_threshold() -> None:
    text = "Apt 5B, 350 Fifth Avenue, New York, NY 10118 and PO Box 12"
    spans = street_addresses(text)
    assert spans and all(s.entity == "STREET_ADDRESS" and s.score >= 0.75 for s in spans)


def test_a_megabyte_of_digits_and_words_is_fast() -> None:
    rng = random.Random(3)
    vocabulary = ("the data via way place street road st suite unit flat box to at 12 Main "
                  "Berlin London Hauptstraße Kerkstraat rue Via Calle 2024-05-12 10:30 "
                  "v2.3.1 IL NY SW1A 1AA 10115 75002 560001 No. # ,")
    words = vocabulary.split()
    parts = []
    for _ in range(170_000):
        parts.append(str(rng.randint(0, 99999)) if rng.random() < 0.4 else rng.choice(words))
    text = " ".join(parts)[:1_000_000]
    # Linear: the whole megabyte within about four times its first quarter (sixteen if
    # quadratic), measured in the same run so a loaded machine does not fail it.
    assert _seconds(text) < 7 * _seconds(text[:250_000]) + 0.1  # about 1 s


ENGINE_CASES = [
    ("Please ship to Flat 4, 12 High St, London SW1A 1AA by Monday.",
     "Please ship to {} by Monday."),
    ("Jane Doe\nHauptstraße 12\n10115 Berlin\n", "{}\n{}\n"),
    ("Our office: 1600 Pennsylvania Ave NW, Washington, DC 20500.", "Our office: {}."),
    ("Envoyez-le au 12 rue de la Paix, 75002 Paris avant midi.",
     "Envoyez-le au {} avant midi."),
]


@pytest.mark.parametrize(("text", "shape"), ENGINE_CASES, ids=lambda v: v[:30])
async def test_an_address_block_is_one_token(analyzer: WorkerPoolAnalyzer, text: str,
                                             shape: str) -> None:
    [out] = await sent(analyzer, DEFAULT, text)
    tokens = TOKEN.findall(out)
    assert len(tokens) == 1, out
    # Everything else is as written (the name before the block is its own token).
    rest = re.sub(r"<PERSON_[^>]+>", "{}", out.replace(tokens[0], "{}"))
    assert rest == shape, out


async def test_ordinary_numbers_are_no_address_through_the_detector(
        analyzer: WorkerPoolAnalyzer) -> None:
    text = "Room 12 is booked at 10:30 for Python 3; see page 12, line 5 and Step 3."
    [out] = await sent(analyzer, DEFAULT, text)
    assert out == text


def _seconds(text: str) -> float:
    street_addresses("12 Main Street")  # word lists loaded
    start = time.process_time()
    street_addresses(text)
    return time.process_time() - start


def test_many_lower_case_street_names_on_one_line_are_fast() -> None:
    # Each `12 rue xqz xqy xqw xqv` guesses its name's end in the line's tokens: searched
    # from the street word, not from the line's start (5 s here before: quadratic).
    assert _seconds(("12 rue xqz xqy xqw xqv " * 9000)[:200_000]) < 1.5  # about 0.1 s


def test_a_text_of_flats_is_fast() -> None:
    # Linear: four times the text takes about four times as long (sixteen if quadratic),
    # compared in the same run, so a loaded machine does not fail it.
    quarter, whole = _seconds(("Apt 5 " * 8500)[:50_000]), _seconds(("Apt 5 " * 34000)[:200_000])
    assert whole < 7 * quarter + 0.1
