"""Errors a user can cause: the CLI prints them as one line and exits 2."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: the exit statuses of every probity command (README "Exit codes"; shown by --help)
EXIT_CODES = """exit status:
  0  ok: the command did what it was asked; every gate passed
  1  a gate failed (probity run/check --gate)
  2  a user error: a bad file, setting or option, an unreachable endpoint, a damaged run folder,
     a resume that would mix configurations (one line says what and where)
  3  an incomplete run: tasks without a record, API errors beyond --max-error-rate, or a run the
     circuit breaker stopped; `probity run --resume RUN` finishes it
  130 interrupted (Ctrl-C); the records written so far are kept"""


class UserError(Exception):
    """A problem in the user's input (file, setting, environment). Printed as one line per entry."""

    def __init__(self, *lines: str) -> None:
        self.lines = [line for line in lines if line]
        super().__init__("\n".join(self.lines))


class FatalProviderError(UserError):
    """The provider cannot serve any request (e.g. the API key is rejected): stop the whole run."""


@contextmanager
def writing(setting: str, path: Path) -> Iterator[None]:
    """Turn an OSError while writing `path` (named by `setting`, e.g. --junit) into one line."""
    try:
        yield
    except OSError as exc:
        raise UserError(f"{setting} {path}: cannot write: {exc.strerror or exc}") from exc
