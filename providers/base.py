"""The Provider protocol. Adapters own batching, concurrency, retries and timeouts.

`generate` answers a batch in order. `stream` answers the same batch but hands each answer back
as soon as it is finished, as `(index into requests, response)`, each index exactly once; the
runner writes a record per answer as it arrives, so a kill loses only the answers in flight.
Closing the iterator early (the runner's circuit breaker, Ctrl-C) cancels what is still pending.
`preflight` is one cheap request made before any task runs: an endpoint that cannot be reached
(or a model that cannot be loaded) is a UserError naming the profile and the address.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Protocol, runtime_checkable

from evals.types import Request, Response


@runtime_checkable
class Provider(Protocol):
    #: how many requests the runner should hand over at once (the adapter batches inside)
    chunk_size: int

    def generate(self, requests: list[Request]) -> list[Response]:
        """Answer every request, in order. API failures are `Response.error`, never raised,
        except a FatalProviderError that makes every further request pointless (bad key)."""
        ...

    def identity(self) -> dict[str, Any]:
        """What identifies the model for the response cache (adapter, model, file hash, settings)."""
        ...

    def close(self) -> None: ...


def stream(provider: Any, requests: list[Request]) -> Generator[tuple[int, Response], None, None]:
    """`provider.stream(requests)` when the adapter has one, else its `generate` in order. A generator:
    closing it closes the adapter's stream too (which cancels what is in flight)."""
    if not requests:
        return
    own = getattr(provider, "stream", None)
    if callable(own):
        yield from own(requests)
    else:
        yield from enumerate(provider.generate(requests))


def preflight(provider: Any) -> None:
    """`provider.preflight()` when the adapter has one (raises UserError when it cannot serve)."""
    check = getattr(provider, "preflight", None)
    if callable(check):
        check()
