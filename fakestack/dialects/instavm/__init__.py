"""InstaVM cloud VM API (``/v1/vms``, ``/v1/snapshots``, ``/v1/sessions``, ``/kill``, ...).

Facts: shared/reference/instavm.md. The official ``instavm`` SDK must work unmodified.

The modules follow the dialect skeleton (``fakestack/dialects/__init__.py``): ``dialect``
(mount, FastAPI's order of checks), ``routes`` (the kit's table with Starlette's
options), ``handlers`` (one method per endpoint) over ``service`` (InstaVM's records
and the model operations behind them), ``render`` (record shapes, Starlette's JSON),
``errors``, ``auth`` (API keys); InstaVM's own: ``schemas`` + ``validation`` (request
models, 422 items), ``ids``, ``mount`` (the prefixes the dialect owns: mounting it loads
neither the route table nor the request validation, its first request does).
"""

from .dialect import InstaVMDialect, create_dialect

__all__ = ["InstaVMDialect", "create_dialect"]
