"""Several endpoints for one model: routing, failover, accounting, preflight, cache identity, secrets.

Real local servers throughout: fault-injecting OpenAI servers (tests/servers/fault.py), and at the end
two real llama.cpp servers, one of them killed in the middle of a `probity run`. Back-offs are short
(failover_s 0.2 s and less) so the file runs in seconds, llama.cpp aside."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from servers.fault import FaultServer
from servers.llamacpp import free_port

from evals.cli import main
from evals.errors import FatalProviderError, UserError
from evals.profiles import Profile, load_profile
from evals.records import iter_lines
from evals.types import GenParams, Message, Request, Response
from providers.openai import FAILOVER_STREAK, OpenAIProvider

pytestmark = pytest.mark.server

KEY_A, KEY_B = "PROBITY_TEST_KEY_A", "PROBITY_TEST_KEY_B"
SECRET_A, SECRET_B = "sk-replica-A-Zq8SECRET0123456789", "sk-replica-B-Wm4SECRET9876543210"
HEADER_SECRET = "hv-Replica0HeaderValue4242"
PASSWORD = "pw-Replica7PasswordXYZ"


def profile(urls: list[str] | None = None, **kw: object) -> Profile:
    settings: dict[str, object] = {"name": "ep", "adapter": "openai", "model": "fault-model", "concurrency": 4,
                                   "timeout_s": 5, "max_retries": 4, "backoff_s": 0.005, "failover_s": 0.2}
    if urls is not None:
        settings["base_url"] = urls
    settings.update(kw)
    return Profile.model_validate(settings)


def ask(marker: str, extra: str = "") -> Request:
    return Request(messages=[Message(role="user", content=f"[{marker}] {extra}".strip())],
                   params=GenParams(max_new_tokens=8))


@pytest.fixture(autouse=True)
def _no_env_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROBITY_BASE_URL", raising=False)


@pytest.fixture
def pair() -> Iterator[tuple[FaultServer, FaultServer]]:
    with FaultServer(retry_after="0.01") as a, FaultServer(retry_after="0.01") as b:
        yield a, b


def answered_once(markers: list[str], *servers: FaultServer) -> bool:
    return all(sum(s.answered[m] for s in servers) == 1 for m in markers)


def answers(server: FaultServer, markers: list[str]) -> int:
    return sum(server.answered[m] for m in markers)


def by_endpoint(out: list[Response]) -> Counter[str | None]:
    return Counter(r.endpoint for r in out)


# -- routing ------------------------------------------------------------------------------------------
def test_requests_spread_over_two_endpoints(pair: tuple[FaultServer, FaultServer]) -> None:
    a, b = pair
    p = OpenAIProvider(profile([a.url, b.url]))
    markers = [f"req-s{i:02d}" for i in range(60)]
    out = p.generate([ask(m, "[delay: 0.01]") for m in markers])
    usage = p.endpoint_usage()
    p.close()
    assert [r.text for r in out] == [f"answer to {m}" for m in markers] and not any(r.error for r in out)
    seen = by_endpoint(out)
    assert set(seen) == {a.url, b.url} and min(seen.values()) >= 18  # each a fair share (≥ 30%)
    # the endpoint field names the server that answered: it agrees with each server's own count
    for server in (a, b):
        assert {m for m, r in zip(markers, out, strict=True) if r.endpoint == server.url} == {
            m for m in markers if server.answered[m] == 1}
    assert answered_once(markers, a, b)
    assert usage == {a.url: {"answered": seen[a.url], "failed": 0, "taken_out": 0},
                     b.url: {"answered": seen[b.url], "failed": 0, "taken_out": 0}}
    assert sum(u["answered"] for u in usage.values()) == 60


def test_each_endpoint_keeps_to_its_concurrency(pair: tuple[FaultServer, FaultServer]) -> None:
    """Per-endpoint concurrency: never more in flight at a server than its share, the larger share
    answers more, and the total never exceeds the sum."""
    a, b = pair
    p = OpenAIProvider(profile(endpoints=[{"base_url": a.url, "concurrency": 1}, {"base_url": b.url, "concurrency": 5}]))
    assert p.chunk_size == max(64, 6 * 16)
    out = p.generate([ask(f"req-c{i:02d}", "[delay: 0.05]") for i in range(36)])
    p.close()
    assert not any(r.error for r in out)
    assert a.peak == 1 and 1 < b.peak <= 5
    assert by_endpoint(out)[b.url] > 2 * by_endpoint(out)[a.url] > 0


def test_ties_go_round_robin(pair: tuple[FaultServer, FaultServer]) -> None:
    a, b = pair
    p = OpenAIProvider(profile([a.url, b.url]))
    served = [p.generate([ask(f"req-rr{i}")])[0].endpoint for i in range(6)]  # one at a time: 0 in flight each
    p.close()
    assert served == [a.url, b.url] * 3


# -- failover -----------------------------------------------------------------------------------------
def test_a_server_stopped_mid_stream_loses_nothing(pair: tuple[FaultServer, FaultServer]) -> None:
    """After 15 answers server A stops (its open connections are cut): the requests in flight there
    and every later one are answered by B; each marker is answered exactly once overall."""
    a, b = pair
    p = OpenAIProvider(profile([a.url, b.url], max_retries=3))
    markers = [f"req-m{i:02d}" for i in range(60)]
    out: dict[int, Response] = {}
    a_before = 0
    for i, r in p.stream([ask(m, "[delay: 0.04]") for m in markers]):
        out[i] = r
        if len(out) == 15:
            a.stop()
            a_before = sum(a.answered.values())
    usage = p.endpoint_usage()
    p.close()
    assert sorted(out) == list(range(60)) and not any(r.error for r in out.values())
    assert all(out[i].text == f"answer to {m}" for i, m in enumerate(markers))
    assert answered_once(markers, a, b)
    assert sum(a.answered.values()) == a_before > 0  # nothing from A after it stopped
    assert sum(b.answered.values()) == 60 - a_before
    assert by_endpoint(list(out.values())) == {a.url: a_before, b.url: 60 - a_before}
    # the failures count against A only, and took it out
    assert usage[a.url]["answered"] == a_before and usage[a.url]["failed"] >= 1 and usage[a.url]["taken_out"] >= 1
    assert usage[b.url] == {"answered": 60 - a_before, "failed": 0, "taken_out": 0}
    retried = [r for r in out.values() if r.retries]
    assert retried and all(r.endpoint == b.url for r in retried)  # the cut-off requests went to B


def test_a_failing_endpoint_is_taken_out_and_retries_go_elsewhere() -> None:
    """A answers every request with a 500. After FAILOVER_STREAK of them in a row it is out; every
    request that failed there is retried on B (never on A again) and answered."""
    with FaultServer(fault_all="500") as a, FaultServer() as b:
        p = OpenAIProvider(profile([a.url, b.url], failover_s=30))
        markers = [f"req-f{i:02d}" for i in range(20)]
        out = p.generate([ask(m, "[delay: 0.02]") for m in markers])
        usage = p.endpoint_usage()
        p.close()
    assert not any(r.error for r in out) and all(r.endpoint == b.url for r in out)
    for m, r in zip(markers, out, strict=True):
        assert a.attempts[m] <= 1 and b.attempts[m] == 1, m  # a retry never went back to A
        assert r.retries == a.attempts[m]
    failed_at_a = sum(a.attempts[m] for m in markers)
    assert FAILOVER_STREAK <= failed_at_a <= FAILOVER_STREAK + 4  # what was in flight when it was taken out
    assert usage == {a.url: {"answered": 0, "failed": failed_at_a, "taken_out": 1},
                     b.url: {"answered": 20, "failed": 0, "taken_out": 0}}


def test_when_every_endpoint_is_out_requests_wait_for_one_to_come_back() -> None:
    """Both servers go down, then come back on the same ports: the requests wait (each wait uses one of
    max_retries) instead of failing at once, and are all answered."""
    a, b = FaultServer().start(), FaultServer().start()
    ports = a.port, b.port
    urls = [a.url, b.url]
    a.stop()
    b.stop()
    p = OpenAIProvider(profile(urls, max_retries=8))
    restarted: list[FaultServer] = []
    timer = threading.Timer(0.3, lambda: restarted.extend(FaultServer(port=port).start() for port in ports))
    timer.start()
    markers = [f"req-w{i}" for i in range(10)]
    try:
        out = p.generate([ask(m) for m in markers])
        usage = p.endpoint_usage()
    finally:
        timer.join()
        p.close()
        for s in restarted:
            s.stop()
    assert [r.text for r in out] == [f"answer to {m}" for m in markers] and not any(r.error for r in out)
    assert answered_once(markers, *restarted)
    assert all(u["taken_out"] >= 1 and u["failed"] >= 1 for u in usage.values())
    assert sum(u["answered"] for u in usage.values()) == 10


def test_with_every_endpoint_down_a_request_fails_within_its_retry_budget() -> None:
    urls = [f"http://127.0.0.1:{free_port()}/v1", f"http://127.0.0.1:{free_port()}/v1"]
    p = OpenAIProvider(profile(urls, max_retries=3, failover_s=0.05))
    out = p.generate([ask(f"req-d{i}") for i in range(6)])
    usage = p.endpoint_usage()
    p.close()
    for r in out:
        assert r.error_kind == "connection" and r.text == "" and r.endpoint in urls, r
        assert r.error and r.error.startswith("connection failed: ")
        assert r.retries <= 3  # waits for an endpoint to come back used the rest of the budget
    assert any("(after" in (r.error or "") or "out of service" in (r.error or "") for r in out)
    assert sum(u["failed"] for u in usage.values()) == sum(r.retries + 1 for r in out)
    assert all(u["answered"] == 0 and u["taken_out"] >= 1 for u in usage.values())


def test_an_endpoint_that_answers_as_another_model_is_left_out(pair: tuple[FaultServer, FaultServer],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    a, b = pair
    p = OpenAIProvider(profile([a.url, b.url]))
    p.preflight()
    assert p.served_model == "fault-model"
    b.served_model = "fault-model-other"  # B now serves something else
    markers = [f"req-x{i:02d}" for i in range(20)]
    out = p.generate([ask(m) for m in markers])
    usage = p.endpoint_usage()
    p.close()
    assert [r.text for r in out] == [f"answer to {m}" for m in markers]
    assert all(r.endpoint == a.url and r.model == "fault-model" for r in out)
    assert usage[b.url]["answered"] == 0 and usage[b.url]["failed"] == sum(b.answered[m] for m in markers) >= 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"probity: warning: profile ep: {b.url} answers as model 'fault-model-other', not "
                   "'fault-model'; it is left out for the rest of the run"]


# -- preflight ----------------------------------------------------------------------------------------
def test_preflight_warns_about_an_unreachable_endpoint_which_comes_back(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    dead = f"http://127.0.0.1:{port}/v1"
    with FaultServer() as b:
        p = OpenAIProvider(profile([dead, b.url], concurrency=2))
        p.preflight()
        err = capsys.readouterr().err.splitlines()
        assert err == [f"probity: warning: profile ep: cannot reach {dead} (connection refused); it starts out of "
                       "service and is tried again in 0.2 s"]
        assert p.endpoint_usage()[dead] == {"answered": 0, "failed": 0, "taken_out": 1}  # the preflight is no request
        with FaultServer(port=port) as a:  # it recovers
            markers = [f"req-p{i:02d}" for i in range(60)]
            out = p.generate([ask(m, "[delay: 0.05]") for m in markers])
            usage = p.endpoint_usage()
        p.close()
    assert not any(r.error for r in out) and answered_once(markers, a, b)
    assert usage[dead]["answered"] == sum(a.answered.values()) >= 1  # back in service after its back-off
    assert usage[dead]["taken_out"] == 1


def test_preflight_with_no_endpoint_reachable_is_one_line() -> None:
    urls = [f"http://127.0.0.1:{free_port()}/v1", f"http://127.0.0.1:{free_port()}/v1"]
    p = OpenAIProvider(profile(urls))
    with pytest.raises(UserError) as info:
        p.preflight()
    p.close()
    assert not isinstance(info.value, FatalProviderError)
    assert info.value.lines == [f"profile ep: none of its 2 endpoints can be reached: cannot reach {urls[0]} "
                                f"(connection refused); cannot reach {urls[1]} (connection refused); start the "
                                "server or fix the profile's endpoints"]


def test_preflight_refuses_replicas_of_different_models() -> None:
    with FaultServer(served_model="fault-model-2024-07-18") as a, FaultServer(served_model="fault-model-2025") as b:
        p = OpenAIProvider(profile([a.url, b.url]))
        with pytest.raises(UserError) as info:
            p.preflight()
        p.close()
    assert info.value.lines == [f"profile ep: the endpoints report different models ({a.url} serves "
                                f"'fault-model-2024-07-18', {b.url} serves 'fault-model-2025'); an endpoints list "
                                "is for replicas of one model"]


def test_preflight_of_a_replica_without_the_model_is_a_user_error() -> None:
    with FaultServer() as a, FaultServer(models={"another-model"}) as b:
        p = OpenAIProvider(profile([a.url, b.url]))
        with pytest.raises(UserError) as info:
            p.preflight()
        p.close()
    (line,) = info.value.lines
    assert line.startswith(f"profile ep: {b.url} does not serve model 'fault-model' (HTTP 404: ")


# -- profile settings ---------------------------------------------------------------------------------
HEAD = "name: ep\nadapter: openai\nmodel: m\n"


@pytest.mark.parametrize(("body", "problem"), [
    ("base_url: http://127.0.0.1:1/v1\nendpoints:\n  - base_url: http://127.0.0.1:2/v1\n",
     ":5: endpoints: give base_url or endpoints, not both"),
    ("base_url: [http://127.0.0.1:1/v1]\nendpoints: [{base_url: 'http://127.0.0.1:2/v1'}]\n",
     ":5: endpoints: give base_url or endpoints, not both"),
    ("endpoints: []\n", ":4: endpoints: an empty list: list at least one endpoint (or give base_url)"),
    ("base_url: []\n", ":4: base_url: an empty list: give a URL or a list of URLs"),
    ("base_url:\n  - http://127.0.0.1:1/v1\n  - 'ftp://host/v1'\n",
     ":4: base_url: entry 2 ('ftp://host/v1'): must start with http:// or https://"),
    ("base_url: [http://127.0.0.1:1/v1, 'http://u:pw@127.0.0.1:99999/v1']\n",
     ":4: base_url: entry 2 ('http://[redacted]@127.0.0.1:99999/v1'): port 99999 out of range (1-65535)"),
    ("endpoints:\n  - base_url: http://127.0.0.1:1/v1\n  - base_url: 'http://[::1/v1'\n",
     ":6: endpoints[1].base_url: malformed IPv6 address (no closing ])"),
    ("endpoints:\n  - base_url: http://127.0.0.1:1/v1\n    weight: 2\n", ":6: endpoints[0].weight: unknown field"),
    ("endpoints:\n  - base_url: http://127.0.0.1:1/v1\n    concurrency: 0\n",
     ":6: endpoints[0].concurrency: Input should be greater than 0"),
    ("base_url: [http://127.0.0.1:1/v1, http://127.0.0.1:1/v1/]\n",
     ":4: base_url: entry 2 repeats entry 1 ('http://127.0.0.1:1/v1/')"),
    ("base_url: ['http://a:x@127.0.0.1:1/v1', 'http://b:y@127.0.0.1:1/v1']\n",
     ":4: base_url: entry 2 repeats entry 1 ('http://[redacted]@127.0.0.1:1/v1')"),
    ("base_url: {url: http://127.0.0.1:1/v1}\n", ":4: base_url: must be a URL or a list of URLs"),
    ("base_url: [http://127.0.0.1:1/v1, http://127.0.0.1:2/v1]\nfailover_s: 0\n",
     ":5: failover_s: Input should be greater than 0"),
])
def test_endpoint_settings_are_checked_with_file_and_line(body: str, problem: str, tmp_path: Path) -> None:
    path = tmp_path / "ep.yaml"
    path.write_text(HEAD + body)
    with pytest.raises(UserError) as info:
        load_profile(str(path))
    (line,) = info.value.lines
    assert line.startswith(f"{path}{problem}"), line


def test_a_bad_endpoints_profile_stops_probity_run_with_one_line(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ep.yaml"
    path.write_text(HEAD + "base_url: http://127.0.0.1:1/v1\nendpoints: [{base_url: 'http://127.0.0.1:2/v1'}]\n")
    assert main(["run", "letter_counts", "--provider", str(path), "--out", str(tmp_path / "runs"), "--limit", "1",
                 "--no-cache"]) == 2
    assert capsys.readouterr().err.splitlines() == [f"{path}:5: endpoints: give base_url or endpoints, not both"]


def test_the_forms_of_an_endpoint_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ep.yaml"
    path.write_text(HEAD + "concurrency: 3\nheaders: {X-Team: t1}\nbase_url:\n  - http://127.0.0.1:1/v1\n"
                    "  - http://127.0.0.1:2/v1/\n")
    short = load_profile(str(path))
    assert short.base_url is None and [e.base_url for e in short.endpoints or []] == [
        "http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1/"]
    p = OpenAIProvider(short)
    assert p.multi and [(e.url, e.concurrency, e.headers) for e in p._endpoints] == [
        ("http://127.0.0.1:1/v1", 3, {"X-Team": "t1"}), ("http://127.0.0.1:2/v1", 3, {"X-Team": "t1"})]
    p.close()
    path.write_text(HEAD + "concurrency: 3\nheaders: {X-Team: t1}\nendpoints:\n  - base_url: http://127.0.0.1:1/v1\n"
                    "    concurrency: 7\n    headers: {X-Team: t2, X-Zone: z}\n  - {base_url: 'http://127.0.0.1:2/v1'}\n")
    p = OpenAIProvider(load_profile(str(path)))
    assert [(e.concurrency, e.headers) for e in p._endpoints] == [(7, {"X-Team": "t2", "X-Zone": "z"}),
                                                                  (3, {"X-Team": "t1"})]
    assert p.chunk_size == max(64, 10 * 16)
    p.close()
    # a one-URL list is that URL; one endpoint is the single-endpoint adapter (identity with its base_url)
    one = Profile(name="ep", adapter="openai", model="m", base_url=["http://127.0.0.1:1/v1"])
    assert one.base_url == "http://127.0.0.1:1/v1" and one.endpoints is None
    single = OpenAIProvider(Profile(name="ep", adapter="openai", model="m",
                                    endpoints=[{"base_url": "http://127.0.0.1:1/v1"}]))
    assert not single.multi and single.identity()["base_url"] == "http://127.0.0.1:1/v1"
    single.close()
    # a profile without endpoints dumps as before they existed (its digest, and so its resumes, unchanged)
    plain = Profile(name="ep", adapter="openai", model="m", base_url="http://127.0.0.1:1/v1")
    assert "endpoints" not in plain.model_dump() and "failover_s" not in json.loads(plain.model_dump_json())
    assert "endpoints" in short.model_dump() and Profile.model_validate(short.model_dump()) == short


def test_probity_base_url_with_several_endpoints(pair: tuple[FaultServer, FaultServer],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = pair
    dead = [f"http://127.0.0.1:{free_port()}/v1", f"http://127.0.0.1:{free_port()}/v1"]
    # a comma-separated list replaces the profile's addresses (a single base_url or a list)
    monkeypatch.setenv("PROBITY_BASE_URL", f"{a.url}, {b.url}/")
    for prof in (profile(dead), profile(base_url=dead[0])):
        p = OpenAIProvider(prof)
        out = p.generate([ask(f"req-e{i}") for i in range(4)])
        assert p.multi and "base_url" not in p.identity() and set(by_endpoint(out)) == {a.url, b.url}
        p.close()
    # one URL makes any profile a single-endpoint one
    monkeypatch.setenv("PROBITY_BASE_URL", a.url)
    p = OpenAIProvider(profile(dead))
    assert not p.multi and p.identity()["base_url"] == a.url
    assert p.generate([ask("req-e9")])[0].endpoint == a.url
    p.close()
    monkeypatch.setenv("PROBITY_BASE_URL", f"{a.url},ftp://x/v1")
    with pytest.raises(UserError) as info:
        OpenAIProvider(profile(dead))
    assert info.value.lines == ["profile ep: $PROBITY_BASE_URL entry 2 'ftp://x/v1': must start with http:// or https://"]


# -- cache identity -----------------------------------------------------------------------------------
def test_identity_has_no_url_with_several_endpoints_so_replicas_share_the_cache(tmp_path: Path) -> None:
    from evals.cache import CachedProvider, ResponseCache

    cache = ResponseCache(tmp_path / "cache")
    headers = {"X-Route": "blue", "X-Api-Key": "key-0123456789"}
    with FaultServer() as a, FaultServer() as b, FaultServer() as c:
        single = OpenAIProvider(profile(base_url=a.url, headers=headers))
        first = OpenAIProvider(profile([a.url, b.url], headers=headers))
        other = OpenAIProvider(profile(endpoints=[{"base_url": c.url, "headers": {"X-Replica": "c"}},
                                                  {"base_url": b.url, "concurrency": 9}], headers=headers))
        for p in (single, first, other):
            p.preflight()
        base = single.identity()
        assert set(base) == {"adapter", "base_url", "model", "tool_protocol", "headers", "served_model"}
        assert base["base_url"] == a.url and base["headers"]["X-Api-Key"] == "[redacted]"
        # with several endpoints: everything but the URL (model, snapshot, settings, header digests)
        assert first.identity() == other.identity() == {k: v for k, v in base.items() if k != "base_url"}
        markers = [f"req-k{i}" for i in range(6)]
        questions = [ask(m) for m in markers]
        cold = CachedProvider(first, cache).generate(questions)
        assert not any(r.cached for r in cold) and answers(a, markers) + answers(b, markers) == 6
        asked = answers(b, markers)
        warm = CachedProvider(other, cache).generate(questions)
        # served from the shared cache: neither of the other profile's replicas was asked
        assert all(r.cached for r in warm) and answers(c, markers) == 0 and answers(b, markers) == asked
        assert [r.text for r in warm] == [r.text for r in cold]
        assert [r.endpoint for r in warm] == [r.endpoint for r in cold]  # each still says who answered it
        for p in (single, first, other):
            p.close()
    cache.close()


# -- secrets --------------------------------------------------------------------------------------------
def test_per_endpoint_keys_and_headers_are_used_and_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A's and B's own keys, A's own header and C's URL password reach their server only, and none of
    them can reach a response (the servers echo them), the usage or identity()."""
    import base64

    monkeypatch.setenv(KEY_A, SECRET_A)
    monkeypatch.setenv(KEY_B, SECRET_B)
    with FaultServer(api_key=SECRET_A) as a, FaultServer(api_key=SECRET_B) as b, FaultServer() as c:
        url_c = c.url.replace("http://", f"http://probity:{PASSWORD}@")
        p = OpenAIProvider(profile(endpoints=[
            {"base_url": a.url, "api_key_env": KEY_A, "headers": {"X-Replica-Secret": HEADER_SECRET}},
            {"base_url": b.url, "api_key_env": KEY_B}, {"base_url": url_c}], concurrency=1))
        faults = ["echo-auth", "echo-headers", "echo-error"] * 4
        out = p.generate([ask(f"req-z{i:02d}", f"[faults: {fault}]") for i, fault in enumerate(faults)])
        identity, usage = p.identity(), p.endpoint_usage()
        p.close()
        sent = {s.url: next(iter(s.headers.values())) for s in (a, b, c)}
    token = base64.b64encode(f"probity:{PASSWORD}".encode()).decode()
    assert sent[a.url]["authorization"] == f"Bearer {SECRET_A}" and sent[a.url]["x-replica-secret"] == HEADER_SECRET
    assert sent[b.url]["authorization"] == f"Bearer {SECRET_B}" and "x-replica-secret" not in sent[b.url]
    assert sent[c.url]["authorization"] == f"Basic {token}"
    shown_c = c.url.replace("http://", "http://[redacted]@")
    assert {r.endpoint for r in out} == {a.url, b.url, shown_c} and set(usage) == {a.url, b.url, shown_c}
    assert all("[redacted]" in (r.text or r.error or "") for r in out)  # each echoed a secret, scrubbed
    dumped = json.dumps([r.model_dump() for r in out]) + json.dumps(identity) + json.dumps(usage)
    for secret in (SECRET_A, SECRET_B, HEADER_SECRET, PASSWORD, token):
        assert secret.lower() not in dumped.lower()
    assert "headers" not in identity  # an endpoint's own headers route to a replica: not the model's identity


