"""The register's one error type, in a module of its own so that build, check, render and cli
can all raise it without importing each other in a circle."""

from __future__ import annotations


class RegisterError(RuntimeError):
    """The register cannot be produced; the message is a sentence for a person."""
