"""The `aliasgate` command: serve, scan, policy check and test, eval, audit, vault, keys."""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from .config import Settings, load_settings
from .errors import ConfigError
from .keys import derive, load_master_key
from .logs import contain_uncaught
from .logs import setup as setup_logs
from .policy import Policy, load_policy_file, resolve_policy

if TYPE_CHECKING:
    from .detect.engine import DetectionEngine
    from .tokens import Pseudonymized


def _serve(args: argparse.Namespace) -> int:
    from .app import create_app
    from .server import serve_forever

    contain_uncaught()
    settings = load_settings(Path(args.config) if args.config else None)
    listen = settings.config.listen
    app = create_app(settings)
    asyncio.run(serve_forever(app, args.host or listen.host,
                             listen.port if args.port is None else args.port))
    return 0


@cache
def _engine(model: str) -> DetectionEngine:
    from .detect.engine import DetectionEngine

    return DetectionEngine(model)  # loads spaCy: once per process, however many texts


def _scanner(settings: Settings, policy: Policy, token_key: bytes
             ) -> Callable[[str], Pseudonymized]:
    """Text -> what the provider would get under policy: detection in windows, then
    propagation and the policy's actions. `scan` and `policy test` both run this."""
    from .detect.spans import Span, merge_overlaps
    from .detect.spec import DetectionSpec
    from .detect.windows import windows
    from .propagate import propagate
    from .tokens import TokenMap, pseudonymize

    engine = _engine(settings.config.detection.model)
    spec = DetectionSpec.from_policy(policy)
    tokens = TokenMap(token_key)

    def scan(text: str) -> Pseudonymized:
        spans: list[Span] = []
        for offset, chunk in windows(text, settings.config.detection.chunk_chars):
            spans += [Span(s.start + offset, s.end + offset, s.entity, s.score)
                      for s in engine.analyze(chunk, spec)]
        [found] = propagate([text], [merge_overlaps(spans)])
        return pseudonymize(text, found, policy, tokens)

    return scan


def _scan(args: argparse.Namespace) -> int:
    settings: Settings = load_settings(Path(args.config) if args.config else None)
    loaded = resolve_policy(args.policy, settings.policies_dir)
    master = load_master_key(settings.state_dir, create=False)
    if master is None:
        print("note: no master key yet; tokens below use a throwaway key", file=sys.stderr)
        master = secrets.token_bytes(32)
    text = sys.stdin.read()
    scan = _scanner(settings, loaded.policy, derive(master, "tokens", f"route:{args.tenant}"))
    result = scan(text)
    blocked = sorted({r.span.entity for r in result.replacements if r.action == "block"})
    findings = [{"entity": r.span.entity, "start": r.span.start, "end": r.span.end,
                 "score": round(r.span.score, 3), "text": text[r.span.start:r.span.end],
                 "action": r.action, "replacement": r.replacement} for r in result.replacements]
    if args.json:
        print(json.dumps({"policy": loaded.policy.name, "findings": findings,
                          "blocked": blocked, "text": result.text}, ensure_ascii=False,
                         indent=2))
        return 0
    for f in findings:
        print(f"{f['entity']:<14} {f['score']:.2f} {f['start']}-{f['end']} "
              f"{f['text']!r} -> {f['replacement']} ({f['action']})")
    if not findings:
        print("no findings")
    if blocked:
        print(f"the gateway would refuse this text (422): the policy blocks {', '.join(blocked)}")
    print("---")
    print(result.text, end="" if result.text.endswith("\n") else "\n")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from .detect.pool import WorkerPoolAnalyzer
    from .evaluate import evaluate, format_reports, load_corpus, merged, multi_report_json

    settings = load_settings(Path(args.config) if args.config else None)
    loaded = resolve_policy(args.policy, settings.policies_dir)
    corpora = {Path(p).stem: load_corpus(Path(p)) for p in args.corpus}
    detection = settings.config.detection

    async def run() -> None:
        pool = WorkerPoolAnalyzer(detection.model, detection.worker_count(),
                                  detection.chunk_chars)
        await pool.start()
        try:
            reports = {name: await evaluate(records, loaded.policy, pool,
                                            secrets.token_bytes(32))
                       for name, records in corpora.items()}
        finally:
            await pool.close()
        print(json.dumps(multi_report_json(reports), indent=2) if args.json
              else format_reports(reports))
        if args.misses:
            print("\n".join(sorted(merged(list(reports.values())).misses)))

    asyncio.run(run())
    return 0