def test_per_endpoint_key_problems_name_the_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_A, SECRET_A)
    monkeypatch.delenv(KEY_B, raising=False)
    entries = [{"base_url": "http://127.0.0.1:1/v1", "api_key_env": KEY_A},
               {"base_url": "http://127.0.0.1:2/v1", "api_key_env": KEY_B}]
    with pytest.raises(UserError) as info:
        OpenAIProvider(profile(endpoints=entries))
    assert info.value.lines == [f"{KEY_B} is not set: profile ep reads the API key of endpoint "
                                "http://127.0.0.1:2/v1 from it"]
    monkeypatch.setenv(KEY_B, "sk-a-wrong-key-for-B-000000")
    with FaultServer(api_key=SECRET_A) as a, FaultServer(api_key=SECRET_B) as b:
        p = OpenAIProvider(profile(endpoints=[{"base_url": a.url, "api_key_env": KEY_A},
                                              {"base_url": b.url, "api_key_env": KEY_B}]))
        with pytest.raises(FatalProviderError) as fatal:
            p.generate([ask(f"req-q{i}") for i in range(8)])
        p.close()
    assert str(fatal.value) == f"{KEY_B} is not accepted by {b.url} (HTTP 401)"


# -- through probity run ----------------------------------------------------------------------------
def _endpoint_run(tmp_path: Path, entries: str, faults: list[str]) -> Path:
    lines = ["name: tiny", "check: letter_counts", "items:"]
    for i, fault in enumerate(faults):
        lines += [f"  - id: t{i:03d}", f"    prompt: \"[item-t{i:03d}] [faults: {fault}] count r in rr\"",
                  "    expect: {kind: number, value: 2}"]
    suite = tmp_path / "tiny.yaml"
    suite.write_text("\n".join(lines) + "\n")
    prof = tmp_path / "replicas.yaml"
    prof.write_text("name: replicas\nadapter: openai\nmodel: fault-model\nconcurrency: 2\nmax_retries: 3\n"
                    "backoff_s: 0.005\nfailover_s: 0.2\nendpoints:\n" + entries)
    out = tmp_path / "runs"
    assert main(["run", str(suite), "--provider", str(prof), "--out", str(out), "--max-error-rate", "1"]) == 0
    (run_dir,) = [d for d in out.iterdir() if d.is_dir()]
    return run_dir


