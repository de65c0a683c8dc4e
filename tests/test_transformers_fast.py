"""The transformers adapter's slot decoder: batching helpers, and the same outputs as `generate`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from evals.types import GenParams, Message, Request
from providers.slots import compaction, cut_at_stop, shared_prefixes
from providers.transformers import batch_key, plan_batches

PROMPTS = [
    "How many times does the letter 'r' appear in the word 'strawberry'?",
    "单词“banana”中有几个字母“a”？",
    "Which is larger: 9.11 or 9.9?",
    "你是谁？",
    "Say only the word: yes",
    "Write a short biography of Elowen Marchetti.",
]


def test_plan_batches_groups_sorts_and_splits() -> None:
    lengths = [3, 9, 5, 9, 1]
    texts = ["c", "b", "e", "a", "d"]
    assert plan_batches(lengths, texts, ["k"] * 5, 2) == [[3, 1], [2, 0], [4]]  # ties by text, as lm-eval
    assert plan_batches(lengths, texts, ["x", "y", "x", "y", "x"], 8) == [[2, 0, 4], [3, 1]]


def test_batch_key_ignores_only_the_seed() -> None:
    assert batch_key(GenParams(temperature=0.7, seed=1)) == batch_key(GenParams(temperature=0.7, seed=2))
    assert batch_key(GenParams(max_new_tokens=5)) != batch_key(GenParams(max_new_tokens=6))
    assert batch_key(GenParams(stop=["\n"])) != batch_key(GenParams())


def test_shared_prefixes_groups_rows_and_leaves_one_token_per_row() -> None:
    assert shared_prefixes([[1, 2, 3, 4], [1, 2, 3, 5]], 2) == [3, 3]
    assert shared_prefixes([[1, 2, 3], [1, 2, 3, 4]], 2) == [2, 2]
    assert shared_prefixes([[7, 2], [1, 2]], 1) == [0, 0]
    # two system prompts in one batch: two groups; a loner shares nothing
    a, b = [1, 1, 1, 1], [2, 2, 2, 2]
    rows = [a + [5], b + [6, 7], a + [8, 9], [3, 3], b + [4]]
    assert shared_prefixes(rows, 3) == [4, 4, 4, 0, 4]
    assert shared_prefixes(rows, 5) == [0, 0, 0, 0, 0]
    assert shared_prefixes([], 3) == []


def test_compaction_moves_the_last_live_rows_into_holes() -> None:
    assert compaction([False, True, False, False]) == [0, 3, 2]
    assert compaction([True, True, False]) == [2]
    assert compaction([False, False]) == [0, 1]
    assert compaction([True, False, True, False, False]) == [3, 1, 4]
    assert compaction([True, True]) == []


def test_cut_at_stop_takes_the_earliest() -> None:
    assert cut_at_stop("a\nb. c", ["\n", "."]) == ("a", True)
    assert cut_at_stop("abc", ["x", ""]) == ("abc", False)


# -- the real model --------------------------------------------------------------------------------
def requests(params: GenParams) -> list[Request]:
    return [Request(messages=[Message(role="user", content=p)], params=params) for p in PROMPTS]


@pytest.fixture
def provider(smollm2: Any) -> Iterator[Any]:
    saved = {k: getattr(smollm2, k) for k in ("decoder", "share_prefix", "refill", "batch_size")}
    yield smollm2
    for k, v in saved.items():
        setattr(smollm2, k, v)


def texts(provider: Any, reqs: list[Request], **settings: Any) -> list[tuple[str, int, str]]:
    for name, value in settings.items():
        setattr(provider, name, value)
    return [(r.text, r.completion_tokens, r.finish_reason) for r in provider.generate(reqs)]


@pytest.mark.model
def test_slots_match_generate(provider: Any) -> None:
    reqs = requests(GenParams(max_new_tokens=24))
    reference = texts(provider, reqs, decoder="generate")
    assert any(finish == "stop" for _, _, finish in reference)  # a row finishes early and leaves its slot
    assert texts(provider, reqs, decoder="slots", share_prefix=False) == reference
    provider.slots.timings = {}  # the phase timing hooks (bench/throughput.py) change nothing but the clock
    try:
        assert texts(provider, reqs, decoder="slots", share_prefix=True) == reference
        assert set(provider.slots.timings) == {"prefill", "decode", "pick"}
        assert all(seconds > 0 for seconds in provider.slots.timings.values())
    finally:
        provider.slots.timings = None
    # two slots for six prompts: finished rows free slots, waiting prompts are prefilled into them
    assert texts(provider, reqs, decoder="slots", batch_size=2, refill=True) == reference
    assert texts(provider, reqs, decoder="slots", batch_size=4, refill=False) == reference
    # two prefix groups (the default system turn, and a suite's own system prompt), refilled mid-run
    system = [Message(role="system", content="You are a careful assistant. Answer in one sentence.")]
    mixed = reqs[:3] + [r.model_copy(update={"messages": system + r.messages}) for r in reqs[3:]]
    reference = texts(provider, mixed, decoder="generate", batch_size=6)
    assert texts(provider, mixed, decoder="slots", batch_size=6) == reference
    assert texts(provider, mixed, decoder="slots", batch_size=3) == reference
    # a cache budget of about two rows' worth of positions: two slots whatever batch_size says
    budget = provider.kv_tokens
    provider.kv_tokens = 2 * (max(r.prompt_tokens for r in provider.generate(mixed)) + 24)
    try:
        assert texts(provider, mixed, decoder="slots", batch_size=6) == reference
        assert provider.slots.cache.keys[0].shape[0] == 2
    finally:
        provider.kv_tokens = budget


@pytest.mark.model
def test_stop_strings(provider: Any) -> None:
    out = provider.generate(requests(GenParams(max_new_tokens=24, stop=[" the ", "\n"]))[:3])
    for r in out:
        assert " the " not in r.text and "\n" not in r.text
    assert any(r.finish_reason == "stop" for r in out)
    provider.decoder = "generate"
    ref = provider.generate(requests(GenParams(max_new_tokens=24, stop=[" the ", "\n"]))[:3])
    provider.decoder = "slots"
    assert [r.text for r in out] == [r.text for r in ref]


@pytest.mark.model
def test_sampling_is_seeded_per_row(provider: Any) -> None:
    params = [GenParams(max_new_tokens=12, temperature=0.9, top_p=0.95, seed=s) for s in (1, 2, 3)]
    reqs = [Request(messages=[Message(role="user", content="Tell me about the moon.")], params=p) for p in params]
    batched = provider.generate(reqs)
    again = provider.generate(reqs)
    assert [r.text for r in batched] == [r.text for r in again]  # reproducible
    alone = provider.generate(reqs[1:2])
    assert alone[0].text == batched[1].text  # does not depend on the other rows of its batch
    provider.batch_size = 1  # one slot: the rows run one after another
    assert [r.text for r in provider.generate(reqs)] == [r.text for r in batched]
    assert len({r.text for r in batched}) > 1  # different seeds, different samples


def test_weights_load_on_first_use() -> None:
    """A fully cached re-run needs the provider's identity, never its weights."""
    from evals.profiles import load_profile
    from providers.transformers import TransformersProvider

    provider = TransformersProvider(load_profile("smollm2"))
    assert len(provider.identity()["file_sha256"]) == 64
    assert "model" not in provider.__dict__ and "tokenizer" not in provider.__dict__
    with pytest.raises(AttributeError):
        provider.no_such_setting  # noqa: B018