def _audit_key(args: argparse.Namespace) -> bytes:
    settings = load_settings(Path(args.config) if args.config else None)
    master = load_master_key(settings.state_dir, create=False)
    if master is None:
        raise ConfigError([f"{settings.state_dir}/master.key:1: (file): no master key; set "
                           "ALIASGATE_MASTER_KEY or pass --config with the gateway's state_dir"])
    return master


def _audit_verify(args: argparse.Namespace) -> int:
    from .audit.verify import verify

    verdict = verify(Path(args.path), derive(_audit_key(args), "audit-chain"))
    for problem in verdict.problems:
        print(f"FAIL {problem}")
    if verdict.intact:
        print(f"ok: {verdict.records} records, chain and head intact")
    return 0 if verdict.intact else 1


def _audit_find(args: argparse.Namespace) -> int:
    from .audit.find import find
    from .audit.values import value_key

    found = 0
    for how, record in find(Path(args.path), value_key(_audit_key(args)), args.value):
        found += 1
        kinds = ", ".join(sorted(record.get("entities") or {}))
        print(f"{record['ts']}  {record['request_id']}  route={record.get('route')}  "
              f"to={record.get('upstream_host')} ({record.get('upstream_region')})  "
              f"decision={record.get('decision')}  types={kinds}  match={how}")
    if not found:
        print("not found: no record holds this value")
    return 0 if found else 1


def _audit_report(args: argparse.Namespace) -> int:
    from .audit.report import build, render

    print(render(build(Path(args.path), args.since, args.until, args.route), args.format),
          end="")
    return 0


