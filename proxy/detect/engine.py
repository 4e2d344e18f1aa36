"""One Presidio analyzer over one spaCy pipeline, applying a policy's detection settings.

This runs inside worker processes (see pool.py) and, for `aliasgate scan`, in-process.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path
from typing import Any

from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from ..policy import DENY_LIST_ENTITY, KNOWN_ENTITIES
from .addresses import street_addresses
from .builtin import BUILTIN_RULES
from .cards import card_numbers
from .labelled import labelled_values
from .names import likely_names, strong_names
from .ner_scope import ner_ranges
from .normalize import fold
from .offline import use_bundled_suffix_list
from .organizations import organizations
from .packing import pack, unpack
from .phones import phone_numbers
from .places import find_places
from .spans import Span, merge_overlaps
from .spec import DetectionSpec
from .terms import SOFT_ENTITIES, drop_ordinary
from .words import NAME_WORD, is_given_name, is_listed_surname

# Entity types Presidio's own recognizers find (the others come from ours): by spaCy's
# NER, and by patterns (DATE_TIME by both).
PRESIDIO_ENTITIES = KNOWN_ENTITIES - {DENY_LIST_ENTITY, "STREET_ADDRESS"}
NER_ENTITIES = frozenset(SpacyRecognizer.ENTITIES)
PATTERN_ENTITIES = PRESIDIO_ENTITIES - (NER_ENTITIES - {"DATE_TIME"})


class ModelNotInstalled(RuntimeError):
    pass


# Pipes PII detection does not need: half the spaCy time goes to them.
_UNUSED_PIPES = ["parser", "tagger", "lemmatizer", "attribute_ruler", "senter", "morphologizer"]


def _build_presidio(model: str) -> Any:
    """Presidio over a NER-only spaCy pipeline, without its phone recognizer (ours, in
    builtin.py, covers more formats and costs less) and without its lemma context
    enhancer (it walks every token for every match, and needs the lemmatizer)."""
    use_bundled_suffix_list()
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)  # one line per recognizer
    import spacy
    import spacy.util
    from presidio_analyzer import AnalyzerEngine

    if not spacy.util.is_package(model) and not Path(model).is_dir():
        raise ModelNotInstalled(f"spaCy pipeline {model!r} is not installed")
    nlp_engine = _NerOnlyNlpEngine(models=[{"lang_code": "en", "model_name": model}])
    nlp_engine.nlp = {"en": spacy.load(model, exclude=_UNUSED_PIPES)}  # type: ignore[assignment]
    analyzer = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"],
                              context_aware_enhancer=_NoContextEnhancer())
    analyzer.registry.remove_recognizer("PhoneRecognizer")
    return analyzer


class _NerOnlyNlpEngine(SpacyNlpEngine):
    """spaCy's entities as Presidio artifacts, without the lemma and token lists only the
    (removed) lemma context enhancer reads: building them cost 2 ms per KB."""

    def _doc_to_nlp_artifact(self, doc: Any, language: str) -> NlpArtifacts:
        entities, scores = self._get_updated_entities(doc.ents,
                                                      self._get_scores_for_entities(doc))
        return NlpArtifacts(entities=entities, tokens=doc, tokens_indices=[], lemmas=[],
                            nlp_engine=self, language=language, scores=scores)


class _NoContextEnhancer(ContextAwareEnhancer):
    """Context is judged by aliasgate's recognizers (recognizers.py), not here."""

    def __init__(self) -> None:
        super().__init__(context_similarity_factor=0, min_score_with_context_similarity=0,
                         context_prefix_count=0, context_suffix_count=0)

    def enhance_using_context(self, text: str, raw_results: Any, nlp_artifacts: Any,
                              recognizers: Any, context: Any = None) -> Any:
        return raw_results


@cache
def _phrase(term: str) -> re.Pattern[str]:
    """A policy's allow or deny phrase: whole words, any case."""
    return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)


def _outside_allowed(text: str, spans: list[Span], allow: tuple[str, ...]) -> list[Span]:
    """Drop findings that lie inside an occurrence of an `allow` string."""
    if not allow:
        return spans
    allowed = [(m.start(), m.end()) for term in allow for m in _phrase(term).finditer(text)]
    return [s for s in spans if not any(a <= s.start and s.end <= b for a, b in allowed)]


def _as_person(text: str, span: Span) -> Span:
    """An organisation by NER that is one or two listed names (`Kardashian`, `Selena`):
    the small model takes unfamiliar people for companies. Otherwise left as it is (and
    dropped later, when the policy does not ask for organisations)."""
    words = NAME_WORD.findall(text[span.start:span.end])
    if 1 <= len(words) <= 2 and all(
            is_given_name(w) or is_listed_surname(w) for w in words) and \
            words[0][0].isupper():
        return Span(span.start, span.end, "PERSON", span.score)
    return span