def test_no_endpoint_secret_in_the_run_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """An endpoint's header values and URL password reach no file of the run (manifest included: the
    profile stored there has them redacted) nor the cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("PROBITY_CACHE_DIR", str(cache))
    with FaultServer() as a, FaultServer() as b:
        url_b = b.url.replace("http://", f"http://probity:{PASSWORD}@")
        run_dir = _endpoint_run(tmp_path, f"  - base_url: {a.url}\n    headers: {{X-Replica-Secret: {HEADER_SECRET}}}\n"
                                          f"  - base_url: '{url_b}'\n",
                                ["echo-headers", "echo-error", "echo-auth", "ok"] * 2)
        assert any(h.get("x-replica-secret") == HEADER_SECRET for h in a.headers.values())  # it was sent
    capsys.readouterr()
    written = [p for p in (*run_dir.rglob("*"), *cache.rglob("*")) if p.is_file()]
    assert len(written) >= 3
    for path in written:
        data = path.read_bytes().lower()
        for secret in (HEADER_SECRET, PASSWORD):
            assert secret.lower().encode() not in data, (path, secret)
    stored = json.loads((run_dir / "manifest.json").read_text())["profile"]["endpoints"]
    assert stored[0]["headers"] == {"X-Replica-Secret": "[redacted]"}
    assert stored[1]["base_url"] == b.url.replace("http://", "http://[redacted]@")


def test_the_manifest_counts_answers_per_endpoint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FaultServer() as a, FaultServer() as b:
        run_dir = _endpoint_run(tmp_path, f"  - base_url: {a.url}\n  - base_url: {b.url}\n",
                                ["ok"] * 10 + ["500"] * 2)
    capsys.readouterr()
    records = list(iter_lines(run_dir / "records.jsonl"))
    served = Counter(r["response"]["endpoint"] for r in records)
    assert set(served) == {a.url, b.url} and not any(r["error"] for r in records)
    markers = [f"item-t{i:03d}" for i in range(12)]
    # each server's own count of the attempts it failed (a 500 on each one's first attempt at a marker)
    failed = {s.url: sum(s.attempts[m] - s.answered[m] for m in markers) for s in (a, b)}
    assert sum(failed.values()) == sum(r["response"]["retries"] for r in records) >= 2
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["endpoints"] == {url: {"answered": served[url], "failed": failed[url], "taken_out": 0}
                                     for url in (a.url, b.url)}


# -- two real llama.cpp servers -----------------------------------------------------------------------
def _wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_two_llamacpp_servers_one_killed_mid_run(smollm2_gguf: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """`probity run` over two real llama.cpp servers listed in one profile: the tasks go to both; one
    server is killed (SIGKILL) after it has answered twice, and the run still ends with exit 0 and one
    record per task, none of them an error."""
    pytest.importorskip("llama_cpp.server", reason="the test extra installs llama-cpp-python[server]")
    from servers.llamacpp import MODEL_ALIAS, LlamaCppServer

    servers = [LlamaCppServer(smollm2_gguf, "chatml", threads=1, log=tmp_path / f"server{i}.log") for i in (1, 2)]
    try:
        for s in servers:
            s.launch()
        for s in servers:  # both load at once
            s.wait()
        doomed, survivor = servers
        lines = ["name: replicas", "version: 1", "check: letter_counts", "defaults: {max_new_tokens: 12}", "items:"]
        for i in range(12):
            lines += [f"  - id: r{i:02d}", "    lang: en", f"    prompt: \"How many r's are in '{'r' * (i % 4 + 1)}'? "
                      f"(question {i})\"", f"    expect: {{kind: number, value: {i % 4 + 1}}}"]
        suite = tmp_path / "replicas.yaml"
        suite.write_text("\n".join(lines) + "\n")
        prof = tmp_path / "two-llamas.yaml"
        prof.write_text(f"name: two-llamas\nadapter: openai\nmodel: {MODEL_ALIAS}\n"
                        f"base_url: [{doomed.url}, {survivor.url}]\nconcurrency: 2\ntimeout_s: 60\n"
                        "max_retries: 3\nbackoff_s: 0.05\nfailover_s: 0.5\n")
        out = tmp_path / "runs"

        def doomed_answers() -> int:
            found = [p / "records.jsonl" for p in out.glob("*") if (p / "records.jsonl").is_file()]
            return sum(1 for f in found for r in iter_lines(f) if r["response"]["endpoint"] == doomed.url)

        killed_after: list[int] = []

        def killer() -> None:
            if _wait_for(lambda: doomed_answers() >= 2, 120):
                doomed.stop(kill=True)
                killed_after.append(sum(1 for _ in iter_lines(next(out.glob("*/records.jsonl")))))

        watcher = threading.Thread(target=killer, daemon=True)
        watcher.start()
        code = main(["run", str(suite), "--provider", str(prof), "--out", str(out), "--no-cache"])
        watcher.join(5)
        capsys.readouterr()
    finally:
        for s in servers:
            s.stop()
    assert code == 0
    assert killed_after and killed_after[0] < 12  # the server was killed while tasks were still running
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    records = list(iter_lines(run_dir / "records.jsonl"))
    assert sorted(r["item_id"] for r in records) == [f"r{i:02d}" for i in range(12)]
    assert all(r["error"] is None and r["score"]["outcome"] for r in records)
    served = Counter(r["response"]["endpoint"] for r in records)
    assert set(served) == {doomed.url, survivor.url} and served[survivor.url] >= 12 - killed_after[0]
    assert served[doomed.url] >= 2
    # what was in flight at the killed server was asked again, of the other one
    retried = [r for r in records if r["response"]["retries"]]
    assert retried and all(r["response"]["endpoint"] == survivor.url for r in retried)
