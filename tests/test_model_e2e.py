"""The real SmolLM2 file, end to end: suites → adapter → scored records → tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.manifest import read_manifest
from evals.metrics import records_frame
from evals.records import iter_records
from evals.runner import RunConfig, start_run
from evals.tables import summary_tables
from evals.types import GenParams, Message, Request

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.model


def test_adapter_batches_and_reports_usage(smollm2) -> None:
    prompts = ["How many r's are in strawberry?", "你是谁？", "Which is larger, 9.11 or 9.9?"]
    reqs = [Request(messages=[Message(role="user", content=p)], params=GenParams(max_new_tokens=12))
            for p in prompts]
    out = smollm2.generate(reqs)
    assert len(out) == 3
    for resp in out:
        assert resp.error is None and resp.text
        assert resp.prompt_tokens > 5 and 0 < resp.completion_tokens <= 12
        assert resp.finish_reason in ("stop", "length") and resp.latency_s > 0
    # greedy is deterministic and independent of batch composition
    alone = smollm2.generate(reqs[:1])
    assert alone[0].text == out[0].text


def test_every_suite_end_to_end(smollm2, tmp_path: Path) -> None:
    config = RunConfig(suite_args=[str(ROOT / "suites")], provider="smollm2", limit=2, cache=False)
    result = start_run(config, tmp_path, provider=smollm2)
    records = list(iter_records(result.run_dir))
    manifest = read_manifest(result.run_dir)
    suites = {s.name for s in manifest.suites}
    assert len(suites) >= 5
    assert len(records) == 2 * len(suites) == manifest.counts["records"]
    for r in records:
        assert r.error is None and r.score is not None and r.score.why
        assert r.response.completion_tokens > 0
    tables = summary_tables(records_frame(records), records)
    for name in suites:
        assert f"| {name}" in tables["Per suite"]
    assert manifest.versions["torch"] and (manifest.model_identity or {})["file_sha256"]


def test_native_tools_render_for_a_template_without_tool_support(smollm2) -> None:
    """SmolLM2's template ignores `tools=`: the adapter describes them in the system turn and writes
    earlier calls as <tool_call> text, so a native-protocol conversation still reaches the model."""
    from evals.tools import get_tools
    from evals.tools.loop import run_agents
    from evals.types import ToolCall

    tools = get_tools(["calculator"])
    specs = [t.spec() for t in tools]
    convo = [Message(role="user", content="Which is larger, 9.11 or 9.9?"),
             Message(role="assistant", tool_calls=[ToolCall(id="c1", name="calculator",
                                                             arguments='{"expression": "9.11 > 9.9"}')]),
             Message(role="tool", content="False", tool_call_id="c1", name="calculator")]
    prompt = smollm2.render(Request(messages=convo, tools=specs))
    assert '"name": "calculator"' in prompt.split("<|im_start|>user")[0]
    assert '<tool_call>{"name": "calculator", "arguments": {"expression": "9.11 > 9.9"}}</tool_call>' in prompt
    assert smollm2.render(Request(messages=convo[:1])) != smollm2.render(Request(messages=convo[:1], tools=specs))
    (result,) = run_agents(smollm2, [Request(messages=convo[:1], params=GenParams(max_new_tokens=24))], tools,
                           "native", max_steps=2)
    assert result.transcript and result.transcript[0].type == "model"
    assert result.stats.steps >= 1 and result.response.error is None
