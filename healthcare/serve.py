"""The web server: `python -m healthcare.serve` runs the ASGI app under uvicorn.

The one command that serves the portal everywhere: `make run` (through the
Procfile), the Docker image, docker-compose and the production rehearsal test.
Everything is read from the environment:

    HOST                  address to bind (127.0.0.1; 0.0.0.0 in a container)
    PORT                  port to bind (8000; 0 picks a free one)
    WEB_CONCURRENCY       server processes (1)
    WEB_KEEPALIVE_SECONDS idle keep-alive connections are closed after this (5); behind a
                          proxy make it longer than the proxy's own idle timeout, or the
                          proxy may reuse a connection the server is closing (502s)
    WEB_GRACEFUL_SECONDS  time open requests get to finish on shutdown (20)
    WEB_WS_MAX_BYTES      largest websocket message (1 MiB; audio frames are a few KiB)
    DATABASE_POOL_SIZE    PostgreSQL connections per server process (8): see settings.py

Why `uvicorn --workers` and not gunicorn: uvicorn's own supervisor (uvicorn
>= 0.30) restarts a worker that dies, health-checks them and re-spawns on
SIGHUP, which is all gunicorn added for us; gunicorn's `uvicorn.workers`
class is deprecated in favour of the separate `uvicorn-worker` package,
which would be one more dependency for nothing we need.

Request bodies are streamed by uvicorn (never buffered whole, unlike Daphne)
and capped by healthcare.bodylimit, which wraps the application.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from typing import Any

APP = "healthcare.asgi:application"
DEFAULT_POOL_SIZE = 8
WILDCARD_HOSTS = {"0.0.0.0", "::", ""}  # noqa: S104 - a display rule, not a bind


def _int(environ: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, not {value}")
    return value


def uvicorn_options(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """uvicorn.Config keyword arguments for this environment."""
    return {
        "host": environ.get("HOST", "127.0.0.1").strip() or "127.0.0.1",
        "port": _int(environ, "PORT", 8000),
        "workers": _int(environ, "WEB_CONCURRENCY", 1, minimum=1),
        "timeout_keep_alive": _int(environ, "WEB_KEEPALIVE_SECONDS", 5, minimum=1),
        "timeout_graceful_shutdown": _int(environ, "WEB_GRACEFUL_SECONDS", 20, minimum=1),
        "ws_max_size": _int(environ, "WEB_WS_MAX_BYTES", 1024 * 1024, minimum=1024),
        # Naming the server and its version only helps someone looking for a known flaw.
        "server_header": False,
        # X-Forwarded-For/-Proto are read by Django itself (TRUSTED_PROXY_COUNT,
        # SECURE_PROXY_SSL_HEADER), counting only the proxies we were told about.
        "proxy_headers": False,
        # Django and Channels need no lifespan events; "off" keeps uvicorn from probing.
        "lifespan": "off",
    }


def open_url(host: str, port: int) -> str:
    """The address a person on this machine opens in a browser."""
    shown = "127.0.0.1" if host in WILDCARD_HOSTS else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def main() -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    # Under ASGI only a pool reuses PostgreSQL connections (settings.py explains);
    # set before the app is imported here or in the spawned worker processes.
    os.environ.setdefault("DATABASE_POOL_SIZE", str(DEFAULT_POOL_SIZE))
    config = uvicorn.Config(APP, **uvicorn_options())
    # Bind first, so the printed address is the port actually in use (PORT=0 too).
    sock: socket.socket = config.bind_socket()
    # Listening now queues a browser that is quicker than the app's start-up
    # instead of refusing it.
    sock.listen(config.backlog)
    port = sock.getsockname()[1]
    print(f"Portal ready: open {open_url(config.host, port)}", flush=True)
    server = uvicorn.Server(config)
    try:
        if config.workers > 1:
            Multiprocess(config, sockets=[sock]).run()
        else:
            server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    if config.workers == 1 and not server.started:
        sys.exit(1)


if __name__ == "__main__":
    main()
