"""Errors a user can cause: the CLI prints them as one line and exits 2."""

from __future__ import annotations


class UserError(Exception):
    """A problem in the user's input (file, setting, environment). Printed as one line per entry."""

    def __init__(self, *lines: str) -> None:
        self.lines = [line for line in lines if line]
        super().__init__("\n".join(self.lines))


class FatalProviderError(UserError):
    """The provider cannot serve any request (e.g. the API key is rejected): stop the whole run."""
