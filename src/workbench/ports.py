"""Free host ports on 127.0.0.1, chosen per run so that stacks can run side by side.

A port is chosen free, and Compose publishes it a few seconds later: meanwhile another process
can take it. Ports are therefore drawn at random from outside the kernel's ephemeral range (the
one it hands every outgoing connection on the machine, so the likeliest thief), and the stack
starts again on fresh ports if one was taken all the same (`Stack.up`).
"""

from __future__ import annotations

import random
import socket
from contextlib import ExitStack
from pathlib import Path

EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
DEFAULT_EPHEMERAL = (32768, 60999)  # Linux's default
LOWEST = 10000  # below: ports services commonly listen on by default


def ephemeral_range(path: Path = EPHEMERAL_RANGE_FILE) -> tuple[int, int]:
    """The kernel's range for outgoing connections' local ports (Linux's default elsewhere)."""
    try:
        lo, hi = (int(x) for x in path.read_text().split()[:2])
    except (OSError, ValueError):
        return DEFAULT_EPHEMERAL
    return lo, hi


def free_ports(count: int, host: str = "127.0.0.1", rng: random.Random | None = None) -> list[int]:
    """Return `count` distinct ports that were free on `host` a moment ago, outside the
    ephemeral range when it leaves room (else any the kernel gives).

    All sockets are held open together so the same port cannot be handed out twice.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    rng = rng or random.SystemRandom()
    lo, hi = ephemeral_range()
    outside = [*range(LOWEST, lo), *range(hi + 1, 65536)]
    with ExitStack() as stack:
        ports: list[int] = []
        for _ in range(50 * count if outside else 0):
            if len(ports) == count:
                break
            port = rng.choice(outside)
            if port in ports:
                continue
            s = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            try:
                s.bind((host, port))
            except OSError:
                continue
            ports.append(port)
        while len(ports) < count:  # a crowded machine: any free port
            s = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            s.bind((host, 0))
            ports.append(s.getsockname()[1])
    return ports


def allocate(names: list[str], host: str = "127.0.0.1") -> dict[str, int]:
    """Map each environment variable name to its own free port."""
    return dict(zip(names, free_ports(len(names), host), strict=True))
