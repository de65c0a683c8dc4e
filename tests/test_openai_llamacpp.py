"""The OpenAI adapter against a real llama.cpp server serving the embedded SmolLM2 GGUF.

One server per session with `--chat_format chatml-function-calling` (plain chats and native tool
calls), and one with `--chat_format chatml` for the seed test (the function-calling format ignores
`seed`). Generations are few and short: the whole file takes well under a minute on 2 cores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from evals.cli import main
from evals.manifest import read_manifest
from evals.profiles import Profile, load_profile
from evals.records import iter_lines
from evals.types import GenParams, Message, Request
from providers.openai import OpenAIProvider

pytest.importorskip("llama_cpp.server", reason="the test extra installs llama-cpp-python[server]")
from servers.llamacpp import MODEL_ALIAS, llamacpp_server  # noqa: E402

pytestmark = pytest.mark.server

CALCULATOR = {"type": "function", "function": {
    "name": "calculator", "description": "Evaluate an arithmetic expression",
    "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}, "required": ["expression"]}}}


@pytest.fixture(scope="session")
def llamacpp_url(smollm2_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("llamacpp") / "server.log"
    with llamacpp_server(smollm2_gguf, "chatml-function-calling", log=log) as url:
        yield url


@pytest.fixture(scope="module")
def llamacpp_chatml_url(smollm2_gguf: Path) -> Iterator[str]:
    with llamacpp_server(smollm2_gguf, "chatml") as url:
        yield url


@pytest.fixture
def local(llamacpp_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIProvider]:
    """The shipped llamacpp-local profile, pointed at the test server by PROBITY_BASE_URL."""
    monkeypatch.setenv("PROBITY_BASE_URL", llamacpp_url)
    provider = OpenAIProvider(load_profile("llamacpp-local"))
    yield provider
    provider.close()


def user(text: str, system: str | None = None, **params: object) -> Request:
    messages = ([Message(role="system", content=system)] if system else []) + [Message(role="user", content=text)]
    return Request(messages=messages, params=GenParams.model_validate({"max_new_tokens": 24, **params}))


def test_plain_requests(local: OpenAIProvider, llamacpp_url: str) -> None:
    out = local.generate([user("What is the capital of France?"),
                          user("Write the numbers from 1 to 50, separated by spaces.", max_new_tokens=6)])
    assert [r.error for r in out] == [None, None]
    assert "Paris" in out[0].text and out[0].finish_reason == "stop"
    assert out[0].model == MODEL_ALIAS and out[0].prompt_tokens > 5 and 0 < out[0].completion_tokens < 24
    assert out[1].finish_reason == "length" and out[1].completion_tokens == 6  # max_tokens reached the server
    assert all(r.latency_s > 0 and r.retries == 0 for r in out)
    assert local.identity() == {"adapter": "openai", "base_url": llamacpp_url, "model": MODEL_ALIAS,
                                "tool_protocol": "text"}


def test_stop_sequence(local: OpenAIProvider) -> None:
    prompt = "Write the numbers from 1 to 20, separated by commas."
    free, stopped = local.generate([user(prompt), user(prompt, stop=[","])])
    assert "," in free.text  # without the stop sequence the model writes the list
    assert stopped.error is None and "," not in stopped.text and stopped.finish_reason == "stop"
    assert stopped.text and free.text.startswith(stopped.text.strip())
    assert stopped.completion_tokens < free.completion_tokens


def test_native_tool_call(local: OpenAIProvider) -> None:
    request = user("What is 1234 * 5678? Use the calculator.", system="You can call functions to help the user.",
                   max_new_tokens=48)
    (r,) = local.generate([request.model_copy(update={"tools": [CALCULATOR]})])
    assert r.error is None and r.finish_reason == "tool_calls", r
    (call,) = r.tool_calls
    assert call.name == "calculator" and call.id
    assert "1234" in json.loads(call.arguments)["expression"]


def test_seed_makes_sampling_reproducible(llamacpp_chatml_url: str) -> None:
    profile = Profile(name="chatml", adapter="openai", model=MODEL_ALIAS, base_url=llamacpp_chatml_url)
    provider = OpenAIProvider(profile)
    prompt = "Invent a name for a new kind of fruit and describe its taste."
    a, b, c = provider.generate([user(prompt, temperature=1.0, seed=s, max_new_tokens=20) for s in (123, 123, 7)])
    provider.close()
    assert a.error is None and a.text
    assert a.text == b.text  # same seed, same sample
    assert c.text != a.text  # another seed, another sample


def test_providers_check(llamacpp_url: str, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PROBITY_BASE_URL", llamacpp_url)
    assert main(["providers", "check", "llamacpp-local"]) == 0
    out = capsys.readouterr().out
    assert f"endpoint       {llamacpp_url}" in out and f"model id       {MODEL_ALIAS}" in out
    assert "tool calls     yes: calculator(" in out and "latency" in out


def _tables(out: str) -> list[tuple[str, str]]:
    """(title, header row) of every summary table `probity run` printed."""
    lines = out.splitlines()
    return [(line, lines[i + 2]) for i, line in enumerate(lines) if line.startswith("## ")]


def test_suite_runs_in_plain_and_tools_mode(llamacpp_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """`probity run` through llamacpp-local gives the same tables as any other adapter (here: the scripted one)."""
    monkeypatch.setenv("PROBITY_BASE_URL", llamacpp_url)
    args = ["run", "letter_counts", "--mode", "both", "--limit", "3", "--max-steps", "2", "--no-cache"]
    assert main([*args, "--provider", "llamacpp-local", "--out", str(tmp_path / "llama")]) == 0
    llama_out = capsys.readouterr().out
    (run_dir,) = (tmp_path / "llama").iterdir()
    records = list(iter_lines(run_dir / "records.jsonl"))
    assert len(records) == 6 and {r["mode"] for r in records} == {"plain", "tools"}
    assert all(r["error"] is None and r["score"]["outcome"] for r in records)
    manifest = read_manifest(run_dir)
    assert manifest.status == "finished" and manifest.counts["records"] == 6

    scripted = tmp_path / "scripted.yaml"
    scripted.write_text("name: scripted\nadapter: scripted\nmodel: 'There are 2.'\n"
                        "identity: {names: [SmolLM2], makers: [Hugging Face]}\nknowledge_cutoff: '2024-06'\n")
    assert main([*args, "--provider", str(scripted), "--out", str(tmp_path / "scripted")]) == 0
    assert _tables(llama_out) == _tables(capsys.readouterr().out) != []


def test_native_tools_mode_through_the_runner(llamacpp_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Tools mode with llama.cpp's function-calling format: the model's calls arrive as native tool calls."""
    monkeypatch.setenv("PROBITY_BASE_URL", llamacpp_url)
    profile = tmp_path / "llamacpp-native.yaml"
    text = (Path(__file__).parent.parent / "providers/profiles/llamacpp-local.yaml").read_text()
    profile.write_text(text.replace("name: llamacpp-local", "name: llamacpp-native")
                       .replace("tool_protocol: text", "tool_protocol: native"))
    assert main(["run", "decimal_compare", "--provider", str(profile), "--mode", "tools", "--limit", "2",
                 "--max-steps", "2", "--no-cache", "--out", str(tmp_path / "runs")]) == 0
    capsys.readouterr()
    (run_dir,) = (tmp_path / "runs").iterdir()
    records = list(iter_lines(run_dir / "records.jsonl"))
    assert len(records) == 2 and all(r["error"] is None for r in records)
    calls = [e for r in records for e in r["transcript"] if e["type"] == "model" and e["tool_calls"]]
    assert calls, "the model made no native tool call"
