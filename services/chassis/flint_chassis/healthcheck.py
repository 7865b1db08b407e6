"""A container's health check: ``python -m flint_chassis.healthcheck [PATH ...]``.

Exits 0 when every path (default ``/readyz``) answers 200 on this container's service, at
``FLINT_<SERVICE>_PORT`` (``FLINT_SERVICE`` names the service; the image sets both). The
Dockerfile's ``HEALTHCHECK`` runs it; docker-compose adds ``/.well-known/jwks.json`` for
installs, so services that verify tokens start once the issuer's keys are served.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str] | None = None) -> int:
    paths = (argv if argv is not None else sys.argv[1:]) or ["/readyz"]
    service = os.environ.get("FLINT_SERVICE", "")
    port = os.environ.get(f"FLINT_{service.upper()}_PORT") or os.environ.get("FLINT_SERVICE_PORT", "8100")
    for path in paths:
        url = f"http://127.0.0.1:{port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                if response.status != 200:
                    raise urllib.error.HTTPError(url, response.status, "not 200", response.headers, None)
        except (OSError, urllib.error.HTTPError) as error:
            print(f"unhealthy: {url}: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
