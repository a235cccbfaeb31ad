"""ZStack Cloud REST dialect (``/zstack/v1``, ``/v1``) and its legacy ``/zstack/api`` endpoint.

Facts come from ``reference/zstack.md`` (ZStack 5.2.1); the modules follow the dialect
skeleton (``fakestack/dialects/__init__.py``):

* ``dialect``: mount, transport checks, authentication, the API pipeline (parameters
  ``params`` -> resource existence -> session -> handler), async jobs (``jobs``,
  ``webhooks``);
* ``routes``: the route table (the kit's, in ZStack's specificity order) over the API
  catalogue (``catalog``); ``registry``: which handler serves which API;
* ``handlers``: imports the ``api_*`` modules, one per resource family, each API a
  handler (``registry.api``) calling model operations as jobs;
* ``render``: entities -> inventories, the query sources, ZStack's JSON; ``query``: the
  query language;
* ``errors``: ErrorCode, the one domain-error mapping table, plain-text transport errors;
* ``sessions``: accounts, sessions and access keys;
* ``legacy``: ``POST /zstack/api/`` + ``/zstack/api/result/{uuid}`` on the same handlers
  (what the ``zstack-mcp-server`` client speaks).

Choices where the reference leaves room (see its §12): dates in UTC; clone results in
request order; ``vmCdRoms`` empty (the model has no CD-ROMs); ``resourceUuid`` honoured
for VMs, data volumes, backup groups, images made from backups and access keys, ignored
elsewhere (the model draws every other uuid itself); ``__systemTag__``/``__userTag__``
match the tags given when the resource was created through this dialect; ``groupBy`` and
``filterName`` accepted and ignored; malformed JSON is a plain-text 400 (not the real
server's 500).

Accounts: ``admin`` / ``password`` by default; ``create_dialect(cloud).set_account(name,
password)`` changes or adds one.  Users (LogInByUser): ``user`` / ``password`` of the
default account; ``set_user(name, password, account="admin")`` changes or adds one.

Images added from a URL (AddImage) take their sizes from the topology's
``settings.image_catalogue`` (or ``settings.default_download_size``); a URL neither names
cannot be reached.  Inventory fields the server sends as null are omitted, as it omits
them; ``docs/coverage/zstack.md`` (``python -m fakestack.dialects.zstack.coverage``) lists
every in-scope API of the real one, served or not.
"""

from __future__ import annotations


def create_dialect(cloud):
    from .dialect import ZStackDialect

    return ZStackDialect(cloud)
