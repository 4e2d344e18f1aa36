"""The per-route policy: which entities to look for and what to do with each.

Policies are YAML files validated once, at startup, into frozen models.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from . import yamlsource
from .detect.recognizers import PatternRule
from .errors import ConfigError

Action = Literal["tokenize", "redact", "block", "allow"]

# Entity types the built-in recognizers (Presidio's predefined set plus spaCy NER) can find.
# A policy naming anything else would silently protect nothing, so it is rejected.
KNOWN_ENTITIES = frozenset({
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE",
    "IP_ADDRESS", "LOCATION", "DATE_TIME", "NRP", "URL", "ORGANIZATION", "MEDICAL_LICENSE",
    "CRYPTO", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_ITIN", "US_PASSPORT", "UK_NHS",
    "UK_NINO", "STREET_ADDRESS", "DENY_LIST",
})
DENY_LIST_ENTITY = "DENY_LIST"
_PASSTHROUGH = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|\*) (/\S*)$")


def _known_entity(name: str, info: ValidationInfo) -> str:
    declared = (info.context or {}).get("declared_entities", frozenset())
    if name not in KNOWN_ENTITIES and name not in declared:
        known = ", ".join(sorted(KNOWN_ENTITIES))
        raise ValueError(f"unknown entity type {name!r}; known: {known}, or one a "
                         "recognizer of this policy declares")
    return name


def _valid_regex(pattern: str) -> str:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc
    if compiled.match(""):
        raise ValueError("the regular expression matches the empty string")
    return pattern


def _passthrough_rule(rule: str) -> str:
    if not _PASSTHROUGH.match(rule):
        raise ValueError(f"entry {rule!r} must look like 'POST /v1/files*'")
    return rule


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must be a non-empty string")
    return text


EntityName = Annotated[str, AfterValidator(_known_entity)]
Regex = Annotated[str, AfterValidator(_valid_regex)]
PassthroughRule = Annotated[str, AfterValidator(_passthrough_rule)]
Phrase = Annotated[str, AfterValidator(_not_blank)]


class Recognizer(BaseModel):
    """A policy's own pattern recognizer: regex, optional checksum, context words."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    entity: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    regex: Regex
    score: float = Field(default=0.6, ge=0.0, le=1.0)
    validator: Literal["luhn", "iban"] | None = None
    context: tuple[Phrase, ...] = ()
    context_boost: float = Field(default=0.35, ge=0.0, le=1.0)
    context_window: int = Field(default=40, ge=1, le=500)
    ignore_case: bool = False

    def rule(self) -> PatternRule:
        return PatternRule(self.entity, self.regex, self.score, self.validator, self.context,
                           self.context_window, self.context_boost, self.ignore_case)


class Residency(BaseModel):
    """Regions a route under this policy may send to: families (eu, us, apac, ...) or
    single cloud regions (eu-central-1, europe-west4, swedencentral)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allowed_regions: tuple[Phrase, ...] = Field(min_length=1)


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    version: int = Field(ge=1)
    language: Literal["en"] = "en"
    entities: dict[EntityName, Action]
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)
    allow: tuple[Phrase, ...] = ()
    deny: tuple[Phrase, ...] = ()
    # "METHOD /path-glob" entries (relative to the route) forwarded without inspection.
    passthrough: tuple[PassthroughRule, ...] = ()
    # What to do with parts the gateway cannot read (images, audio, files, token arrays).
    uninspectable_content: Literal["refuse", "allow"] = "refuse"
    recognizers: tuple[Recognizer, ...] = ()
    residency: Residency | None = None  # None: any region the catalogue knows
    # Drop PERSON/LOCATION/ORGANIZATION/NRP findings made of ordinary tech and calendar
    # words, identifiers and versions (see detect/terms.py).
    keep_common_terms: bool = True

    @model_validator(mode="after")
    def _recognized_entities_have_actions(self) -> Policy:
        missing = sorted({r.entity for r in self.recognizers} - set(self.entities))
        if missing:
            raise ValueError(f"recognizers find {', '.join(missing)}, which `entities` gives "
                             "no action")
        return self

    def action_for(self, entity: str) -> Action:
        if entity == DENY_LIST_ENTITY:
            return self.entities.get(entity, "tokenize")
        return self.entities.get(entity, "allow")

    def detected_entities(self) -> tuple[str, ...]:
        """Entity types worth asking the detector for: everything not allowed."""
        wanted = {e for e, a in self.entities.items() if a != "allow"}
        if self.deny and self.action_for(DENY_LIST_ENTITY) != "allow":
            wanted.add(DENY_LIST_ENTITY)
        return tuple(sorted(wanted))

    def tokenized_entities(self) -> frozenset[str]:
        """Entity types this policy turns into tokens (what an answer may hold)."""
        return frozenset(e for e, a in self.entities.items() if a == "tokenize")

    def allows_passthrough(self, method: str, subpath: str) -> bool:
        for item in self.passthrough:
            want_method, pattern = item.split(" ", 1)
            if want_method in ("*", method) and fnmatch.fnmatchcase(subpath, pattern):
                return True
        return False


@dataclass(frozen=True)
class LoadedPolicy:
    """A validated policy plus where it came from and a hash of its exact text."""

    policy: Policy
    source: str
    sha256: str


def builtin_policy_dir() -> Path:
    return Path(str(resources.files("proxy") / "policies"))


def _declared_entities(text: str) -> frozenset[str]:
    """Entity types the policy's own recognizers declare, so `entities` may name them."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return frozenset()  # the validation that follows reports the syntax error
    recognizers = data.get("recognizers") if isinstance(data, dict) else None
    if not isinstance(recognizers, list):
        return frozenset()
    return frozenset(str(r["entity"]) for r in recognizers
                     if isinstance(r, dict) and isinstance(r.get("entity"), str))


def load_policy_file(path: Path) -> LoadedPolicy:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}:1: (file): cannot read: {exc.__class__.__name__}"]) from exc
    policy = yamlsource.parse(text, str(path), Policy,
                              {"declared_entities": _declared_entities(text)})
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return LoadedPolicy(policy, str(path), digest)


def resolve_policy(name_or_file: str, policies_dir: Path) -> LoadedPolicy:
    """A policy by file path, else by name in policies_dir, else the built-in one of that name."""
    as_path = Path(name_or_file)
    if as_path.suffix in (".yaml", ".yml") or "/" in name_or_file:
        return load_policy_file(as_path)
    for folder in (policies_dir, builtin_policy_dir()):
        candidate = folder / f"{name_or_file}.yaml"
        if candidate.is_file():
            loaded = load_policy_file(candidate)
            if loaded.policy.name != name_or_file:
                raise ConfigError([f"{candidate}:1: name: policy file {candidate.name} "
                                   f"declares name {loaded.policy.name!r}"])
            return loaded
    raise ConfigError([f"{policies_dir}/{name_or_file}.yaml:1: (file): no policy named "
                       f"{name_or_file!r} in {policies_dir} or the built-in policies"])
