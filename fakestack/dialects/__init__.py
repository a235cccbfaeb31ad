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
own beyond what it keeps in ``cloud.dialect_state(name)`` (which is snapshotted).
"""
