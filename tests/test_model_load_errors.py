"""A model or device the transformers adapter cannot use is one line naming the setting (exit 2), never a
traceback: at preflight (no weights loaded) and at first use (weights load lazily)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from evals.cli import main
from evals.errors import UserError
from evals.profiles import load_profile
from evals.types import GenParams, Message, Request
from providers.transformers import GGUF_MAGIC, TransformersProvider, folder_problem, gguf_problem

ROOT = Path(__file__).resolve().parent.parent
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")


def write_profile(tmp_path: Path, model: str, device: str = "cpu") -> Path:
    path = tmp_path / "local.yaml"
    path.write_text(f"name: local\nadapter: transformers\nmodel: {json.dumps(model)}\ndevice: {json.dumps(device)}\n",
                    encoding="utf-8")
    return path


def provider_for(tmp_path: Path, model: Path | str, device: str = "cpu") -> TransformersProvider:
    return TransformersProvider(load_profile(str(write_profile(tmp_path, str(model), device))))


# -- broken models, written to tmp_path ------------------------------------------------------------
def random_bytes(tmp_path: Path, real: Path) -> Path:
    path = tmp_path / "random.gguf"
    path.write_bytes(os.urandom(1 << 16))
    return path


def truncated_copy(tmp_path: Path, real: Path) -> Path:
    """The real file cut short after its tables: the download that stopped at 2 MB."""
    path = tmp_path / "truncated.gguf"
    with real.open("rb") as f:
        path.write_bytes(f.read(2_000_000))
    return path


def truncated_tables(tmp_path: Path, real: Path) -> Path:
    path = tmp_path / "cut.gguf"
    with real.open("rb") as f:
        path.write_bytes(f.read(500_000))  # inside the tokenizer's vocabulary
    return path


def header_only(tmp_path: Path, real: Path) -> Path:
    path = tmp_path / "short.gguf"
    path.write_bytes(GGUF_MAGIC + b"\x03\x00")
    return path


def empty_folder(tmp_path: Path, real: Path) -> Path:
    path = tmp_path / "empty"
    path.mkdir()
    return path


def folder_without_config(tmp_path: Path, real: Path) -> Path:
    path = tmp_path / "notes"
    path.mkdir()
    (path / "README.txt").write_text("weights go here\n", encoding="utf-8")
    return path


def config_without_weights(tmp_path: Path, real: Path) -> Path:
    path = tmp_path / "config-only"
    path.mkdir()
    (path / "config.json").write_text('{"model_type": "llama"}', encoding="utf-8")
    return path


def truncated_safetensors(tmp_path: Path, real: Path) -> Path:
    from safetensors.numpy import save_file

    path = tmp_path / "cut-safetensors"
    path.mkdir()
    (path / "config.json").write_text('{"model_type": "llama"}', encoding="utf-8")
    save_file({"w": np.ones((64, 64), dtype=np.float32)}, str(path / "model.safetensors"))
    data = (path / "model.safetensors").read_bytes()
    (path / "model.safetensors").write_bytes(data[:-100])
    return path


def unknown_architecture(tmp_path: Path, real: Path) -> Path:
    """A whole, well-formed GGUF file that transformers refuses: the error comes from loading, at first use."""
    from gguf import GGUFWriter

    path = tmp_path / "nonesuch.gguf"
    writer = GGUFWriter(str(path), "nonesuch")
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


PREFLIGHT_CASES: list[tuple[Callable[[Path, Path], Path], str]] = [
    (random_bytes, "not a GGUF file"),
    (truncated_copy, "truncated: 2000000 bytes"),
    (truncated_tables, "truncated or corrupt"),
    (header_only, "shorter than a GGUF header"),
    (empty_folder, "folder is empty"),
    (folder_without_config, "no config.json"),
    (config_without_weights, "no weights"),
    (truncated_safetensors, "model.safetensors is truncated"),
]


def run_cli(tmp_path: Path, profile: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    suite = tmp_path / "suite.yaml"
    shutil.copy(ROOT / "suites" / "self_identity.yaml", suite)
    capsys.readouterr()
    status = main(["run", str(suite), "--provider", str(profile), "--limit", "1", "--mode", "plain",
                   "--out", str(tmp_path / "runs")])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    return status, err


CLI_CASES = PREFLIGHT_CASES + [(unknown_architecture, "cannot load it")]


@pytest.mark.parametrize(("make", "reason"), CLI_CASES, ids=[m.__name__ for m, _ in CLI_CASES])
def test_probity_run_with_a_broken_model_is_one_line(make: Callable[[Path, Path], Path], reason: str,
                                                     tmp_path: Path, smollm2_gguf: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    model = make(tmp_path, smollm2_gguf)
    status, err = run_cli(tmp_path, write_profile(tmp_path, str(model)), capsys)
    assert status == 2
    assert len(err) == 1, err
    assert err[0].startswith(f"probity: profile local: model {model}: ") and reason in err[0], err[0]
    assert "Traceback" not in err[0]


@NO_CUDA
def test_probity_run_on_cuda_without_cuda_is_one_line(tmp_path: Path, smollm2_gguf: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    status, err = run_cli(tmp_path, write_profile(tmp_path, str(smollm2_gguf), "cuda"), capsys)
    assert status == 2 and len(err) == 1, err
    assert err[0].startswith("probity: profile local: device cuda: CUDA is not available"), err[0]


def test_probity_run_on_a_device_torch_does_not_know_is_one_line(tmp_path: Path, smollm2_gguf: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    status, err = run_cli(tmp_path, write_profile(tmp_path, str(smollm2_gguf), "gpu"), capsys)
    assert status == 2 and len(err) == 1, err
    assert "device" in err[0] and "gpu" in err[0], err[0]


# -- preflight: the same checks, without loading weights ---------------------------------------------
def assert_not_loaded(provider: TransformersProvider) -> None:
    assert not {"model", "tokenizer", "slots"} & set(provider.__dict__)


@pytest.mark.parametrize(("make", "reason"), PREFLIGHT_CASES, ids=[m.__name__ for m, _ in PREFLIGHT_CASES])
def test_preflight_names_the_model_setting(make: Callable[[Path, Path], Path], reason: str, tmp_path: Path,
                                           smollm2_gguf: Path) -> None:
    model = make(tmp_path, smollm2_gguf)
    provider = provider_for(tmp_path, model)
    with pytest.raises(UserError) as caught:
        provider.preflight()
    (line,) = caught.value.lines
    assert line.startswith(f"profile local: model {model}: ") and reason in line, line
    assert_not_loaded(provider)


def test_preflight_passes_for_the_real_model_without_loading_it(smollm2_gguf: Path) -> None:
    provider = TransformersProvider(load_profile("smollm2"))
    provider.preflight()
    assert gguf_problem(smollm2_gguf) is None
    assert_not_loaded(provider)


def test_preflight_accepts_a_folder_with_config_and_weights(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    (tmp_path / "config.json").write_text('{"model_type": "llama"}', encoding="utf-8")
    save_file({"w": np.ones((4, 4), dtype=np.float32)}, str(tmp_path / "model.safetensors"))
    assert folder_problem(tmp_path) is None
    (tmp_path / "config.json").write_text('{"hidden_size": 4}', encoding="utf-8")
    assert folder_problem(tmp_path) == "the folder's config.json has no model_type"


def test_a_folder_holding_one_gguf_means_that_file(tmp_path: Path, smollm2_gguf: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "model.gguf").symlink_to(smollm2_gguf)
    provider = provider_for(tmp_path, folder)
    assert provider.gguf_file == "model.gguf"
    provider.preflight()
    (folder / "other.gguf").symlink_to(smollm2_gguf)
    with pytest.raises(UserError, match=r"several \.gguf files \(model\.gguf, other\.gguf\)"):
        provider_for(tmp_path, folder)


def test_a_missing_model_names_the_profile(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^profile local: model .*nowhere\.gguf: not found on disk"):
        provider_for(tmp_path, tmp_path / "nowhere.gguf")
    model = truncated_copy(tmp_path, Path(__file__))  # any bytes: it is deleted before preflight
    provider = provider_for(tmp_path, model)
    model.unlink()
    with pytest.raises(UserError, match="not found on disk"):
        provider.preflight()


@NO_CUDA
@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_preflight_names_the_device_setting(device: str, tmp_path: Path, smollm2_gguf: Path) -> None:
    provider = provider_for(tmp_path, smollm2_gguf, device)
    with pytest.raises(UserError) as caught:
        provider.preflight()
    assert caught.value.lines == [f"profile local: device {device}: CUDA is not available (torch "
                                  f"{torch.__version__} is built without CUDA); use device: cpu or auto"]
    assert_not_loaded(provider)


def test_a_device_torch_knows_but_this_machine_lacks(tmp_path: Path, smollm2_gguf: Path) -> None:
    profile = load_profile(str(write_profile(tmp_path, str(smollm2_gguf))))
    for device in ("meta", "xpu:3"):
        if device.startswith("xpu") and torch.xpu.is_available():
            continue
        provider = TransformersProvider(profile.model_copy(update={"device": device}))
        with pytest.raises(UserError, match=rf"^profile local: device {device}: .*not available"):
            provider.preflight()


def test_a_device_torch_does_not_know_fails_at_once(tmp_path: Path, smollm2_gguf: Path) -> None:
    profile = load_profile(str(write_profile(tmp_path, str(smollm2_gguf))))
    for device in ("gpu", "cuda:x", "CPU"):
        # model_copy skips the profile's own validation: this is the adapter's last line of defence
        bad = profile.model_copy(update={"device": device})
        with pytest.raises(UserError, match=rf"^profile local: device '{device}': torch .* does not know"):
            TransformersProvider(bad)


# -- first use: loading stays lazy, and its failure is a UserError too ------------------------------
def test_first_use_of_a_broken_model_is_a_user_error(tmp_path: Path, smollm2_gguf: Path) -> None:
    request = Request(messages=[Message(role="user", content="hi")], params=GenParams(max_new_tokens=2))
    for make in (truncated_copy, unknown_architecture):
        model = make(tmp_path, smollm2_gguf)
        provider = provider_for(tmp_path, model)
        assert len(provider.identity()["file_sha256"]) == 64  # identity never loads the weights
        assert_not_loaded(provider)
        with pytest.raises(UserError) as caught:
            provider.generate([request])
        (line,) = caught.value.lines
        assert line.startswith(f"profile local: model {model}: "), line
        with pytest.raises(UserError):
            list(provider.stream([request]))
    assert "GGUF model with architecture nonesuch is not supported" in line


@NO_CUDA
def test_first_use_on_a_missing_device_is_a_user_error(tmp_path: Path, smollm2_gguf: Path) -> None:
    provider = provider_for(tmp_path, smollm2_gguf, "cuda")
    with pytest.raises(UserError, match="^profile local: device cuda: CUDA is not available"):
        provider.tokenizer  # noqa: B018
    assert_not_loaded(provider)

