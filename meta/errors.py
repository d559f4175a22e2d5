"""One exception type for every refusal in ``meta/`` so callers (CLI, store) catch one thing."""
from __future__ import annotations


class MetaError(ValueError):
    """Bad input or an analysis metafor would refuse; the message names the row/file and the reason."""
