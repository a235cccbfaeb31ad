"""ZStack Cloud REST dialect (``/zstack/v1``, ``/v1``) and its legacy ``/zstack/api`` endpoint.

Facts come from ``reference/zstack.md`` (ZStack 5.2.1); the modules follow the request:

* ``dialect``: transport checks, routing (``routes``, ``catalog``), the API pipeline
  (parameters ``params`` -> resource existence -> session ``sessions`` -> handler), async
  jobs (``jobs``, ``webhooks``);
* ``legacy``: ``POST /zstack/api/`` + ``/zstack/api/result/{uuid}`` on the same handlers
  (what the ``zstack-mcp-server`` client speaks);
* ``api_*``: one handler per API (``registry.api``), calling model operations as jobs;
* ``inventories``: entities -> inventories, and the query collections; ``query``: the
  query language; ``errors``: ErrorCode and the one domain-error mapping table.

Choices where the reference leaves room (see its §12): dates in UTC; clone results in
request order; ``vmCdRoms`` empty (the model has no CD-ROMs); ``resourceUuid`` honoured
for VMs, data volumes, backup groups, images made from backups and access keys, ignored
elsewhere (the model draws every other uuid itself); ``__systemTag__``/``__userTag__``
match the tags given when the resource was created through this dialect; ``groupBy`` and
``filterName`` accepted and ignored; malformed JSON is a plain-text 400 (not the real
server's 500).

Accounts: ``admin`` / ``password`` by default; ``create_dialect(cloud).set_account(name,
password)`` changes or adds one.
"""
from __future__ import annotations


def create_dialect(cloud):
    from .dialect import ZStackDialect

    return ZStackDialect(cloud)
