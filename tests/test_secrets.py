"""evals/secrets.py: what a manifest may show of a profile, its digest, and scrubbing echoed secrets."""

from __future__ import annotations

import base64
import json
import time

import pytest

from evals.profiles import Profile
from evals.secrets import (
    REDACTED,
    is_credential_header,
    profile_digest,
    profile_secrets,
    redact_profile,
    redact_url,
    scrub,
    url_secrets,
)

KEY = "sk-proj-Zq8SECRETvalue0123456789"
ZW = "\u200b"


def hosted(**kw: object) -> Profile:
    settings: dict[str, object] = {
        "name": "hosted", "adapter": "openai", "model": "m", "base_url": "https://alice:s3cr%40tpass@llm.example/v1",
        "api_key_env": "LLM_KEY", "headers": {"X-Api-Key": "hk-0123456789abcdef", "OpenAI-Organization": "org-42xyzxyz"}}
    settings.update(kw)
    return Profile.model_validate(settings)


def test_redact_profile_keeps_names_and_hides_values() -> None:
    p = hosted()
    data = redact_profile(p)
    assert data["headers"] == {"X-Api-Key": REDACTED, "OpenAI-Organization": REDACTED}
    assert data["base_url"] == "https://[redacted]@llm.example/v1"
    assert data["api_key_env"] == "LLM_KEY" and data["model"] == "m" and data["params"]["max_new_tokens"] == 256
    dumped = json.dumps(data)
    for secret in ("hk-0123456789abcdef", "org-42xyzxyz", "alice", "s3cr%40tpass", "s3cr@tpass"):
        assert secret not in dumped
    assert p.headers["X-Api-Key"] == "hk-0123456789abcdef"  # the profile itself is untouched
    assert redact_profile(Profile.model_validate(data)) == data  # still a valid profile (a manifest stores one)
    # a profile without secrets is its plain dump
    plain = Profile(name="local", adapter="openai", model="m", base_url="http://127.0.0.1:8080/v1")
    assert redact_profile(plain) == plain.model_dump(mode="json")


