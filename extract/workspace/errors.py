"""Why a workspace operation was refused: one line for the reviewer and the exit code it implies.

Contract 2 of DESIGN.md: bad usage (no such workspace, unknown row, unknown field, a value
that does not fit its column) exits 2; an input that exists but cannot be used (a corrupt or
foreign database file) is an input that failed and exits 1.
"""
from __future__ import annotations


class WorkspaceError(Exception):
    """A refused workspace operation. ``str(err)`` is the whole message; ``exit_code`` follows Contract 2."""

    exit_code = 2


class NotAWorkspace(WorkspaceError):
    """The path holds no workspace (run ``init``) — bad usage."""


class UnusableWorkspace(WorkspaceError):
    """The database file exists but is corrupt, foreign or too new; it is left untouched."""

    exit_code = 1


class BadEdit(WorkspaceError):
    """An unknown row id, an unknown field or a value that does not fit its column."""
