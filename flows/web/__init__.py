"""``mmingest serve``: a search page and an HTTP API over one collection (extra ``web``).

:func:`~mmingest.flows.web.app.create_app` builds the ASGI app over a
:class:`~mmingest.flows.web.service.SearchService`; ``static/`` holds the page (plain HTML, CSS
and a little JavaScript, no build step, nothing loaded from elsewhere).
"""
