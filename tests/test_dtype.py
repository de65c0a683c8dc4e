"""Precision is a model version: a profile's dtype is honoured, part of the identity (and so of the
cache key), and refused in one line where the hardware has no native support."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.cache import cache_key
from evals.errors import UserError
from evals.profiles import load_profile
from evals.types import GenParams, Message, Request
from providers import transformers as tf


def test_dtype_is_in_the_identity_and_the_cache_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tf, "cpu_flags", lambda: {"avx512_bf16"})
    fp32 = tf.TransformersProvider(load_profile("smollm2"))
    bf16 = tf.TransformersProvider(load_profile("smollm2-bf16"))
    assert fp32.identity()["dtype"] == "float32" and bf16.identity()["dtype"] == "bfloat16"
    request = Request(messages=[Message(role="user", content="hi")], params=GenParams(max_new_tokens=4))
    assert cache_key(fp32.identity(), request) != cache_key(bf16.identity(), request)


def test_no_native_bfloat16_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tf, "cpu_flags", lambda: {"avx2", "avx512f"})
    with pytest.raises(UserError, match="no native bfloat16 instructions") as info:
        tf.TransformersProvider(load_profile("smollm2-bf16"))
    assert len(info.value.lines) == 1 and "smollm2-bf16" in info.value.lines[0]


def test_a_bad_dtype_is_a_profile_error(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: p\nadapter: transformers\nmodel: x.gguf\ndtype: int3\n")
    with pytest.raises(UserError, match="dtype"):
        load_profile(str(path))


def test_the_default_dtype_leaves_the_profile_digest_alone() -> None:
    profile = load_profile("smollm2")
    assert "dtype" not in profile.model_dump() and load_profile("smollm2-bf16").model_dump()["dtype"] == "bfloat16"


@pytest.mark.model
def test_bf16_weights_generate(smollm2_gguf: Path) -> None:
    if not tf.cpu_flags() & {"avx512_bf16", "amx_bf16"}:
        pytest.skip("this CPU has no native bfloat16")
    provider = tf.TransformersProvider(load_profile("smollm2-bf16"))
    (answer,) = provider.generate([Request(messages=[Message(role="user", content="Say hello.")],
                                           params=GenParams(max_new_tokens=8))])
    assert answer.text and next(provider.model.parameters()).dtype == provider._torch.bfloat16


def test_a_model_folder_has_a_fingerprint(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}')
    weights = folder / "model.safetensors"
    weights.write_bytes(b"\0" * (5 << 20))
    first = tf.folder_digest(folder)
    assert first == tf.folder_digest(folder)
    data = bytearray(weights.read_bytes())
    data[-10] = 1  # new weights of the same size
    weights.write_bytes(bytes(data))
    assert tf.folder_digest(folder) != first