@pytest.mark.parametrize(("url", "redacted"), [
    ("https://user:pass@host/v1", "https://[redacted]@host/v1"),
    ("https://token@host:8443/v1?x=1", "https://[redacted]@host:8443/v1?x=1"),
    ("http://a:b@c@[::1]:80/v1", "http://[redacted]@[::1]:80/v1"),  # the last @ ends the userinfo
    ("https://host/v1/users/x@y", "https://host/v1/users/x@y"),  # an @ in the path is no userinfo
    ("http://[::1/v1", "http://[::1/v1"),  # malformed: left alone, no exception
    ("not a url", "not a url"),
])
def test_redact_url(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


def test_url_secrets_cover_what_an_http_client_derives() -> None:
    found = url_secrets("https://alice:s3cr%40tpass@llm.example/v1")
    basic = base64.b64encode(b"alice:s3cr@tpass").decode()
    assert set(found) >= {"alice:s3cr%40tpass", "alice:s3cr@tpass", "s3cr%40tpass", "s3cr@tpass", basic}
    assert url_secrets("https://llm.example/v1") == [] and url_secrets(None) == []


def test_profile_digest_changes_with_any_setting_and_hides_values() -> None:
    p = hosted()
    digest = profile_digest(p)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert profile_digest(hosted()) == digest  # deterministic
    assert profile_digest(Profile.model_validate(json.loads(p.model_dump_json()))) == digest  # survives a round trip
    changed = [hosted(headers={"X-Api-Key": "hk-0123456789abcdeF", "OpenAI-Organization": "org-42xyzxyz"}),
               hosted(base_url="https://alice:other-pass@llm.example/v1"), hosted(timeout_s=61),
               hosted(params={"temperature": 0.5}), hosted(token_limit_param="max_completion_tokens")]
    digests = {profile_digest(c) for c in changed}
    assert len(digests) == len(changed) and digest not in digests
    # header order is no change: keys are sorted
    swapped = hosted(headers={"OpenAI-Organization": "org-42xyzxyz", "X-Api-Key": "hk-0123456789abcdef"})
    assert profile_digest(swapped) == digest


def test_profile_secrets() -> None:
    found = profile_secrets(hosted(), KEY)
    assert KEY in found and "hk-0123456789abcdef" in found and "org-42xyzxyz" in found and "s3cr@tpass" in found
    assert profile_secrets(Profile(name="x", adapter="openai", model="m", base_url="http://h/v1"), None) == []


@pytest.mark.parametrize("name", ["Authorization", "x-api-key", "api-key", "X-Auth-Token", "Helicone-Auth",
                                  "X-Portkey-Virtual-Key", "client_secret", "Cookie", "Proxy-Authorization"])
def test_credential_headers(name: str) -> None:
    assert is_credential_header(name)


@pytest.mark.parametrize("name", ["OpenAI-Organization", "OpenAI-Project", "X-Model", "HTTP-Referer", "X-Title"])
def test_configuration_headers(name: str) -> None:
    assert not is_credential_header(name)


def spaced(text: str, sep: str, every: int = 1) -> str:
    return sep.join(text[i:i + every] for i in range(0, len(text), every))


ECHOES = [  # how a server or a model may hand a secret back
    KEY,
    KEY.upper(),
    KEY.lower(),
    f"Bearer {KEY}",
    spaced(KEY, " "),
    spaced(KEY, "\n", 4),
    spaced(KEY, "\r\n  ", 7),  # split across indented lines
    spaced(KEY, ZW),
    spaced(KEY, "\ufeff", 2),
    spaced(KEY, "-", 3),
    spaced(KEY, ".", 5),
    spaced(KEY, " - ", 6),
    spaced(KEY.upper(), "\u2060\t", 2),
]


@pytest.mark.parametrize("echo", ECHOES)
def test_scrub_removes_every_form_of_the_secret(echo: str) -> None:
    text = f"Here you go: {echo} -- and the answer is 42."
    out = scrub(text, [KEY])
    assert out.startswith("Here you go: ") and out.endswith(" -- and the answer is 42.")
    assert REDACTED in out
    # what is left holds no recognisable part of the key: nothing of its distinctive middle survives
    squeezed = "".join(c for c in out if c.isalnum()).lower()
    assert "secretvalue" not in squeezed and "zq8" not in squeezed


def test_scrub_several_secrets_and_overlaps() -> None:
    secrets = [KEY, "hk-0123456789abcdef", "alice:s3cr@tpass", "s3cr@tpass"]
    text = f"key={KEY} header=HK-0123456789ABCDEF basic=alice:s3cr@tpass password=s3cr@tpass"
    out = scrub(text, secrets)
    assert out == "key=[redacted] header=[redacted] basic=[redacted] password=[redacted]"


def test_scrub_leaves_ordinary_text_alone() -> None:
    text = "The capital of France is Paris. sk-proj is a prefix; 0123456789 are digits.\n- a list\n"
    assert scrub(text, [KEY, "hk-0123456789abcdef"]) == text
    assert scrub("", [KEY]) == "" and scrub(text, []) == text
    # secrets shorter than 8 characters are not scrubbed: they are no secrets and would mangle answers
    assert scrub("yes, the answer is yes", ["yes", "short", "       "]) == "yes, the answer is yes"


def test_scrub_is_fast_on_a_long_answer() -> None:
    secrets = [KEY, "hk-0123456789abcdef", "alice:s3cr@tpass"]
    text = "Plain words, sk- and hk- prefixes, digits 0123 and dots... " * 20_000  # about 1.2 MB
    scrub("warm up the compiled pattern", secrets)
    t0 = time.perf_counter()
    out = scrub(text + KEY, secrets)
    elapsed = time.perf_counter() - t0
    assert out.endswith(REDACTED) and len(out) == len(text) + len(REDACTED)
    assert elapsed < 2.0  # about 0.1 s: one pass of one compiled pattern
