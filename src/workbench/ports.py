"""Free host ports on 127.0.0.1, chosen per run so that stacks can run side by side."""

from __future__ import annotations

import socket
from contextlib import ExitStack


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Return `count` distinct ports that were free on `host` a moment ago.

    All sockets are held open together so the kernel cannot hand the same port out twice.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            s = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            s.bind((host, 0))
            ports.append(s.getsockname()[1])
    return ports


def allocate(names: list[str], host: str = "127.0.0.1") -> dict[str, int]:
    """Map each environment variable name to its own free port."""
    return dict(zip(names, free_ports(len(names), host), strict=True))
