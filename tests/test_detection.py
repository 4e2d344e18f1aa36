"""Detection decisions a policy can influence, each from a YAML fixture, through the real
detector (Presidio + spaCy in worker processes) and the gateway's own inspection path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proxy.audit import AuditRecord
from proxy.detect.pool import WorkerPoolAnalyzer
from proxy.errors import Blocked
from proxy.formats.openai import OpenAIFormat
from proxy.inspection import Inspector
from proxy.policy import Policy, load_policy_file, resolve_policy
from proxy.tokens import TokenMap

FIXTURES = Path(__file__).parent / "fixtures" / "policies"
DEFAULT = resolve_policy("default", Path(__file__).parents[1] / "policies").policy
CHAT = OpenAIFormat().endpoint("POST", "/v1/chat/completions")


# Loaded at import, outside the event loop (the suite fails any blocking call inside it).
POLICIES = {p.stem: load_policy_file(p).policy for p in FIXTURES.glob("*.yaml")
            if p.stem in ("recognizers", "dates_and_terms", "scores")}


def fixture(name: str) -> Policy:
    return POLICIES[name]


async def sent(analyzer: WorkerPoolAnalyzer, policy: Policy, *messages: str) -> list[str]:
    """What the provider would receive for these user messages."""
    body = {"model": "m", "messages": [{"role": "user", "content": m} for m in messages]}
    result = await Inspector(analyzer).inspect(
        OpenAIFormat(), CHAT, policy, "application/json",  # type: ignore[arg-type]
        json.dumps(body).encode(), TokenMap(b"t" * 32), AuditRecord(ts="", request_id="test"))
    return [m["content"] for m in json.loads(result.body)["messages"]]


@pytest.mark.parametrize("written", [
    "jane\u200b.doe@example.com",                  # zero-width space
    "jane.doe\uff20example.com",                   # fullwidth @
    "j a n e . d o e @ e x a m p l e . c o m",     # spaced out
    "j\u0430ne.d\u043ee@ex\u0430mple.com",         # Cyrillic look-alikes
])
async def test_obfuscated_emails_are_caught_whole(analyzer: WorkerPoolAnalyzer,
                                                  written: str) -> None:
    [out] = await sent(analyzer, DEFAULT, f"Write to {written} today.")
    assert out.startswith("Write to <EMAIL_ADDRESS_") and out.endswith("> today.")


@pytest.mark.parametrize("written", [
    " ".join(["\uff14\uff11\uff11\uff11"] + ["\uff11" * 4] * 3),  # fullwidth digits
    "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
    "4111\u00a01111\u00a01111\u00a01111",
    "4111\u20111111\u20111111\u20111111",
    "4111 11\u200b11 1111 1111",
])
async def test_obfuscated_card_numbers_are_caught(analyzer: WorkerPoolAnalyzer,
                                                  written: str) -> None:
    [out] = await sent(analyzer, DEFAULT, f"Charge card {written}.")
    assert out.startswith("Charge card <CREDIT_CARD_") and out.endswith(">.")


async def test_phone_numbers_in_many_formats(analyzer: WorkerPoolAnalyzer) -> None:
    phones = ["+44 20 7946 0018", "(415) 555-0133", "+91 98220 41234", "+33 1 44 16 42 93"]
    out = await sent(analyzer, DEFAULT, *[f"Reach me at {p} please." for p in phones])
    assert all(o.startswith("Reach me at <PHONE_NUMBER_") for o in out)


async def test_lower_case_and_many_culture_names(analyzer: WorkerPoolAnalyzer) -> None:
    out = await sent(analyzer, DEFAULT,
                     "can you ask priya sharma about the invoice?",
                     "Dear Oluwaseun Adeyemi, thanks for your order.",
                     "Please loop in zhiwei huang as well.")
    assert "priya" not in out[0] and "sharma" not in out[0]
    assert "Oluwaseun" not in out[1] and "Adeyemi" not in out[1]
    assert "zhiwei" not in out[2] and "huang" not in out[2]


async def test_surname_alone_and_email_local_part_follow_the_name(
        analyzer: WorkerPoolAnalyzer) -> None:
    out = await sent(analyzer, DEFAULT, "My name is Kwame Boateng.",
                     "Ok. Boateng approved it; the handle is kwame_boateng_88.")
    second = out[1]
    assert "Boateng" not in second and "boateng" not in second and "kwame" not in second
    assert second.count("<PERSON_") == 3


async def test_default_policy_keeps_dates_weekdays_and_tech_terms(
        analyzer: WorkerPoolAnalyzer) -> None:
    text = ("On Monday, March 3, 2025 we moved Jira and Grafana to Kubernetes 1.29 "
            "with Python 3.12; budget $1,250.00.")
    [out] = await sent(analyzer, DEFAULT, text)
    assert out == text


async def test_policy_can_tokenize_dates_and_drop_the_common_term_filter(
        analyzer: WorkerPoolAnalyzer) -> None:
    [out] = await sent(analyzer, fixture("dates_and_terms"), "Ship it on March 3, 2025.")
    assert "March 3, 2025" not in out and "<DATE_TIME_" in out


async def test_policy_recognizer_needs_its_context_word(analyzer: WorkerPoolAnalyzer) -> None:
    [with_context] = await sent(analyzer, fixture("recognizers"), "Employee EMP-123456 left.")
    [without] = await sent(analyzer, fixture("recognizers"), "Ticket EMP-123456 is closed.")
    assert with_context.startswith("Employee <EMPLOYEE_ID_")
    assert without == "Ticket EMP-123456 is closed."


async def test_policy_recognizer_validator_rejects_bad_checksums(
        analyzer: WorkerPoolAnalyzer) -> None:
    valid, invalid = "1234 5678 9015", "1234 5678 9012"
    out = await sent(analyzer, fixture("recognizers"), f"Loyalty card {valid}.",
                     f"Loyalty card {invalid}.")
    assert out == ["Loyalty card [REDACTED_LOYALTY_CARD].", f"Loyalty card {invalid}."]


async def test_min_score_and_allow_action(analyzer: WorkerPoolAnalyzer) -> None:
    [out] = await sent(analyzer, fixture("scores"), "Jane Doe: call (415) 555-0133.")
    assert out == "Jane Doe: call (415) 555-0133."


async def test_allow_and_deny_lists_survive_obfuscation(analyzer: WorkerPoolAnalyzer) -> None:
    policy = DEFAULT.model_copy(update={"allow": ("Ada Lovelace",),
                                        "deny": ("Project Falcon",)})
    [out] = await sent(analyzer, policy, "Ada Lovelace leads Project\u00a0Falcon.")
    assert out.startswith("Ada Lovelace leads <DENY_LIST_")


async def test_block_action_refuses(analyzer: WorkerPoolAnalyzer) -> None:
    policy = DEFAULT.model_copy(update={"entities": {**DEFAULT.entities,
                                                     "US_SSN": "block"}})
    with pytest.raises(Blocked, match="US_SSN"):
        await sent(analyzer, policy, "SSN 536-90-4399 on file.")


async def test_name_fields_in_tool_results_and_pastes(analyzer: WorkerPoolAnalyzer) -> None:
    body = ('{"first_name": "Siobhan", "last_name": "Featherstone", "service": "Dagster"}')
    out = await sent(analyzer, DEFAULT, body,
                     "contacts:\n  - name: tamsin wolstenholme\n    plan: pro",
                     'id,name\n1,"Pettigrew, Crispin"\n2,"Ainsworth, Jocelyn"')
    assert "Featherstone" not in out[0] and "Siobhan" not in out[0] and "Dagster" in out[0]
    assert "tamsin" not in out[1] and "wolstenholme" not in out[1]
    assert not any(n in out[2] for n in ("Pettigrew", "Crispin", "Ainsworth", "Jocelyn"))


async def test_place_and_address_fields_in_tool_arguments(
        analyzer: WorkerPoolAnalyzer) -> None:
    arguments = json.dumps({"city": "Hope", "street": "Kirkegade 5", "state": "open",
                            "country": "Norway", "region": "eu-west"})
    body = {"model": "m", "messages": [
        {"role": "user", "content": "Book it."},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function",
             "function": {"name": "book", "arguments": arguments}}]}]}
    result = await Inspector(analyzer).inspect(
        OpenAIFormat(), CHAT, DEFAULT, "application/json",  # type: ignore[arg-type]
        json.dumps(body).encode(), TokenMap(b"t" * 32), AuditRecord(ts="", request_id="test"))
    sent_arguments = json.loads(json.loads(result.body)["messages"][1]["tool_calls"][0]
                                ["function"]["arguments"])
    assert sent_arguments["city"].startswith("<LOCATION_")
    assert sent_arguments["street"].startswith("<STREET_ADDRESS_")
    assert sent_arguments["country"].startswith("<LOCATION_")
    assert (sent_arguments["state"], sent_arguments["region"]) == ("open", "eu-west")


async def test_a_listed_surname_the_model_calls_a_company_is_a_person(
        analyzer: WorkerPoolAnalyzer) -> None:
    [out] = await sent(analyzer, DEFAULT, "Big news from Nguyen this week")
    assert out.startswith("Big news from <PERSON_") and "Nguyen" not in out
    # a company by its legal form stays readable
    text = "We licensed it from Initech GmbH last year."
    assert await sent(analyzer, DEFAULT, text) == [text]


async def test_camel_case_words_are_no_names(analyzer: WorkerPoolAnalyzer) -> None:
    texts = ["Set the button to OrangeRed and the border to DeepSkyBlue.",
             "Colours: LimeGreen, MediumPurple"]
    assert await sent(analyzer, DEFAULT, *texts) == texts
    [out] = await sent(analyzer, DEFAULT, "Ask Ronan McDonald about it.")
    assert "McDonald" not in out


async def test_ordinary_words_after_weak_cues_are_kept(analyzer: WorkerPoolAnalyzer) -> None:
    texts = ["Can you help me with regex?", "Contact support for invoices.",
             "This is deprecated.", "Sort the rows by timestamp.", "Call serialize first.",
             "Thanks everyone for the review."]
    assert await sent(analyzer, DEFAULT, *texts) == texts


async def test_a_short_name_does_not_spread_to_ordinary_text(
        analyzer: WorkerPoolAnalyzer) -> None:
    out = await sent(analyzer, DEFAULT, "Please ask Mr. Li about it.",
                     "Render each item as <li>item</li> in the list.")
    assert "Li" not in out[0]
    assert out[1] == "Render each item as <li>item</li> in the list."


async def test_packed_texts_do_not_lend_each_other_cues(analyzer: WorkerPoolAnalyzer) -> None:
    texts = ["What should I pay attention to, dear", "Throughput matters most."]
    assert (await sent(analyzer, DEFAULT, *texts))[1] == texts[1]


@pytest.mark.parametrize("written", [
    "5\u200e3\u200e6-2\u200e2-1\u200e2\u200e3\u200e4",      # direction marks
    "\u0665\u0663\u0666-\u0662\u0662-\u0661\u0662\u0663\u0664",  # Arabic-Indic digits
    "5 3 6  2 2  1 2 3 4",                                    # spaced, double spaces
])
async def test_more_obfuscated_ssns(analyzer: WorkerPoolAnalyzer, written: str) -> None:
    [out] = await sent(analyzer, DEFAULT, f"SSN {written} on file.")
    assert out.startswith("SSN <US_SSN_") and out.endswith("> on file.")


async def test_look_alikes_split_by_invisible_characters(analyzer: WorkerPoolAnalyzer) -> None:
    [out] = await sent(analyzer, DEFAULT, "IBAN GB82 W\u200b\u0415\u200bST 1234 5698 7654 32.")
    assert out.startswith("IBAN <IBAN_CODE_") and "WEST" not in out and "\u0415" not in out


async def test_the_detection_cache_serves_only_the_same_settings(
        analyzer: WorkerPoolAnalyzer) -> None:
    from proxy.detect.spec import DetectionSpec

    text = "Call Oluwaseun Adeyemi on +44 20 7946 0018 about the Lisbon office."
    spec = DetectionSpec.from_policy(DEFAULT)
    first = await analyzer.analyze([text], spec)
    hits = analyzer.cache.hits
    again = await analyzer.analyze([text], spec)
    assert again == first and analyzer.cache.hits == hits + 1
    names_only = DetectionSpec.from_policy(fixture("scores"))
    other = await analyzer.analyze([text], names_only)
    assert analyzer.cache.hits == hits + 1  # other settings: analyzed afresh
    assert {s.entity for s in other[0]} <= {"PHONE_NUMBER"}


def test_the_cache_is_bounded_by_characters() -> None:
    from proxy.detect.cache import DetectionCache
    from proxy.detect.spans import Span
    from proxy.detect.spec import DetectionSpec

    cache = DetectionCache(max_chars=100)
    spec = DetectionSpec.from_policy(DEFAULT)
    for i in range(5):
        cache.put(cache.key(spec, f"text {i}" * 5), 40, [Span(0, 1, "PERSON", 1.0)])
    assert cache.get(cache.key(spec, "text 0" * 5)) is None      # evicted, oldest first
    assert cache.get(cache.key(spec, "text 4" * 5)) is not None


async def test_a_name_at_the_end_of_a_packed_text_is_kept(analyzer: WorkerPoolAnalyzer) -> None:
    """spaCy may run a PERSON span past the blank line that joins packed texts
    ("Jane Doe\\n\\nSent"); the part on the name's own line must survive."""
    from proxy.detect.cache import DetectionCache
    from proxy.detect.spec import DetectionSpec

    analyzer.cache = DetectionCache(20_000_000)  # analyze afresh, not from earlier tests
    texts = ["jane.doe@example.com", "Jane Doe", "Sent to Jane Doe.", "Thanks"]
    found = await analyzer.analyze(texts, DetectionSpec.from_policy(DEFAULT))
    assert [(s.start, s.end, s.entity) for s in found[1]] == [(0, 8, "PERSON")]
