"""Find every text in a request body: inspect by default, let through only known shapes.

Every string value in the body is a text to inspect, and so is every number long enough to
hold personal data (read beside its key, as `ssn: 536228471`: digits in a number are
inspected like digits in text). Only these pass without being read as text, and only when
they have the shape they claim:
- values under identifier keys (`model`, `role`, `tool_call_id`): an identifier's shape;
- names of tools, functions and schemas: the providers' `[A-Za-z0-9_.-]` shape (a name of
  another shape is inspected, and a token is written there without brackets);
- object keys that name fields (`content`, `cache_control`), and property names in JSON
  schemas;
- opaque provider blobs sent back (redacted thinking, signatures): base64.
Anything of another shape is inspected like text; a blob that is not one is refused.
Inside free-form subtrees (tool inputs and arguments, metadata) object keys are texts too.
Parts the gateway cannot read (images, audio, files) are listed as uninspectable.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import BadRequest, PayloadTooLarge, Refused
from ..jsonbudget import Budget
from ..shapes import FIELD, IDENTIFIER, NAME, has_id_shape, has_shape, is_blob

Json = Any
# Identifier fields that hold an id the provider issued (shapes.PROVIDER_ID), not one the
# client chose or a model name.
PROVIDER_ID_KEYS = frozenset({"id", "call_id", "tool_call_id", "tool_use_id", "item_id",
                              "response_id", "previous_response_id", "previous_message_id",
                              "conversation", "file_id", "input_file_id", "output_file_id"})
# Numbers with fewer digits hold no value the policies protect (nine, an SSN, is the least).
_NUMBER_DIGITS = 6


def binary_parts(types: frozenset[str], keys: frozenset[str]
                 ) -> Callable[[dict[str, Any]], str | None]:
    """A `binary_part` rule: a part whose `type` is one of `types`, or that carries one of
    `keys` (an image, audio or a file, whatever it calls itself)."""
    def kind_of(node: dict[str, Any]) -> str | None:
        kind = node.get("type")
        if isinstance(kind, str) and kind.lower() in types:
            return kind.lower()
        carried = keys.intersection(node)
        return min(carried) if carried else None
    return kind_of


@dataclass(frozen=True)
class WalkRules:
    identifier_keys: frozenset[str]      # string values here are identifiers, not text
    free_form_keys: frozenset[str]       # subtrees whose object keys are data too
    embedded_json_keys: frozenset[str]   # string values holding a JSON document
    binary_part: Callable[[dict[str, Any]], str | None]  # "image_url" etc., or None
    opaque_part: Callable[[dict[str, Any]], bool]        # provider blobs sent back as-is
    name_keys: frozenset[str] = frozenset()    # names of tools, functions and schemas
    schema_keys: frozenset[str] = frozenset()  # subtrees that are JSON schemas
    blob_keys: frozenset[str] = frozenset()    # base64 from the provider (signatures)


@dataclass
class TextSlot:
    """A string value inside the body: detection reads it, tokenization rewrites it."""

    container: dict[str, Any] | list[Any]
    key: str | int
    # The provider accepts only [A-Za-z0-9_-] here (OpenAI's message `name`, a tool name):
    # a token is written without its brackets, as PERSON_7QK2M9XH4R2A, and is not restored.
    identifier: bool = False
    context: str = ""  # read before the value, never rewritten (a number's key)

    @property
    def text(self) -> str:
        value = self.container[self.key]  # type: ignore[index]
        return self.context + (value if isinstance(value, str) else json.dumps(value))

    def write(self, text: str) -> None:
        text = text[len(self.context):]
        value = self.container[self.key]  # type: ignore[index]
        if not isinstance(value, str) and text == json.dumps(value):
            return  # a number with nothing in it stays a number
        if self.identifier:
            text = re.sub(r"[^A-Za-z0-9_-]", "", text)
        self.container[self.key] = text  # type: ignore[index]


@dataclass
class KeySlot:
    """An object key that is data; renaming keeps the key order."""

    container: dict[str, Any]
    key: str
    context: str = ""

    @property
    def text(self) -> str:
        return self.key

    def write(self, text: str) -> None:
        if text == self.key or text in self.container:
            return
        items = [(text if k == self.key else k, v) for k, v in self.container.items()]
        self.container.clear()
        self.container.update(items)


Slot = TextSlot | KeySlot


@dataclass
class _EmbeddedJson:
    """A JSON document held in a string (tool-call arguments): parsed, then re-serialized.

    It is always re-serialized, so what is sent is exactly what was inspected (a duplicate
    key in the original string cannot ride along).
    """

    slot: TextSlot
    holder: dict[str, Json]  # {"doc": parsed document}

    def commit(self) -> None:
        self.slot.write(json.dumps(self.holder["doc"], ensure_ascii=False, separators=(",", ":"),
                                   allow_nan=False))


@dataclass
class Extraction:
    """Every text of a request, plus the parts that could not be inspected."""

    rules: WalkRules
    budget: Budget = field(default_factory=Budget)
    values: list[TextSlot] = field(default_factory=list)
    keys: list[KeySlot] = field(default_factory=list)
    uninspectable: list[str] = field(default_factory=list)  # kinds only: never a user string
    _embedded: list[_EmbeddedJson] = field(default_factory=list)
    _seen: int = 0

    @property
    def slots(self) -> list[Slot]:
        """Values first: a key is renamed only after the value under it was rewritten."""
        return [*self.values, *self.keys]

    def walk_body(self, body: dict[str, Any]) -> None:
        self._walk_object(body, 0, free_form=False, schema=False)

    def add_text(self, container: dict[str, Any], key: str, identifier: bool = False) -> None:
        """A string the rules let through that a format wants inspected all the same."""
        if not any(s.container is container and s.key == key for s in self.values):
            self.values.append(TextSlot(container, key, identifier))

    def _count(self, depth: int) -> None:
        self._seen += 1
        if self._seen > self.budget.max_values:
            raise PayloadTooLarge(f"the request body holds more than {self.budget.max_values} "
                                  "JSON values, more than aliasgate inspects in one request")
        if depth > self.budget.max_depth:
            raise BadRequest(f"the request body is nested deeper than {self.budget.max_depth} "
                             "levels")

    def _walk(self, container: dict[str, Any] | list[Any], key: str | int, depth: int,
              free_form: bool, schema: bool) -> None:
        value = container[key]  # type: ignore[index]
        self._count(depth)
        if isinstance(value, str):
            self.values.append(TextSlot(container, key))
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, (int, float)):
            self._number(container, key, value)
        elif isinstance(value, list):
            for index in range(len(value)):
                self._walk(value, index, depth + 1, free_form, schema)
        elif isinstance(value, dict):
            self._walk_object(value, depth + 1, free_form, schema)

    def _number(self, container: dict[str, Any] | list[Any], key: str | int,
                value: float) -> None:
        if sum(c.isdigit() for c in json.dumps(value)) < _NUMBER_DIGITS:
            return
        context = f"{key}: " if isinstance(key, str) and has_shape(key, FIELD) else ""
        self.values.append(TextSlot(container, key, context=context))

    def _walk_object(self, node: dict[str, Any], depth: int, free_form: bool,
                     schema: bool) -> None:
        rules = self.rules
        if not free_form and not schema:
            kind = rules.binary_part(node)
            if kind is not None:
                self.uninspectable.append(kind)
                return
            if rules.opaque_part(node):
                self._opaque(node)
                return
        for child in list(node):
            self._count(depth)
            if free_form or not has_shape(child, FIELD):
                self.keys.append(KeySlot(node, child))
            value = node[child]
            if isinstance(value, str) and not free_form and not schema:
                if child in rules.identifier_keys and (
                        has_shape(value, IDENTIFIER) or
                        (child in PROVIDER_ID_KEYS and has_id_shape(value, IDENTIFIER))):
                    continue
                if child in rules.name_keys:
                    if not has_shape(value, NAME):
                        self.values.append(TextSlot(node, child, identifier=True))
                    continue
                if child in rules.blob_keys:
                    _require_blob(value)
                    continue
            if isinstance(value, str) and child in rules.embedded_json_keys:
                self._embedded_json(node, child, depth)
            else:
                self._walk(node, child, depth, free_form or child in rules.free_form_keys,
                           schema or (child in rules.schema_keys and not free_form))

    def _opaque(self, node: dict[str, Any]) -> None:
        """A provider blob sent back: passed only if every field but its type is base64."""
        for key, value in node.items():
            if key == "type" and isinstance(value, str) and has_shape(value, IDENTIFIER):
                continue
            _require_blob(value)

    def _embedded_json(self, node: dict[str, Any], key: str, depth: int) -> None:
        try:
            document = loads_strict(node[key])
        except (ValueError, RecursionError):
            self.values.append(TextSlot(node, key))  # not JSON: inspect it as plain text
            return
        holder = {"doc": document}
        self._walk(holder, "doc", depth, free_form=True, schema=False)
        self._embedded.append(_EmbeddedJson(TextSlot(node, key), holder))

    def commit(self) -> None:
        """Write embedded JSON documents back, after every slot was rewritten."""
        for embedded in self._embedded:
            embedded.commit()


def _require_blob(value: object) -> None:
    if not isinstance(value, str) or not is_blob(value):
        raise Refused("a field that must hold the provider's own opaque data (a signature, "
                      "redacted thinking) holds something else; aliasgate cannot inspect it")


class NotJson(ValueError):
    """What Python's json module accepts but JSON is not, or cannot be sent on as JSON."""


def _not_json(constant: str) -> None:
    raise NotJson("NaN or Infinity, which are not JSON")


def _finite(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):  # 1e400: it would be sent on as Infinity, which is not JSON
        raise NotJson("a number too large for a float")
    return value


def loads_strict(text: str | bytes) -> Json:
    """json.loads, refusing NaN, Infinity and numbers that overflow a float (NotJson)."""
    return json.loads(text, parse_constant=_not_json, parse_float=_finite)


def walk(rules: WalkRules, body: dict[str, Any], budget: Budget) -> Extraction:
    """Every text of a request body, by the format's rules."""
    extraction = Extraction(rules, budget)
    extraction.walk_body(body)
    return extraction
