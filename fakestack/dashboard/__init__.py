"""The dashboard: a page at ``/_fakestack/ui`` that shows a running cloud as pictures,
and the static replay report (``fakestack replay --report DIR``) built from the same views.

* ``views``: JSON-able data computed from a cloud (ledgers with injected exhaustion marks,
  copy-on-write trees, the filtered journal), also served as admin JSON;
* ``render``: HTML and inline SVG from those views (one renderer for page and report);
* ``routes``: the admin routes (``/_fakestack/ui``, ``/ui/panels``, ``/ledgers``,
  ``/trees``); imported by the admin API through ``ADMIN_EXTENSIONS``;
* ``report``: the per-scenario HTML report of a replay;
* ``static/``: the page, its stylesheet and script (package data; no CDN, works offline).
"""
