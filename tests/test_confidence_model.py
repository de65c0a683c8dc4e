"""Token confidence from the real SmolLM2 through both decoders: the same numbers, the same answers."""

from __future__ import annotations

from typing import Any

import pytest

from evals.types import GenParams, Message, Request

pytestmark = pytest.mark.model

PROMPTS = ["What is the capital of France?", "Which is larger: 9.11 or 9.9?", "你是谁？",
           "Write a short biography of Elowen Marchetti."]


def test_slots_and_generate_give_the_same_confidence(provider: Any) -> None:
    reqs = [Request(messages=[Message(role="user", content=p)], params=GenParams(max_new_tokens=20)) for p in PROMPTS]
    provider.decoder = "generate"
    reference = provider.generate(reqs)
    provider.decoder = "slots"
    slots = provider.generate(reqs)
    assert [r.text for r in slots] == [r.text for r in reference]
    assert any(r.finish_reason == "stop" for r in slots) and any(r.finish_reason == "length" for r in slots)
    for a, b in zip(slots, reference, strict=True):
        ca, cb = a.confidence, b.confidence
        assert ca is not None and cb is not None and ca.source == cb.source == "logits"
        assert ca.n_tokens == cb.n_tokens == a.completion_tokens
        assert ca.mean_logprob == pytest.approx(cb.mean_logprob, abs=2e-3)
        assert ca.min_logprob == pytest.approx(cb.min_logprob, abs=2e-3)
        assert ca.first_token_entropy == pytest.approx(cb.first_token_entropy, abs=2e-3)
        assert ca.min_logprob <= ca.mean_logprob <= 0.0 <= ca.first_token_entropy


def test_greedy_confidence_is_the_probability_of_the_argmax(provider: Any) -> None:
    """One token by hand: its log p is log_softmax of the prompt's last logits at the argmax."""
    import torch

    req = Request(messages=[Message(role="user", content=PROMPTS[0])], params=GenParams(max_new_tokens=1))
    (r,) = provider.generate([req])
    ids = provider.tokenizer(provider.render(req), add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        logits = provider.model(input_ids=ids).logits[0, -1].float()
    logp = torch.log_softmax(logits, -1)
    assert r.confidence.n_tokens == 1
    assert r.confidence.mean_logprob == pytest.approx(float(logp.max()), abs=1e-3)
    assert r.confidence.first_token_entropy == pytest.approx(float(-(logp.exp() * logp).sum()), abs=1e-3)


def test_sampled_answers_differ_by_seed_and_repeat_with_it(provider: Any) -> None:
    params = [GenParams(max_new_tokens=16, temperature=1.0, seed=s) for s in (11, 12, 13, 14)]
    reqs = [Request(messages=[Message(role="user", content=PROMPTS[3])], params=p) for p in params]
    first, again = provider.generate(reqs), provider.generate(reqs)
    assert [r.text for r in first] == [r.text for r in again]
    assert [r.confidence for r in first] == [r.confidence for r in again]
    assert len({r.text for r in first}) > 1
