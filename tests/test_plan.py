"""Requests built from suites: max_new_tokens precedence (suite, else profile), stop lists, seeds, and
which system message an item gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.loader import LoadedSuite, load_suite
from evals.plan import Task, build_request, derive_seed, plan, suite_params
from evals.profiles import Profile, load_profile
from evals.schema import Item, Suite
from evals.types import GenParams, Message, Request

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "suites").glob("*.yaml"))


def loaded(suite: Suite) -> LoadedSuite:
    return LoadedSuite(suite=suite, path=Path("suites/x.yaml"), sha256="0" * 64)


def make_suite(defaults: dict | None = None, items: list[dict] | None = None) -> Suite:
    return Suite.model_validate({
        "name": "tiny", "check": "letter_counts", "defaults": defaults or {},
        "items": items or [{"id": "a", "prompt": "How many r's in strawberry?", "expect": {"kind": "number",
                                                                                          "value": 3}}]})


def profile(**params: object) -> Profile:
    return Profile.model_validate({"name": "p", "adapter": "scripted", "model": "echo", "params": params})


def request_for(suite: Suite, prof: Profile, seed: int = 0) -> Request:
    return build_request(next(plan([loaded(suite)], ["plain"], 1, None)), prof, seed)


# -- max_new_tokens and stop ------------------------------------------------------------------------------


def _request_before(task: Task, prof: Profile, seed: int) -> Request:
    """build_request as it was before suite_params (the suite's max_new_tokens always won, defaulting to
    128): kept to show that the shipped suites, which all set it, get the very same requests."""
    suite, item = task.loaded.suite, task.item
    system = item.system if item.system is not None else suite.defaults.system
    messages: list[Message] = []
    if system:
        messages.append(Message(role="system", content=system))
    if item.messages is not None:
        messages.extend(m for m in item.messages if not (system and m.role == "system"))
    else:
        messages.append(Message(role="user", content=item.prompt or ""))
    params = prof.params.model_copy(update={
        "max_new_tokens": suite.defaults.max_new_tokens if suite.defaults.max_new_tokens is not None else 128,
        "stop": [*suite.defaults.stop, *prof.params.stop],
        "seed": derive_seed(seed, task.key) if prof.params.temperature > 0 else prof.params.seed})
    return Request(messages=messages, params=params, sample=task.sample)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_suites_get_the_same_requests_as_before(path: Path) -> None:
    prof = load_profile("smollm2")
    ls = load_suite(path)
    assert ls.suite.defaults.max_new_tokens is not None, "shipped suites set max_new_tokens explicitly"
    for mode in ("plain", "tools"):
        for task in plan([ls], [mode], 2, None):
            assert build_request(task, prof, 7) == _request_before(task, prof, 7), task.key
    assert suite_params(ls.suite, prof).max_new_tokens == ls.suite.defaults.max_new_tokens


def test_shipped_suite_token_limits() -> None:
    limits = {p.stem: suite_params(load_suite(p).suite, load_profile("smollm2")).max_new_tokens for p in SHIPPED}
    assert limits == {"decimal_compare": 80, "fictional_bios": 128, "letter_counts": 80, "post_cutoff": 96,
                      "self_identity": 64}


def test_the_profile_limit_reaches_the_request_when_the_suite_sets_none() -> None:
    suite = make_suite()
    assert suite.defaults.max_new_tokens is None
    assert request_for(suite, profile(max_new_tokens=777)).params.max_new_tokens == 777
    assert request_for(suite, profile()).params.max_new_tokens == GenParams().max_new_tokens == 256


def test_the_suite_limit_wins_over_the_profile() -> None:
    assert request_for(make_suite({"max_new_tokens": 40}), profile(max_new_tokens=777)).params.max_new_tokens == 40
    assert suite_params(make_suite({"max_new_tokens": 40}), profile(max_new_tokens=777)).max_new_tokens == 40


def test_suite_params_keeps_the_profile_settings_and_joins_stop_lists() -> None:
    prof = profile(max_new_tokens=50, temperature=0.7, top_p=0.9, seed=3, stop=["</s>"])
    params = suite_params(make_suite({"stop": ["\n\n"]}), prof)
    assert params == GenParams(max_new_tokens=50, temperature=0.7, top_p=0.9, seed=3, stop=["\n\n", "</s>"])
    assert prof.params.stop == ["</s>"]  # the profile is not changed


def test_seeds_are_per_task_when_sampling_and_the_profile_seed_when_greedy() -> None:
    suite = make_suite()
    task = next(plan([loaded(suite)], ["plain"], 1, None))
    assert request_for(suite, profile(temperature=0.8), seed=5).params.seed == derive_seed(5, task.key)
    assert request_for(suite, profile(seed=11), seed=5).params.seed == 11


def test_max_new_tokens_must_be_positive_when_set() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        make_suite({"max_new_tokens": 0})


# -- the system message -----------------------------------------------------------------------------------

OWN = [{"role": "system", "content": "OWN"}, {"role": "user", "content": "Q?"}]
PLAIN = [{"role": "user", "content": "Q?"}]


@pytest.mark.parametrize(("default", "item", "expected"), [
    # prompt
    (None, {"prompt": "Q?"}, [("user", "Q?")]),
    ("DEFAULT", {"prompt": "Q?"}, [("system", "DEFAULT"), ("user", "Q?")]),
    (None, {"prompt": "Q?", "system": "ITEM"}, [("system", "ITEM"), ("user", "Q?")]),
    ("DEFAULT", {"prompt": "Q?", "system": "ITEM"}, [("system", "ITEM"), ("user", "Q?")]),
    (None, {"prompt": "Q?", "system": ""}, [("user", "Q?")]),
    ("DEFAULT", {"prompt": "Q?", "system": ""}, [("user", "Q?")]),
    # messages without a system message
    (None, {"messages": PLAIN}, [("user", "Q?")]),
    ("DEFAULT", {"messages": PLAIN}, [("system", "DEFAULT"), ("user", "Q?")]),
    (None, {"messages": PLAIN, "system": "ITEM"}, [("system", "ITEM"), ("user", "Q?")]),
    ("DEFAULT", {"messages": PLAIN, "system": "ITEM"}, [("system", "ITEM"), ("user", "Q?")]),
    (None, {"messages": PLAIN, "system": ""}, [("user", "Q?")]),
    ("DEFAULT", {"messages": PLAIN, "system": ""}, [("user", "Q?")]),
    # messages with their own system message: it wins over the suite default; item.system wins over it
    (None, {"messages": OWN}, [("system", "OWN"), ("user", "Q?")]),
    ("DEFAULT", {"messages": OWN}, [("system", "OWN"), ("user", "Q?")]),
    (None, {"messages": OWN, "system": "ITEM"}, [("system", "ITEM"), ("user", "Q?")]),
    ("DEFAULT", {"messages": OWN, "system": "ITEM"}, [("system", "ITEM"), ("user", "Q?")]),
    (None, {"messages": OWN, "system": ""}, [("user", "Q?")]),
    ("DEFAULT", {"messages": OWN, "system": ""}, [("user", "Q?")]),
])
def test_which_system_message_an_item_gets(default: str | None, item: dict, expected: list[tuple[str, str]]) -> None:
    suite = make_suite({"system": default}, [{"id": "a", "expect": {"kind": "number", "value": 3}, **item}])
    got = [(m.role, m.content) for m in request_for(suite, profile()).messages]
    assert got == expected


def test_a_multi_turn_item_keeps_its_turns_in_order() -> None:
    turns = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
             {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q?"}]
    suite = make_suite({"system": "DEFAULT"}, [{"id": "a", "messages": turns, "expect": {"kind": "abstain"}}])
    got = [(m.role, m.content) for m in request_for(suite, profile()).messages]
    assert got == [(t["role"], t["content"]) for t in turns]
    assert Item.model_validate({"id": "a", "messages": turns, "expect": {"kind": "abstain"}}).text == "Q?"