def _age(text: str) -> timedelta:
    from .vault.purge import parse_age

    try:
        return parse_age(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _vault_purge(args: argparse.Namespace) -> int:
    from .vault import VaultUnavailable
    from .vault.purge import purge

    settings = load_settings(Path(args.config) if args.config else None)
    try:
        removed = asyncio.run(purge(settings.config.vault, settings.state_dir, _audit_key(args),
                                    tenant=args.tenant, older_than=args.older_than))
    except VaultUnavailable as exc:
        print(f"error: {exc.message}; the purge did not finish", file=sys.stderr)
        return 1
    print(f"removed {removed} vault entries")
    return 0


def _keys_new(args: argparse.Namespace) -> int:
    from .callers import new_key

    key, digest = new_key()
    print(f"key (give it to the caller, it is not stored): {key}")
    print(f"config (under the route's api_keys):          {digest}")
    return 0


def _policy_check(args: argparse.Namespace) -> int:
    failed = False
    for name in args.files:
        try:
            loaded = load_policy_file(Path(name))
        except ConfigError as exc:
            failed = True
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            continue
        print(f"{name}: ok (policy {loaded.policy.name} version {loaded.policy.version})")
    return 1 if failed else 0


def _policy_test(args: argparse.Namespace) -> int:
    from .policytest import load_cases, report, run

    settings = load_settings(Path(args.config) if args.config else None)
    loaded = resolve_policy(args.policy, settings.policies_dir)
    cases = load_cases(Path(args.cases))
    # Tokens are not compared, so a throwaway key: no master key or state_dir needed.
    outcomes = run(cases, _scanner(settings, loaded.policy, secrets.token_bytes(32)))
    print(report(outcomes))
    return 0 if all(o.passed for o in outcomes) else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aliasgate", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", help="gateway config YAML (default: built-in)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--log-format", choices=["text", "json"], default="text")
    serve.add_argument("--log-level", choices=["debug", "info", "warning"], default="info",
                       help="debug adds a line for every request forwarded as asked")
    serve.set_defaults(run=_serve)
    scan = sub.add_parser("scan", help="pseudonymize text from stdin and show the findings")
    scan.add_argument("--policy", default="default", help="policy name or YAML file")
    scan.add_argument("--config", help="gateway config YAML, for policies_dir and state_dir")
    scan.add_argument("--tenant", default="scan", help="tenant whose token key to use")
    scan.add_argument("--json", action="store_true", help="print JSON")
    scan.set_defaults(run=_scan)
    evaluation = sub.add_parser("eval", help="measure detection on a labelled corpus")
    evaluation.add_argument("corpus", nargs="+", help="JSONL corpus files (see README)")
    evaluation.add_argument("--policy", default="default", help="policy name or YAML file")
    evaluation.add_argument("--config", help="gateway config YAML (detection settings)")
    evaluation.add_argument("--json", action="store_true", help="print JSON")
    evaluation.add_argument("--misses", action="store_true",
                            help="list each missed or leaked value and each phrase not kept")
    evaluation.set_defaults(run=_eval)
    audit = sub.add_parser("audit", help="check and read the redaction log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify_cmd = audit_sub.add_parser("verify", help="check the log is intact and complete")
    verify_cmd.add_argument("path", help="the log file or its directory")
    verify_cmd.set_defaults(run=_audit_verify)
    find_cmd = audit_sub.add_parser("find", help="was this value sent, when, where to")
    find_cmd.add_argument("--value", required=True)
    find_cmd.add_argument("path")
    find_cmd.set_defaults(run=_audit_find)
    report_cmd = audit_sub.add_parser("report", help="counts per route, type, decision, region")
    report_cmd.add_argument("path")
    report_cmd.add_argument("--since", help="ISO date or time, inclusive")
    report_cmd.add_argument("--until", help="ISO date or time, exclusive")
    report_cmd.add_argument("--route")
    report_cmd.add_argument("--format", choices=["table", "json", "csv", "html"],
                            default="table")
    report_cmd.set_defaults(run=_audit_report)
    for command in (verify_cmd, find_cmd):
        command.add_argument("--config", help="gateway config, for its state_dir (the key)")
    vault = sub.add_parser("vault", help="the encrypted token vault")
    vault_sub = vault.add_subparsers(dest="vault_command", required=True)
    purge_cmd = vault_sub.add_parser("purge", help="erase vault entries (prints how many)")
    purge_cmd.add_argument("--config", help="gateway config, for the vault and its key")
    which = purge_cmd.add_mutually_exclusive_group(required=True)
    which.add_argument("--tenant", help="an audit line's tenant fingerprint (16 hex), or a "
                       "tenant name or credential: every tenant it could name (narrow it "
                       "with route:NAME, header:VALUE or key:CREDENTIAL)")
    which.add_argument("--older-than", type=_age, metavar="AGE",
                       help="entries not stored or refreshed for AGE: 30d, 12h, 90m")
    purge_cmd.set_defaults(run=_vault_purge)
    keys = sub.add_parser("keys", help="gateway-issued caller keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser("new", help="make a caller key and its config line").set_defaults(
        run=_keys_new)
    policy = sub.add_parser("policy", help="work with policies")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True)
    check = policy_sub.add_parser("check", help="validate policy files")
    check.add_argument("files", nargs="+")
    check.set_defaults(run=_policy_check)
    test = policy_sub.add_parser("test", help="run a policy's golden cases (exit 1 on a "
                                 "mismatch, 2 on a broken file)")
    test.add_argument("policy", help="policy name or YAML file")
    test.add_argument("cases", help="cases YAML (see README, Policy tests)")
    test.add_argument("--config", help="gateway config YAML, for policies_dir and detection")
    test.set_defaults(run=_policy_test)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    setup_logs(getattr(args, "log_format", "text"), getattr(args, "log_level", "info"))
    try:
        code: int = args.run(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
