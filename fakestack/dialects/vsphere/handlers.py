"""Importing this module registers every vAPI operation of the dialect (``registry``)."""
from . import api_session, api_vcenter  # noqa: F401
