"""Wire dialects.  Each subpackage exposes ``create_dialect(cloud) -> Dialect``.

A dialect is an object with

* ``name``: short name (``zstack``, ``vsphere``, ``instavm``), used in fault rules
  (``zstack:CloneVmInstance``) and in the request journal;
* ``prefixes``: the URL path prefixes it owns (``/zstack``); the app routes a request to
  the dialect whose prefix is the longest match (prefix equal to the path, or followed
  by ``/``);
* ``handle(request: werkzeug.Request) -> werkzeug.Response``: answers every request
  under its prefixes, unknown paths included, in its own error shape.

A dialect parses, calls model operations, renders; it never holds model state of its
own beyond what it keeps in ``cloud.dialect_state(name)`` (which is snapshotted).  What
it may use of the cloud is ``kit.cloud.DialectCloud``.

The skeleton
------------
Every dialect has the same files for the same roles (``CONTRIBUTING.md`` walks through
adding an API or a dialect with them):

``__init__.py``
    ``create_dialect(cloud)``; the docstring names the reference and the choices made
    where it leaves room.
``dialect.py``
    the mount (``name``, ``prefixes``) and the request's way through: route, decode,
    authenticate, validate, call the handler, render; errors in the API's shape, never a
    traceback.
``routes.py``
    the route table: a ``kit.routing.Router`` with the API's options (ZStack's
    specificity order, Starlette's 307, vSphere's ``/rest`` and ``/api`` tables).
``handlers.py``, ``api_<family>.py``
    the handlers, one module per resource family (``api_vm``, ``api_backup``,
    ``api_vcenter``, ...; ``handlers`` imports them, or holds them when there are few).
    A handler calls model operations, as jobs through ``kit.jobs``.
``render.py``
    entities -> the API's shapes, and the API's ``kit.responses.JsonStyle``.
``errors.py``
    the API's error shapes and the one table from domain errors to them.
``sessions.py``
    who may call: accounts, login sessions, access keys.  (InstaVM has no login: its
    API keys are in ``auth.py``, because "sessions" is one of its resources.)

Other modules carry what only one API has (ZStack's query language and legacy
endpoint, vAPI's type system and JSON-RPC envelope, InstaVM's request validation).

The kit (``fakestack.dialects.kit``) is what they share: one route table, one JSON
response builder, one job-wait helper, the typed view of the cloud.
"""
