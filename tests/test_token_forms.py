"""Tokens as models write them back: which forms are read as tokens, and how a stream of
one-character deltas restores them exactly as the whole text does."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import pytest

from proxy.config import VaultSettings
from proxy.reidentify import MAX_VAULT_ASKS, Restorer
from proxy.token_forms import forms_for
from proxy.tokens import TokenMap
from proxy.vault.blocking import blocking_lookup
from proxy.vault.open import open_vault

FORMS = forms_for(frozenset())


def keys(text: str) -> list[tuple[str, str]]:
    return [(f.key, text[f.start:f.end]) for f in FORMS.find(text)]


@pytest.mark.parametrize(("text", "found"), [
    ("<person_7qk2m9xh4r2a>", "<person_7qk2m9xh4r2a>"),
    ("said PERSON_7QK2M9XH4R2A.", "PERSON_7QK2M9XH4R2A"),
    ("<CREDIT CARD-7QK2M9XH4R2A>", "<CREDIT CARD-7QK2M9XH4R2A>"),
    ("&lt;PERSON_7QK2M9XH4R2A&gt;", "&lt;PERSON_7QK2M9XH4R2A&gt;"),
    ("(PERSON_7QK2M9XH4R2A)", "(PERSON_7QK2M9XH4R2A)"),
    ("İstanbul: PERSON_7QK2M9XH4R2A", "PERSON_7QK2M9XH4R2A"),
    ("PERSON PERSON_7QK2M9XH4R2A", "PERSON_7QK2M9XH4R2A"),
])
def test_rewritten_forms_read_as_the_issued_token(text: str, found: str) -> None:
    assert keys(text) == [("<PERSON_7QK2M9XH4R2A>" if "CREDIT" not in text
                           else "<CREDIT_CARD_7QK2M9XH4R2A>", found)]


def test_a_markdown_links_brackets_stay() -> None:
    assert keys("[PERSON_7QK2M9XH4R2A](mailto:x)") == [
        ("<PERSON_7QK2M9XH4R2A>", "PERSON_7QK2M9XH4R2A")]


@pytest.mark.parametrize("text", [
    "credit card 4111111111111111", "phone number 5551234567", "MRN 00123456",
    "a person who called", "PERSON PERSON", "credit card number", "person 12345abcde"])
def test_ordinary_text_is_no_token(text: str) -> None:
    assert keys(text) == []


def test_escaped_letters_count_as_a_possible_token() -> None:
    """JSON may spell a token's letters as \\u escapes; the raw bytes must not hide it."""
    assert FORMS.may_hold(b'"\\u0050ERSON_7QK2M9XH4R2A"')
    assert not FORMS.may_hold(b'"nothing to see here"')


@pytest.mark.parametrize("written", [
    "<person_{code}>", "PERSON_{CODE}", "[PERSON {CODE}]", "&lt;PERSON_{CODE}&gt;",
    "< PERSON {CODE} >", "(PERSON-{CODE})"])
def test_one_character_deltas_restore_as_the_whole_text(written: str) -> None:
    tokens = TokenMap(b"k" * 32)
    token = tokens.token_for("PERSON", "Jane Doe")
    code = token[len("<PERSON_"):-1]
    text = f"Dear {written.format(code=code.lower(), CODE=code)}, thanks."
    whole = Restorer(tokens).restore(text)
    assert whole == "Dear Jane Doe, thanks."
    stream = Restorer(tokens).stream()
    assert "".join(stream.feed(c) for c in text) + stream.flush() == whole


async def test_an_answer_of_made_up_tokens_asks_the_vault_a_bounded_number(
        tmp_path: Path) -> None:
    vault = await open_vault(VaultSettings(), tmp_path, secrets.token_bytes(32))
    try:
        tokens = TokenMap(b"k" * 32)
        mine = tokens.token_for("PERSON", "Jane Doe")
        await vault.store("tenant", {mine: "Jane Doe"})
        made_up = " ".join(f"<PERSON_{i:012d}>" for i in range(MAX_VAULT_ASKS + 5000))
        restorer = Restorer(TokenMap(b"k" * 32), lookup=blocking_lookup(vault, "tenant"))
        restored = await asyncio.to_thread(restorer.restore, f"{mine} {made_up}")
        assert restored.startswith("Jane Doe <PERSON_000000000000>")
        assert restorer.stats.restored == 1
        assert restorer.stats.unknown == MAX_VAULT_ASKS + 5000
    finally:
        await vault.close()
