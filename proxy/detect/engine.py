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

from ..policy import DENY_LIST_ENTITY, KNOWN_ENTITIES
from .builtin import BUILTIN_RULES, phone_numbers
from .names import likely_names, strong_names
from .normalize import fold
from .offline import use_bundled_suffix_list
from .places import find_places
from .spans import Span, merge_overlaps
from .spec import DetectionSpec
from .terms import drop_ordinary

# Entity types Presidio's own recognizers find; the others come from ours.
PRESIDIO_ENTITIES = KNOWN_ENTITIES - {DENY_LIST_ENTITY}


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
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    if not spacy.util.is_package(model) and not Path(model).is_dir():
        raise ModelNotInstalled(f"spaCy pipeline {model!r} is not installed")
    nlp_engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": model}])
    nlp_engine.nlp = {"en": spacy.load(model, exclude=_UNUSED_PIPES)}  # type: ignore[assignment]
    analyzer = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"],
                              context_aware_enhancer=_NoContextEnhancer())
    analyzer.registry.remove_recognizer("PhoneRecognizer")
    return analyzer


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


def _deny_spans(text: str, deny: tuple[str, ...]) -> list[Span]:
    return [Span(m.start(), m.end(), DENY_LIST_ENTITY, 1.0)
            for term in deny for m in _phrase(term).finditer(text)]


class DetectionEngine:
    def __init__(self, model: str) -> None:
        self._presidio = _build_presidio(model)

    def analyze(self, text: str, spec: DetectionSpec) -> list[Span]:
        """Findings in the original text, detected on its folded form (see normalize.py)."""
        folded = fold(text)
        return merge_overlaps([folded.original(s) for s in self._analyze(folded.text, spec)])

    def _analyze(self, text: str, spec: DetectionSpec) -> list[Span]:
        if not text.strip():
            return []
        wanted = set(spec.entities)
        presidio_wanted = sorted(wanted & PRESIDIO_ENTITIES)
        spans: list[Span] = []
        if presidio_wanted:
            results = self._presidio.analyze(text=text, language=spec.language,
                                             entities=presidio_wanted)
            spans = [Span(r.start, r.end, r.entity_type, float(r.score)) for r in results]
        for rule in (*BUILTIN_RULES, *spec.rules):
            if rule.entity in wanted:
                spans += rule.find(text)
        if "PHONE_NUMBER" in wanted:
            spans += phone_numbers(text)
        vouched: list[Span] = []
        if "PERSON" in wanted:
            spans += likely_names(text)
            vouched += strong_names(text)
        if "LOCATION" in wanted:
            likely, cued = find_places(text)
            spans += likely
            vouched += cued
        if DENY_LIST_ENTITY in wanted:
            spans += _deny_spans(text, spec.deny)
        spans = [s for s in spans if s.entity in wanted and s.score >= spec.min_score]
        vouched = [s for s in vouched if s.score >= spec.min_score]
        if spec.keep_common_terms:
            spans = drop_ordinary(text, spans) + drop_ordinary(text, vouched, vouched=True)
        else:
            spans += vouched
        return _outside_allowed(text, spans, spec.allow)
