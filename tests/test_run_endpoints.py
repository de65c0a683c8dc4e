"""`probity run` against real local HTTP servers: a stopped server, one that fails a share of requests
permanently, one that dies mid-run, what a profile asks for reaching the wire, and secrets that must
appear in no file a run writes."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from servers.fault import FaultServer

from evals.cli import main
from evals.manifest import read_manifest
from evals.records import read_records

pytestmark = pytest.mark.server


class PatchyServer(FaultServer):
    """Fails every attempt of the markers in `broken` with HTTP 500, until it is healed."""

    def __init__(self, broken: set[str], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.broken = broken

    def decide(self, marker: str, attempt: int, text: str) -> str:
        return "500" if marker in self.broken else super().decide(marker, attempt, text)


def suite(tmp_path: Path, n: int, tokens: int | None = 16) -> Path:
    lines = ["name: tiny", "check: letter_counts"] + ([f"defaults: {{max_new_tokens: {tokens}}}"] if tokens else [])
    lines.append("items:")
    for i in range(n):
        lines += [f"  - id: t{i:03d}", f"    prompt: \"[item-t{i:03d}] How many r's are in 'rr'?\"",
                  "    expect: {kind: number, value: 2}"]
    path = tmp_path / "tiny.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def profile(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "endpoint.yaml"
    path.write_text(f"name: endpoint\nadapter: openai\nmodel: fault-model\nbase_url: {url}\nconcurrency: 4\n"
                    f"timeout_s: 2\nmax_retries: 1\nbackoff_s: 0.01\n{extra}")
    return path


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_stopped_server_is_one_line_and_exit_2_within_seconds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{closed_port()}/v1"
    monkeypatch.setenv("PROBITY_BASE_URL", url)
    out = tmp_path / "runs"
    t0 = time.perf_counter()
    status = main(["run", str(suite(tmp_path, 3)), "--provider", "llamacpp-local", "--out", str(out), "--no-cache"])
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert status == 2 and elapsed < 10, (status, elapsed, err)
    assert len(err.strip().splitlines()) == 1 and "llamacpp-local" in err and url in err
    assert not out.exists() or not any(out.iterdir())  # no run folder for a run that never started


def test_permanent_failures_exit_3_then_resume_finishes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = {"item-t002", "item-t005", "item-t007"}
    with PatchyServer(set(broken)) as server:
        out = tmp_path / "runs"
        args = ["run", str(suite(tmp_path, 10)), "--provider", str(profile(tmp_path, server.url)), "--out", str(out),
                "--no-cache"]
        assert main(args) == 3
        (run_dir,) = list(out.iterdir())
        assert "incomplete: 3 of 10 tasks errored" in capsys.readouterr().err
        assert sum(r.error is not None for r in read_records(run_dir)) == 3
        server.broken.clear()
        assert main(["run", "--resume", str(run_dir), "--no-cache"]) == 0
        records = read_records(run_dir)
        assert len(records) == 10 and not any(r.error for r in records)
        for i in range(10):  # answered once each: nothing finished was asked again
            assert server.answered[f"item-t{i:03d}"] == 1
        assert read_manifest(run_dir).resumes[0].errors_retried == 3


def test_a_dead_server_trips_the_breaker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FaultServer(fault_all="503") as server:  # reachable, but every answer fails
        out = tmp_path / "runs"
        t0 = time.perf_counter()
        status = main(["run", str(suite(tmp_path, 200)), "--provider", str(profile(tmp_path, server.url)),
                       "--out", str(out), "--no-cache", "--breaker", "8"])
        elapsed = time.perf_counter() - t0
    assert status == 3 and elapsed < 30
    (run_dir,) = list(out.iterdir())
    manifest = read_manifest(run_dir)
    assert manifest.status == "stopped" and "8 consecutive `http_503` failures" in (manifest.stopped_because or "")
    assert len(read_records(run_dir)) == 8
    assert server.requests < 200  # the remaining tasks were never sent
    assert "the run stopped early" in capsys.readouterr().err


def test_the_profile_token_limit_reaches_the_request(tmp_path: Path) -> None:
    with FaultServer() as server:
        prof = profile(tmp_path, server.url, "params: {max_new_tokens: 37}\n")
        out = tmp_path / "runs"
        assert main(["run", str(suite(tmp_path, 2, tokens=None)), "--provider", str(prof), "--out", str(out),
                     "--no-cache"]) == 0
        assert server.bodies["item-t000"]["max_tokens"] == 37
    (run_dir,) = list(out.iterdir())
    assert read_manifest(run_dir).suites[0].max_new_tokens == 37
    assert {r.request.params.max_new_tokens for r in read_records(run_dir)} == {37}


SECRET = "azure-KEY-9f8e7d6c5b4a39281706"
ROUTE = "route-token-0a1b2c3d4e5f6a7b"


def test_a_header_secret_appears_in_no_run_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("PROBITY_CACHE_DIR", str(cache))
    lines = ["name: tiny", "check: letter_counts", "items:"]
    for i, fault in enumerate(["echo-headers", "echo-error", "echo-auth", "ok"]):
        lines += [f"  - id: t{i:03d}", f"    prompt: \"[item-t{i:03d}] [faults: {fault}] count r in rr\"",
                  "    expect: {kind: number, value: 2}"]
    suite_path = tmp_path / "tiny.yaml"
    suite_path.write_text("\n".join(lines) + "\n")
    with FaultServer() as server:
        user_url = server.url.replace("http://", "http://probity:pa55-w0rd-secret@")
        prof = profile(tmp_path, user_url, f"headers: {{api-key: {SECRET}, x-route: {ROUTE}}}\n")
        out = tmp_path / "runs"
        status = main(["run", str(suite_path), "--provider", str(prof), "--out", str(out), "--report",
                       str(tmp_path / "report.md"), "--junit", str(tmp_path / "j.xml"), "--max-error-rate", "1"])
        assert status == 0
        assert server.headers["item-t003"]["api-key"] == SECRET  # the header was sent
    written = [p for p in (*out.rglob("*"), *cache.rglob("*"), tmp_path / "report.md", tmp_path / "j.xml")
               if p.is_file()]
    assert len(written) >= 5
    for path in written:
        data = path.read_bytes()
        for secret in (SECRET, ROUTE, "pa55-w0rd-secret"):
            assert secret.encode() not in data and secret.lower().encode() not in data.lower(), (path, secret)
    manifest = json.loads((out / next(out.iterdir()) / "manifest.json").read_text())
    assert set(manifest["profile"]["headers"]) == {"api-key", "x-route"}  # the names are kept
