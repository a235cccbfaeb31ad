"""The dialect kit: what every dialect (and the admin API) shares.

* ``routing``: one route table (``Router``): the route, or the methods a path allows
  (405), or a trailing-slash redirect; per-API quirks are options;
* ``responses``: one JSON response builder (``JsonStyle``, ``json_response``);
* ``jobs``: running model operations as jobs and waiting for them (a manual clock is
  moved, a real one waited on with the cloud lock released);
* ``cloud``: ``DialectCloud``, the typed view of the cloud a dialect may use.

The modules import nothing from the dialects or the app, so anything may import them.
"""
