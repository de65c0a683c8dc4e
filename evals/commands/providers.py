"""`probity providers list|check`: the named profiles, and a one-request health check of one of them."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from tabulate import tabulate

from evals.errors import UserError
from evals.profiles import Profile, list_profiles, load_profile
from evals.secrets import redact_url
from evals.types import GenParams, Message, Request, Response
from providers.base import preflight

PLAIN_PROMPT = "Reply with one word: ready"
TOOL_SYSTEM = "You are a helpful assistant. Use the calculator tool for arithmetic."
TOOL_PROMPT = "What is 1234 * 5678? Use the calculator."


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("providers", help="list provider profiles or check that one answers")
    ps = p.add_subparsers(dest="providers_command", required=True, metavar="ACTION")
    ls = ps.add_parser("list", help="list the profiles with their adapter, model and endpoint")
    ls.set_defaults(func=cmd_list)
    ck = ps.add_parser("check", help="send one request (and one with a tool) and report latency, model id, tool calls")
    ck.add_argument("name", metavar="NAME", help="profile name or path to a profile YAML file")
    ck.add_argument("--no-tools", action="store_true", help="skip the tool-call request")
    ck.set_defaults(func=cmd_check)


def _endpoint(profile: Profile) -> str:
    if profile.adapter != "openai":
        return "local"
    key = f" (key: ${profile.api_key_env})" if profile.api_key_env else ""
    override = (os.environ.get("PROBITY_BASE_URL") or "").strip()
    if override:
        urls = ", ".join(redact_url(u.strip()) for u in override.split(",") if u.strip())
        url = f"{urls} (from $PROBITY_BASE_URL)"
    elif profile.endpoints:
        url = ", ".join(redact_url(e.base_url) for e in profile.endpoints)
    else:
        url = redact_url(profile.base_url or "?")
    return f"{url}{key}"


def cmd_list(args: argparse.Namespace) -> int:
    rows = []
    for path in list_profiles():
        try:
            p = load_profile(str(path))
        except UserError as exc:
            rows.append([path.stem, "?", "?", "?", f"invalid: {exc.lines[0]}"])
            continue
        rows.append([p.name, p.adapter, p.model, _endpoint(p), p.description])
    print(tabulate(rows, headers=["profile", "adapter", "model", "endpoint", "description"], tablefmt="github"))
    return 0


def _ask(provider: Any, request: Request) -> tuple[Response, float]:
    t0 = time.perf_counter()
    (response,) = provider.generate([request])
    return response, time.perf_counter() - t0


def _tool_request() -> Request:
    from evals.tools import get_tools

    specs = [t.spec() for t in get_tools(["calculator"], None)]
    return Request(messages=[Message(role="system", content=TOOL_SYSTEM), Message(role="user", content=TOOL_PROMPT)],
                   params=GenParams(max_new_tokens=64), tools=specs)


def _tool_verdict(r: Response) -> str:
    if r.error:
        return f"unknown: the request failed ({r.error_kind}: {r.error})"
    if r.tool_calls:
        calls = ", ".join(f"{c.name}({c.arguments})" for c in r.tool_calls)
        return f"yes: {calls}"
    return f"no: the model answered in text ({r.text[:60]!r}); use tool_protocol: text"


def cmd_check(args: argparse.Namespace) -> int:
    from providers import make_provider

    profile = load_profile(args.name)
    t0 = time.perf_counter()
    provider = make_provider(profile)
    setup_s = time.perf_counter() - t0
    try:
        preflight(provider)
        plain, plain_s = _ask(provider, Request(messages=[Message(role="user", content=PLAIN_PROMPT)],
                                                params=GenParams(max_new_tokens=16)))
        identity = provider.identity()
        rows = [["profile", f"{profile.name} ({profile.adapter} adapter)"]]
        if profile.adapter == "openai":
            usage = getattr(provider, "endpoint_usage", None)
            rows.append(["endpoint", identity.get("base_url") or (", ".join(usage()) if callable(usage) else "")])
            rows.append(["served model", identity.get("served_model", "(not reported)")])
        elif setup_s >= 0.5:
            rows.append(["load", f"{setup_s:.1f} s"])
        if plain.error:
            raise UserError(f"{profile.name}: the check request failed ({plain.error_kind}): {plain.error}")
        rows += [["model id", plain.model or profile.model],
                 ["latency", f"{plain_s:.2f} s ({plain.prompt_tokens} prompt + {plain.completion_tokens} "
                             f"completion tokens, {plain.retries} retries)"],
                 ["reply", repr(plain.text[:80])]]
        if not args.no_tools:
            tool, tool_s = _ask(provider, _tool_request())
            rows += [["tool calls", _tool_verdict(tool)], ["tool latency", f"{tool_s:.2f} s"],
                     ["tool_protocol", f"{profile.tool_protocol} (the profile's choice for tools mode)"]]
    finally:
        provider.close()
    print(tabulate(rows, tablefmt="plain"))
    return 0
