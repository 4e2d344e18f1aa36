"""`aliasgate policy test`: the shipped golden cases pass, a wrong one shows its diff, a
broken cases file names file, line and key. In-process: spaCy loads once for the module."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.cli import main

REPO = Path(__file__).parents[1]
CASES = REPO / "policies" / "tests"
DEFAULT = str(REPO / "policies" / "default.yaml")


def policy_test(policy: str, cases: Path, capsys: pytest.CaptureFixture[str]
                ) -> tuple[int, str, str]:
    code = main(["policy", "test", policy, str(cases)])
    out, err = capsys.readouterr()
    return code, out, err


def test_every_shipped_policy_has_golden_cases() -> None:
    policies = {p.stem for p in (REPO / "policies").glob("*.yaml")}
    assert policies == {c.stem for c in CASES.glob("*.yaml")}


@pytest.mark.parametrize("cases", sorted(CASES.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_cases_pass(cases: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the policy by name, from ./policies as `scan --policy` finds it
    code, out, _ = policy_test(cases.stem, cases, capsys)
    assert code == 0, out
    lines = out.splitlines()
    assert len(lines) >= 4 and all(line.startswith("ok ") for line in lines[:-1])
    assert lines[-1] == f"{len(lines) - 1} cases, 0 failed"


def test_a_wrong_expectation_fails_with_a_diff(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        "- name: holds\n"
        "  text: Mail jane.doe@example.com today.\n"
        "  expect: [{value: jane.doe@example.com, entity: EMAIL_ADDRESS, action: tokenize}]\n"
        "  exact: true\n"
        "- name: wrong\n"
        "  text: Tom Baker flew to Lisbon on Friday.\n"
        "  expect: [{value: Tom Baker, entity: PERSON, action: redact}]\n"
        "  expect_kept: [Lisbon, Friday]\n"
        "  exact: true\n", encoding="utf-8")
    code, out, _ = policy_test(DEFAULT, cases, capsys)
    assert code == 1
    assert out.splitlines() == [
        "ok holds",
        "FAIL wrong",
        "    - PERSON 'Tom Baker' redact",
        "    - kept 'Lisbon'",
        "    + LOCATION 'Lisbon' tokenize",
        "    + PERSON 'Tom Baker' tokenize",
        "2 cases, 1 failed",
    ]


def test_unexpected_findings_count_only_when_exact(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("- name: loose\n"
                     "  text: Tom Baker flew to Lisbon.\n"
                     "  expect: [{value: Lisbon, entity: LOCATION, action: tokenize}]\n",
                     encoding="utf-8")
    assert policy_test(DEFAULT, cases, capsys)[0] == 0
    cases.write_text(cases.read_text(encoding="utf-8") + "  exact: true\n", encoding="utf-8")
    code, out, _ = policy_test(DEFAULT, cases, capsys)
    assert code == 1 and "    + PERSON 'Tom Baker' tokenize" in out.splitlines()


def test_a_broken_cases_file_names_file_line_and_key(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("# a comment first\n"
                     "- name: one\n"
                     "  text: Hi Jane Doe\n"
                     "  expect:\n"
                     "    - {value: Jane Doe, entity: PERSON, action: encrypt}\n"
                     "- name: two\n"
                     "  text: hello\n"
                     "  expect_kept: [goodbye]\n", encoding="utf-8")
    code, out, err = policy_test("default", cases, capsys)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"error: {cases}:5: [0].expect[0].action: Input should be 'tokenize', 'redact' "
        "or 'block'",
        f"error: {cases}:6: [1]: 'goodbye' does not occur in text",
    ]
    cases.write_text("name: one\ntext: not a list\n", encoding="utf-8")
    code, _, err = policy_test("default", cases, capsys)
    assert code == 2
    assert err == f"error: {cases}:1: (top level): expected a list of cases, each with name, " \
                  "text and expect\n"