def test_identity_names_the_device_and_dtype_without_loading() -> None:
    """A GPU run is never answered from CPU answers in the response cache (and the other way round)."""
    import torch

    from evals.cache import cache_key
    from evals.profiles import load_profile
    from providers.transformers import TransformersProvider

    profile = load_profile("smollm2")
    identities = {}
    for device in ("cpu", "cpu:0", "cuda", "cuda:1", "auto"):
        provider = TransformersProvider(profile.model_copy(update={"device": device}))
        identities[device] = provider.identity()
        assert "model" not in provider.__dict__  # an unavailable device is found at preflight, not here
    assert identities["cpu"]["device"] == identities["cpu:0"]["device"] == "cpu"
    assert identities["cuda:1"]["device"] == "cuda:1"
    assert identities["auto"]["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert {i["dtype"] for i in identities.values()} == {"float32"}
    request = Request(messages=[Message(role="user", content="hi")])
    keys = {cache_key(identities[d], request) for d in ("cpu", "cuda", "cuda:1")}
    assert len(keys) == 3


@pytest.mark.model
def test_identity_is_what_was_loaded(provider: Any) -> None:
    weights = next(provider.model.parameters())
    identity = provider.identity()
    assert identity["dtype"] == str(weights.dtype).removeprefix("torch.")
    assert identity["device"] == weights.device.type == provider.device


def test_reduced_precision_decoder_has_its_own_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """bfloat16 decode attention is another kernel call (packed query heads), float32's is not: only bfloat16 keys move."""
    from evals.profiles import load_profile
    from providers import transformers as tf

    monkeypatch.setattr(tf, "cpu_flags", lambda: {"avx512_bf16"})
    fp32 = tf.TransformersProvider(load_profile("smollm2")).identity()
    bf16 = tf.TransformersProvider(load_profile("smollm2-bf16")).identity()
    assert fp32["decoder"] == tf.DECODER_VERSION == 3  # float32 answers cached before stay valid
    assert bf16["decoder"] == tf.REDUCED_DECODER_VERSION != tf.DECODER_VERSION


def test_packed_decode_attention_is_transformers_arithmetic() -> None:
    """The bfloat16 decode path computes what transformers' sdpa does for one query (`pack_gqa`), bit for
    bit, and what `enable_gqa` computes up to bfloat16 rounding; float32 keeps `enable_gqa` exactly."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    from providers.slots import Plan, slot_attention

    torch.manual_seed(0)

    class Attn(torch.nn.Module):
        num_key_value_groups = 3

    rows, width = 5, 37
    lengths = torch.tensor([3, 36, 20, 9, 30])
    mask = (torch.arange(width)[None, :] <= lengths[:, None])[:, None, None, :]
    plan = Plan(slots=torch.arange(rows), columns=lengths, first=0, rows=rows, width=width, mask=mask)
    for dtype in (torch.bfloat16, torch.float32):
        q = torch.randn(rows, 9, 1, 64).to(dtype)
        k, v = torch.randn(rows, 3, width, 64).to(dtype), torch.randn(rows, 3, width, 64).to(dtype)
        ours, _ = slot_attention(Attn(), q, k, v, mask, slot_plan=plan, scaling=0.125)
        theirs, _ = sdpa_attention_forward(Attn(), q, k, v, mask, scaling=0.125)
        gqa = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=0.125, enable_gqa=True)
        assert ours.shape == (rows, 1, 9, 64)
        if dtype == torch.bfloat16:
            assert torch.equal(ours, theirs)
            assert torch.allclose(ours.float(), gqa.transpose(1, 2).float(), atol=2e-2)
        else:
            assert torch.equal(ours, gqa.transpose(1, 2))