def _outside(text: str, companies: list[Span], spans: list[Span]) -> list[Span]:
    """Drop places, and names without a known given name, that lie inside a company name
    (`Xenon Pharmaceuticals`, `Bank of America`): a company is not a person, and the
    default policy leaves companies alone. A name the context vouches for ("my name is
    ...") is never in `spans`, and one with a given name stays (`Anna Kowalski Ltd`,
    `Office of Maria Gonzalez`): writing "Inc" after a person must not hide them."""
    if not companies:
        return spans

    def company_part(span: Span) -> bool:
        if span.entity not in ("PERSON", "LOCATION") or not any(
                c.start <= span.start and span.end <= c.end for c in companies):
            return False
        return span.entity == "LOCATION" or not any(
            is_given_name(word) for word in NAME_WORD.findall(text[span.start:span.end]))

    return [s for s in spans if not company_part(s)]


def _deny_spans(text: str, deny: tuple[str, ...]) -> list[Span]:
    return [Span(m.start(), m.end(), DENY_LIST_ENTITY, 1.0)
            for term in deny for m in _phrase(term).finditer(text)]


class DetectionEngine:
    def __init__(self, model: str) -> None:
        self._presidio = _build_presidio(model)
        self._nlp_engine = self._presidio.nlp_engine
        self._no_nlp = self._nlp_engine._doc_to_nlp_artifact(
            self._nlp_engine.nlp["en"].make_doc(""), "en")

    def analyze(self, text: str, spec: DetectionSpec) -> list[Span]:
        """Findings in the original text, detected on its folded form (see normalize.py)."""
        folded = fold(text)
        return merge_overlaps([folded.original(s) for s in self._analyze(folded.text, spec)])

    def _analyze(self, text: str, spec: DetectionSpec) -> list[Span]:
        if not text.strip():
            return []
        wanted = set(spec.entities)
        spans = self._presidio_patterns(text, sorted(wanted & PATTERN_ENTITIES))
        for rule in (*BUILTIN_RULES, *spec.rules):
            if rule.entity in wanted:
                spans += rule.find(text)
        if "PHONE_NUMBER" in wanted:
            spans += phone_numbers(text)
        if "CREDIT_CARD" in wanted:
            spans += card_numbers(text)
        if "STREET_ADDRESS" in wanted:
            spans += street_addresses(text)
        if DENY_LIST_ENTITY in wanted:
            spans += _deny_spans(text, spec.deny)
        labelled = [s for s in labelled_values(text) if s.entity in wanted]
        spans += [s for s in labelled if s.entity not in SOFT_ENTITIES]
        structured = list(spans)
        names: list[Span] = []   # names and places, except those the gazetteer alone
        # suggests (NER tells the surname Takahashi from the city), and names and places
        # their label vouches for (`city: Hope`, a name column)
        vouched: list[Span] = [s for s in labelled if s.entity in SOFT_ENTITIES]
        if "PERSON" in wanted:
            names += likely_names(text)
            vouched += strong_names(text)
        if "LOCATION" in wanted:
            likely, cued = find_places(text)
            spans += likely
            vouched += cued
        spans += names
        ner_wanted = sorted(wanted & NER_ENTITIES)
        if ner_wanted:
            # Scoping is exact only while terms.py would drop what NER finds elsewhere.
            scoped = spec.keep_common_terms and set(ner_wanted) <= SOFT_ENTITIES
            kept = [[s for s in found if s.score >= spec.min_score]
                    for found in (structured, [*names, *vouched])]
            asked = sorted({*ner_wanted, "ORGANIZATION"} if "PERSON" in wanted else ner_wanted)
            found = self._ner(text, asked, kept if scoped else None)
            spans += [_as_person(text, s) if s.entity == "ORGANIZATION" and
                      "ORGANIZATION" not in wanted else s for s in found]
        spans = [s for s in spans if s.entity in wanted and s.score >= spec.min_score]
        vouched = [s for s in vouched if s.score >= spec.min_score]
        if wanted & {"PERSON", "LOCATION", "ORGANIZATION"}:
            companies = organizations(text)
            spans = _outside(text, companies, spans)
            if "ORGANIZATION" in wanted:
                spans += companies
        if spec.keep_common_terms:
            spans = drop_ordinary(text, spans) + drop_ordinary(text, vouched, vouched=True)
        else:
            spans += vouched
        return _outside_allowed(text, spans, spec.allow)

    def _presidio_patterns(self, text: str, entities: list[str]) -> list[Span]:
        """Presidio's pattern recognizers (cards, IBANs, IPs...): they need no NLP pass."""
        if not entities:
            return []
        results = self._presidio.analyze(text=text, language="en", entities=entities,
                                         nlp_artifacts=self._no_nlp)
        return [Span(r.start, r.end, r.entity_type, float(r.score)) for r in results]

    def _ner(self, text: str, entities: list[str], by_rules: list[list[Span]] | None
             ) -> list[Span]:
        """Presidio's spaCy recognizer, on the whole text or, when `by_rules` holds what the
        rules found (structured values; names and places), only where it can change the
        outcome (see ner_scope.py)."""
        ranges = [(0, len(text))] if by_rules is None else ner_ranges(text, *by_rules)
        if not ranges:
            return []
        packed = pack([(0, start, text[start:end]) for start, end in ranges], len(text) * 2)[0]
        artifacts = self._nlp_engine.process_text(packed.text, "en")
        results = self._presidio.analyze(text=packed.text, language="en", entities=entities,
                                         nlp_artifacts=artifacts)
        found = [Span(r.start, r.end, r.entity_type, float(r.score)) for r in results]
        return [span for _, span in unpack(found, packed.pieces)]
