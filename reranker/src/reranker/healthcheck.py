"""The image's HEALTHCHECK: exit 0 when GET /.well-known/ready answers 2xx, else 1.

Standard library only (the base image has no curl). Probes 127.0.0.1 when the server listens
on all interfaces, else the configured HOST, at the configured PORT.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

from reranker.settings import Settings


def probe_url(settings: Settings) -> str:
    host = settings.host
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/.well-known/ready"


def main() -> int:
    url = probe_url(Settings.from_env())
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - local probe
            return 0 if 200 <= response.status < 300 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
