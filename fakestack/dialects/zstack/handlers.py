"""Importing this module registers every API handler of the dialect."""
from . import api_identity  # noqa: F401
