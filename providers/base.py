"""The Provider protocol: one batched method. Adapters own batching, concurrency, retries, timeouts."""

from __future__ import annotations

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
