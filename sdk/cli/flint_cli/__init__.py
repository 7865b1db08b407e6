"""The ``flint`` command: what a plugin developer runs beside a local Flint stack.

``flint dev up|down|status`` drives the stack (``deploy/stack.py``), ``flint merchants
create`` and ``flint apps create`` make a test merchant and the developer's app, ``flint
install`` runs the OAuth install with PKCE through the browser, ``flint orders`` reads
orders as the app, ``flint trigger`` makes things happen (an order paid ...), and ``flint
events tail`` / ``flint listen --forward-to`` stream the app's own topic. Built on
``flint_sdk``; what it learns is kept in a profile (:mod:`flint_cli.profile`).
"""
