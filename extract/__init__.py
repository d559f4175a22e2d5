"""litmeta's extractor: papers → Documents → fields → study rows with evidence."""
from .document import Document
from .errors import ReadError
from .readers import read

__all__ = ["Document", "ReadError", "read"]
