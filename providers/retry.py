"""Retry policy for HTTP model endpoints: which failures are worth another attempt, and how long to wait.

| failure                                   | kind             | retried | after the last attempt         |
|-------------------------------------------|------------------|---------|--------------------------------|
| 429, 408, 409                             | `http_<code>`    | yes     | error response                 |
| 5xx                                       | `http_<code>`    | yes     | error response                 |
| timeout (no complete answer in timeout_s) | `timeout`        | yes     | error response                 |
| refused / reset / dropped connection      | `connection`     | yes     | error response                 |
| 200 with a body that is not JSON          | `malformed`      | yes     | error response                 |
| 200 with a body that is not a completion  | `malformed`      | yes     | error response                 |
| 200 with no `choices`                     | `empty_choices`  | yes     | error response                 |
| 200 with `error` and no `choices`         | `error_body`     | yes     | error response                 |
| 200 too big, no text before the limit     | `too_large`      | no      | error response at once         |
| a replica answers as another model        | `wrong_model`    | yes     | elsewhere; replica dropped     |
| 401, 403                                  | `http_401/403`   | no      | FatalProviderError (run stops) |
| any other 4xx (400, 404, 422, ...)        | `http_<code>`    | no      | error response at once         |

A malformed body and an empty `choices` are retried: both come from truncated or overloaded
transports far more often than from the request itself, and the number of attempts is bounded.
A 200 body over `max_response_bytes` whose answer text starts before the limit is no failure: the
text up to the limit is the answer, flagged `truncated` (finish_reason "length").

The preflight (`OpenAIProvider.preflight`, one request before a run) does not use this schedule: a
connection that cannot be made (refused, DNS, TLS) is retried once after 0.5 s if refused, and then,
like a timeout, a 404 or a 400 naming an unsupported parameter, is a UserError; a 429 or 5xx passes.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping

RETRYABLE_STATUS = frozenset({408, 409, 429})
FATAL_STATUS = frozenset({401, 403})
#: a server asking for a longer pause than this is waited on for this long only
MAX_RETRY_AFTER_S = 120.0
#: the exponential backoff never waits longer than this
MAX_BACKOFF_S = 30.0


def retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUS or status >= 500


def fatal_status(status: int) -> bool:
    return status in FATAL_STATUS


def retry_after_s(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms`, `retry-after` as seconds (floats are
    accepted) or as an HTTP date. None when absent or unreadable; never negative."""
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            if name == "retry-after-ms":
                continue
            parsed = email.utils.parsedate_tz(value)
            if parsed is None:
                return None
            seconds = email.utils.mktime_tz(parsed) - (time.time() if now is None else now)
        if seconds != seconds:  # NaN
            return None
        return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)
    return None


class Backoff:
    """Exponential backoff with full jitter: retry n (0-based) waits U(0, min(base × 2ⁿ, MAX_BACKOFF_S)),
    and never less than what the server asked for with Retry-After."""

    def __init__(self, base_s: float, rng: random.Random | None = None) -> None:
        self.base_s = base_s
        self.rng = rng or random.Random()

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        cap = min(self.base_s * (2 ** attempt), MAX_BACKOFF_S)
        return max(self.rng.uniform(0.0, cap), retry_after or 0.0)
