"""Keeping secrets out of what probity writes: manifests, records, the response cache, error lines.

A profile's secrets are the API key (read from the variable `api_key_env` names), every header
value, and any user:password in `base_url`. `redact_profile` is the profile as it may be written
down; `profile_digest` fingerprints the full profile (a resume can tell it changed) without storing
it; `scrub` takes secrets out of a text, also when a server echoes them upper-cased, spaced out,
split over lines or with zero-width characters between their letters.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from evals.profiles import Profile

REDACTED = "[redacted]"
#: shorter strings are not scrubbed: they are no secrets, and removing them would mangle answers
MIN_SECRET_LEN = 8
#: what may sit between two characters of an echoed secret: whitespace (newlines too), zero-width
#: characters, a soft hyphen, and the `-`/`.` a server or a model may use to break a long token up
_SEPARATORS = r"[\s\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff.\-]*"
#: header names whose values are credentials (never shown, not even in identity())
_CREDENTIAL = re.compile(r"auth|key|token|secret|passw|cookie|session|signature|credential", re.I)


def is_credential_header(name: str) -> bool:
    return bool(_CREDENTIAL.search(name))


def _split_url(url: str) -> tuple[str, str, str, str] | None:
    """(scheme://, userinfo, host[:port], rest) of a URL with userinfo, else None. String work
    only: a malformed URL must be redacted too, never raise."""
    scheme, sep, after = url.partition("://")
    if not sep:
        return None
    end = len(after)
    for ch in "/?#":
        at = after.find(ch)
        if at != -1:
            end = min(end, at)
    netloc, rest = after[:end], after[end:]
    userinfo, at, host = netloc.rpartition("@")
    if not at:
        return None
    return scheme + sep, userinfo, host, rest


def redact_url(url: str) -> str:
    """`https://user:pass@host/v1` → `https://[redacted]@host/v1`; any other URL unchanged."""
    parts = _split_url(url)
    if parts is None:
        return url
    scheme, _, host, rest = parts
    return f"{scheme}{REDACTED}@{host}{rest}"


def url_secrets(url: str | None) -> list[str]:
    """The credential forms of a base URL's userinfo: as written, percent-decoded, the password
    alone, and the Basic-auth token an HTTP client derives from it."""
    parts = _split_url(url or "")
    if parts is None:
        return []
    userinfo = parts[1]
    user, _, password = userinfo.partition(":")
    decoded = f"{unquote(user)}:{unquote(password)}" if password else unquote(user)
    out = [userinfo, decoded, password, unquote(password), unquote(user) if not password else ""]
    out.append(base64.b64encode(decoded.encode()).decode() if password else "")
    return [s for s in dict.fromkeys(out) if s]


def profile_secrets(profile: Profile, api_key: str | None = None) -> list[str]:
    """Everything in `profile` (and its API key) that must never be written down: also the headers and
    URL credentials of each of its `endpoints`."""
    found = [api_key or "", *profile.headers.values(), *url_secrets(profile.base_url)]
    for endpoint in profile.endpoints or []:
        found += [*(endpoint.headers or {}).values(), *url_secrets(endpoint.base_url)]
    return [s for s in dict.fromkeys(found) if s]


def redact_profile(profile: Profile) -> dict[str, Any]:
    """The profile as JSON data, safe to write to a manifest: header values and base_url
    credentials are replaced by "[redacted]" (header names are kept)."""
    data = profile.model_dump(mode="json")
    data["headers"] = {name: REDACTED for name in data.get("headers") or {}}
    if data.get("base_url"):
        data["base_url"] = redact_url(data["base_url"])
    for entry in data.get("endpoints") or []:
        entry["base_url"] = redact_url(entry["base_url"])
        if entry.get("headers"):
            entry["headers"] = {name: REDACTED for name in entry["headers"]}
    return data


def profile_digest(profile: Profile) -> str:
    """sha256 (hex) of the full, unredacted profile as canonical JSON: changes with any setting,
    a header value or a base_url password included, and reveals none of them."""
    blob = json.dumps(profile.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _secret_pattern(secret: str) -> str:
    # whitespace inside the secret itself is optional too (a header value "Bearer abc..." echoed as "Bearerabc")
    chars = [c for c in secret if not c.isspace()]
    return _SEPARATORS.join(re.escape(c) for c in chars)


@lru_cache(maxsize=256)
def _compiled(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    usable = sorted({s for s in secrets if len(s.strip()) >= MIN_SECRET_LEN}, key=len, reverse=True)
    if not usable:
        return None
    return re.compile("|".join(f"(?:{_secret_pattern(s)})" for s in usable), re.IGNORECASE)


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every occurrence of each secret (8 characters or more) replaced by "[redacted]":
    in any letter case, and with whitespace, newlines, zero-width characters, `-` or `.` between
    its characters. One compiled pattern per set of secrets (cached); one pass over the text."""
    if not text or not secrets:
        return text
    pattern = _compiled(tuple(secrets))
    return pattern.sub(REDACTED, text) if pattern is not None else text
