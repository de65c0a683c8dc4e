"""The transformers adapter hands answers back as slots finish (`stream`), on the real model."""

from __future__ import annotations

from typing import Any

import pytest

from evals.types import GenParams, Message, Request
from providers import base
from providers.slots import SlotSettings
from providers.transformers import plan_batches

pytestmark = pytest.mark.model

# long answers first in the input, the one-word answers last: the slot decoder must not wait for them
LONG = ["Write a short biography of Elowen Marchetti.", "Tell me a story about a dragon and a lighthouse.",
        "Explain how a bicycle works, in detail."]
SHORT = ["Say only the word: yes", "Reply with one word: what colour is the sky?"]
PARAMS = GenParams(max_new_tokens=32)


def requests() -> list[Request]:
    return [Request(messages=[Message(role="user", content=p)], params=PARAMS) for p in LONG + SHORT]


@pytest.fixture(scope="module")
def reference(smollm2: Any) -> list[tuple[str, str]]:
    """(text, finish reason) per request from `generate`, the slot decoder's answers in order."""
    assert smollm2.decoder == "slots"
    return [(r.text, r.finish_reason) for r in smollm2.generate(requests())]


class PassCounter:
    """Counts the model's forward passes (one per decode step or prefill pass)."""

    def __init__(self, model: Any) -> None:
        self.n = 0
        self.handle = model.register_forward_hook(self.hook)

    def hook(self, *args: Any) -> None:
        self.n += 1

    def __enter__(self) -> PassCounter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.handle.remove()


def test_stream_hands_back_short_answers_before_long_ones_finish(provider: Any,
                                                                 reference: list[tuple[str, str]]) -> None:
    reqs = requests()
    order, passes_at, tokens = [], [], {}
    with PassCounter(provider.model) as passes:
        for i, resp in base.stream(provider, reqs):
            order.append(i)
            passes_at.append(passes.n)
            tokens[i] = resp.completion_tokens
            assert (resp.text, resp.finish_reason) == reference[i]  # generate = stream collected in order
        total = passes.n
    assert sorted(order) == list(range(len(reqs)))  # every index exactly once
    assert order != list(range(len(reqs)))  # not the input order: finished rows come back at once
    assert order[0] >= len(LONG)  # a one-word answer comes back first ...
    assert passes_at[0] < total / 2  # ... long before the last row has finished decoding
    assert max(tokens.values()) > 3 * tokens[order[0]]


def test_closing_the_stream_early_leaves_the_decoder_usable(provider: Any,
                                                            reference: list[tuple[str, str]]) -> None:
    import torch

    reqs = requests()
    attention = provider.model.config._attn_implementation
    answers = base.stream(provider, reqs)
    first_index, first = next(answers)
    assert (first.text, first.finish_reason) == reference[first_index] and first_index >= len(LONG)
    # between answers the model is its own again: not in inference mode, with its own attention
    assert not torch.is_inference_mode_enabled()
    assert provider.model.config._attn_implementation == attention
    answers.close()  # what the runner does on Ctrl-C or when its circuit breaker opens
    assert provider.model.config._attn_implementation == attention
    assert [(r.text, r.finish_reason) for r in provider.generate(reqs)] == reference


def test_a_new_run_ends_a_suspended_one(provider: Any, reference: list[tuple[str, str]]) -> None:
    encoded = [provider.tokenizer(provider.render(r), add_special_tokens=False)["input_ids"] for r in requests()]
    settings = SlotSettings(batch_size=8, kv_tokens=32768, share_prefix=True, min_shared=8, refill=True,
                            prefill_tokens=512)
    stale = provider.slots.stream(encoded, PARAMS, [None] * len(encoded), settings)
    next(stale)
    fresh = provider.slots.run(encoded, PARAMS, [None] * len(encoded), settings)  # reuses the cache buffers
    with pytest.raises(RuntimeError, match="another run started"):
        list(stale)  # resuming would read the other run's keys and values
    texts = [provider.tokenizer.decode(t, skip_special_tokens=True).strip() for t, _ in fresh]
    assert texts == [text for text, _ in reference]


def test_reference_decoder_streams_per_batch(provider: Any, reference: list[tuple[str, str]]) -> None:
    provider.decoder, provider.batch_size = "generate", 2
    streamed = list(provider.stream(requests()))
    assert sorted(i for i, _ in streamed) == list(range(len(reference)))
    assert {i: r.text for i, r in streamed} == {i: text for i, (text, _) in enumerate(reference)}
    # a batch at a time, longest prompts first (as `plan_batches` groups them)
    prompts = [provider.render(r) for r in requests()]
    lengths = [len(provider.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
    batches = plan_batches(lengths, prompts, ["same"] * len(prompts), 2)
    assert [i for i, _ in streamed] == [i for batch in batches for i in batch]


def test_stream_of_nothing(provider: Any) -> None:
    assert list(base.stream(provider, [])) == []
    assert list(provider.stream([])) == []
    assert provider.generate([]) == []
