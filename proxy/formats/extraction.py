"""Find every text in a request body: inspect by default, skip only what is known.

Every string value in the body is a text to inspect, except values under keys a format
declares to be identifiers (`model`, `role`, `type`, ...). Inside free-form subtrees (tool
inputs, JSON schemas, metadata) object keys are texts too. Parts the gateway cannot read
(images, audio, files) are listed as uninspectable; opaque provider blobs are skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Json = Any


@dataclass(frozen=True)
class WalkRules:
    identifier_keys: frozenset[str]      # string values here are identifiers, not text
    free_form_keys: frozenset[str]       # subtrees whose object keys are data too
    embedded_json_keys: frozenset[str]   # string values holding a JSON document
    binary_part: Callable[[dict[str, Any]], str | None]  # "image_url" etc., or None
    opaque_part: Callable[[dict[str, Any]], bool]        # provider blobs sent back as-is


@dataclass
class TextSlot:
    """A string value inside the body: detection reads it, tokenization rewrites it."""

    container: dict[str, Any] | list[Any]
    key: str | int
    # The provider accepts only [A-Za-z0-9_-] here (OpenAI's message `name`): a token is
    # written without its brackets, as PERSON_7QK2M, and is not restored in answers.
    identifier: bool = False

    @property
    def text(self) -> str:
        value = self.container[self.key]  # type: ignore[index]
        assert isinstance(value, str)
        return value

    def write(self, text: str) -> None:
        if self.identifier:
            text = re.sub(r"[^A-Za-z0-9_-]", "", text)
        self.container[self.key] = text  # type: ignore[index]


@dataclass
class KeySlot:
    """An object key inside a free-form subtree; renaming keeps the key order."""

    container: dict[str, Any]
    key: str

    @property
    def text(self) -> str:
        return self.key

    def write(self, text: str) -> None:
        if text == self.key or text in self.container:
            return
        items = [(text if k == self.key else k, v) for k, v in self.container.items()]
        self.container.clear()
        self.container.update(items)


@dataclass
class _EmbeddedJson:
    """A JSON document held in a string (tool-call arguments): parsed, then re-serialized.

    It is always re-serialized, so what is sent is exactly what was inspected (a duplicate
    key in the original string cannot ride along).
    """

    slot: TextSlot
    holder: dict[str, Json]  # {"doc": parsed document}

    def commit(self) -> None:
        self.slot.write(json.dumps(self.holder["doc"], ensure_ascii=False, separators=(",", ":")))


@dataclass
class Extraction:
    """Every text of a request, plus the parts that could not be inspected."""

    rules: WalkRules
    values: list[TextSlot] = field(default_factory=list)
    keys: list[KeySlot] = field(default_factory=list)
    uninspectable: list[str] = field(default_factory=list)  # kinds only: never a user string
    _embedded: list[_EmbeddedJson] = field(default_factory=list)

    @property
    def slots(self) -> list[TextSlot | KeySlot]:
        """Values first: a key is renamed only after the value under it was rewritten."""
        return [*self.values, *self.keys]

    def walk_body(self, body: dict[str, Any]) -> None:
        self._walk_object(body, "", free_form=False)

    def walk(self, container: dict[str, Any] | list[Any], key: str | int, where: str,
             free_form: bool = False) -> None:
        value = container[key]  # type: ignore[index]
        if isinstance(value, str):
            self.values.append(TextSlot(container, key))
        elif isinstance(value, list):
            for index in range(len(value)):
                self.walk(value, index, f"{where}[{index}]", free_form)
        elif isinstance(value, dict):
            self._walk_object(value, where, free_form)

    def _walk_object(self, node: dict[str, Any], where: str, free_form: bool) -> None:
        if not free_form:
            kind = self.rules.binary_part(node)
            if kind is not None:
                self.uninspectable.append(kind)
                return
            if self.rules.opaque_part(node):
                return
        for child in list(node):
            path = f"{where}.{child}" if where else child
            if free_form:
                self.keys.append(KeySlot(node, child))
            value = node[child]
            if isinstance(value, str) and not free_form and child in self.rules.identifier_keys:
                continue
            if isinstance(value, str) and child in self.rules.embedded_json_keys:
                self._embedded_json(node, child, path)
            else:
                self.walk(node, child, path, free_form or child in self.rules.free_form_keys)

    def _embedded_json(self, node: dict[str, Any], key: str, where: str) -> None:
        try:
            document = json.loads(node[key])
        except ValueError:
            self.values.append(TextSlot(node, key))  # not JSON: inspect it as plain text
            return
        holder = {"doc": document}
        self.walk(holder, "doc", where, free_form=True)
        self._embedded.append(_EmbeddedJson(TextSlot(node, key), holder))

    def commit(self) -> None:
        """Write embedded JSON documents back, after every slot was rewritten."""
        for embedded in self._embedded:
            embedded.commit()


def walk(rules: WalkRules, body: dict[str, Any]) -> Extraction:
    """Every text of a request body, by the format's rules."""
    extraction = Extraction(rules)
    extraction.walk_body(body)
    return extraction
