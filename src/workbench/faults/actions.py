"""Fault actions on one container, each returning its undo; and what this host can do.

Process actions go through the docker CLI (`docker kill|stop|restart|pause|unpause|start`, argv
from `workbench.docker.cli`); network actions run iptables and tc from the host inside the
container's network namespace (`nsenter -t <pid> -n ...`, the pid from `docker inspect`), so the
images need neither tool.
Every rule carries the comment `wb-fault` so an undo deletes exactly its own rules and a leftover
is easy to find. `supported_actions()` probes this host for real, in a throwaway network namespace
(`unshare -n`), so probing changes nothing. What lives elsewhere: choosing the container
(targets.py), timing and recording (injector.py).

Arguments, written after the action name with a colon:
  loss:<pct>        drop this percentage (0 < pct <= 100) of the packets the member sends
  bandwidth:<rate>  cap what the member sends to a tc rate (`1mbit`, `500kbit`, `10mbps`)
  delay:<ms>        netem delay of every packet the member sends (needs sch_netem)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workbench import proc
from workbench.docker import cli as docker
from workbench.errors import CommandError, ConfigError

RULE_COMMENT = "wb-fault"
STOP_GRACE_S = 10  # `docker stop --time`: SIGTERM, then SIGKILL after this long
Runner = Callable[[Sequence[str]], str]


def run_checked(argv: Sequence[str]) -> str:
    """Run argv (20 s bound) and return stdout; CommandError with evidence when it fails."""
    return proc.run(argv, timeout=20).stdout


@dataclass
class Applied:
    """An action in force: its undo (idempotent), whether it took effect, and what showed it."""

    undo: Callable[[], None]
    took_effect: bool
    evidence: dict[str, Any] = field(default_factory=dict)


class Host:
    """The docker CLI and the namespaces of this host, through one runner (fakes in tests)."""

    def __init__(self, run: Runner = run_checked) -> None:
        self.run = run

    def state(self, container: str) -> dict[str, Any]:
        """`.State` of a container (Running, Paused, Pid, ...)."""
        return docker.parse_state(self.run(docker.inspect_state(container)))

    def netns(self, container: str, argv: Sequence[str]) -> str:
        """Run argv from the host inside the container's network namespace."""
        pid = int(self.state(container)["Pid"])
        if pid <= 0:
            raise CommandError(docker.nsenter(pid, []), None, f"{container} is not running")
        return self.run(docker.nsenter(pid, argv))

    def device(self, container: str) -> str:
        """The interface of the container's default route (eth0 on a compose network)."""
        out = self.netns(container, ["ip", "-o", "-4", "route", "show", "default"])
        m = re.search(r"\bdev (\S+)", out)
        return m.group(1) if m else "eth0"


# --- process actions --------------------------------------------------------------------------


def _undo_once(fn: Callable[[], None]) -> Callable[[], None]:
    done = [False]

    def undo() -> None:
        if not done[0]:
            fn()
            done[0] = True

    return undo


def _ensure_running(host: Host, container: str) -> None:
    st = host.state(container)
    if st.get("Paused"):
        host.run(docker.unpause(container))
    elif not st.get("Running"):
        host.run(docker.start(container))


def _down_action(argv: Callable[[str], list[str]]) -> Callable[[Host, str, str | None], Applied]:
    def apply(host: Host, container: str, arg: str | None) -> Applied:
        host.run(argv(container))
        st = host.state(container)
        return Applied(
            undo=_undo_once(lambda: _ensure_running(host, container)),
            took_effect=not st.get("Running", True),
            evidence={"state": st.get("Status"), "exit_code": st.get("ExitCode")},
        )

    return apply


def _restart(host: Host, container: str, arg: str | None) -> Applied:
    before = host.state(container).get("StartedAt")
    host.run(docker.restart(container, 1))
    st = host.state(container)
    return Applied(
        undo=_undo_once(lambda: _ensure_running(host, container)),
        took_effect=bool(st.get("Running")) and st.get("StartedAt") != before,
        evidence={"started_before": before, "started_after": st.get("StartedAt")},
    )


def _pause(host: Host, container: str, arg: str | None) -> Applied:
    host.run(docker.pause(container))
    st = host.state(container)

    def undo() -> None:
        if host.state(container).get("Paused"):
            host.run(docker.unpause(container))

    return Applied(_undo_once(undo), bool(st.get("Paused")), {"state": st.get("Status")})


# --- network actions --------------------------------------------------------------------------


def _rules(container: str, specs: list[list[str]], host: Host) -> Applied:
    """Insert iptables rules (chain + match) in the container's namespace; undo deletes them."""
    inserted: list[list[str]] = []

    def undo() -> None:
        for spec in reversed(inserted):
            try:
                host.netns(container, ["iptables", "-w", "-D", *spec])
            except CommandError:
                if _rule_present(host, container, spec):
                    raise
        inserted.clear()

    try:
        for spec in specs:
            host.netns(container, ["iptables", "-w", "-I", spec[0], "1", *spec[1:]])
            inserted.append(spec)
    except BaseException:
        undo()
        raise
    listing = host.netns(container, ["iptables", "-w", "-S"])
    ours = [line for line in listing.splitlines() if RULE_COMMENT in line]
    return Applied(_undo_once(undo), len(ours) >= len(specs), {"rules": ours})


def _rule_present(host: Host, container: str, spec: list[str]) -> bool:
    try:
        host.netns(container, ["iptables", "-w", "-C", *spec])
    except CommandError:
        return False
    return True


def _tagged(chain: str, *match: str) -> list[str]:
    iface = "-i" if chain == "INPUT" else "-o"
    return [
        chain,
        "!",
        iface,
        "lo",
        *match,
        "-m",
        "comment",
        "--comment",
        RULE_COMMENT,
        "-j",
        "DROP",
    ]


def _partition(host: Host, container: str, arg: str | None) -> Applied:
    return _rules(container, [_tagged("INPUT"), _tagged("OUTPUT")], host)


def _loss(host: Host, container: str, arg: str | None) -> Applied:
    p = parse_percent(arg or "") / 100.0
    stat = ["-m", "statistic", "--mode", "random", "--probability", f"{p:.4f}"]
    return _rules(container, [_tagged("OUTPUT", *stat)], host)


def _qdisc(kind: Callable[[str | None], list[str]]) -> Callable[[Host, str, str | None], Applied]:
    def apply(host: Host, container: str, arg: str | None) -> Applied:
        dev = host.device(container)
        host.netns(container, ["tc", "qdisc", "add", "dev", dev, "root", *kind(arg)])

        def undo() -> None:
            shown = host.netns(container, ["tc", "qdisc", "show", "dev", dev])
            if kind(arg)[0] in shown:
                host.netns(container, ["tc", "qdisc", "del", "dev", dev, "root"])

        shown = host.netns(container, ["tc", "qdisc", "show", "dev", dev])
        return Applied(_undo_once(undo), kind(arg)[0] in shown, {"dev": dev, "qdisc": shown})

    return apply


def _tbf(arg: str | None) -> list[str]:
    return ["tbf", "rate", parse_rate(arg or ""), "burst", "32kbit", "latency", "400ms"]


def _netem(arg: str | None) -> list[str]:
    return ["netem", "delay", f"{parse_ms(arg or '')}ms"]


# --- arguments ----------------------------------------------------------------------------------

_RATE_RE = re.compile(r"^[0-9]+(\.[0-9]+)?(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$")


def parse_percent(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise ValueError(
            f"loss needs a percentage 0 < pct <= 100 (loss:20), got {text!r}"
        ) from None
    if not 0 < v <= 100:
        raise ValueError(f"loss needs a percentage 0 < pct <= 100 (loss:20), got {text!r}")
    return v


def parse_rate(text: str) -> str:
    if not _RATE_RE.match(text.lower()) or float(re.sub(r"[a-z]+$", "", text.lower())) <= 0:
        raise ValueError(f"bandwidth needs a tc rate such as 1mbit, 500kbit, 10mbps, got {text!r}")
    return text.lower()


def parse_ms(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"delay needs whole milliseconds > 0 (delay:100), got {text!r}")
    return int(text)


# --- the catalogue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionSpec:
    name: str
    description: str
    apply: Callable[[Host, str, str | None], Applied]
    needs: tuple[str, ...]  # capabilities (keys of probe_capabilities())
    parse_arg: Callable[[str], object] | None = None  # None: takes no argument
    instant: bool = False  # done at once (restart); its duration is only the observed window


ACTIONS: dict[str, ActionSpec] = {
    a.name: a
    for a in (
        ActionSpec("kill", "SIGKILL, start again after the duration", _down_action(lambda c: docker.kill(c, "KILL")), ("docker",)),
        ActionSpec("stop", "SIGTERM (SIGKILL after 10 s), start after the duration", _down_action(lambda c: docker.stop(c, STOP_GRACE_S)), ("docker",)),
        ActionSpec("restart", "docker restart at once; the duration is the window observed", _restart, ("docker",), instant=True),
        ActionSpec("pause", "freeze every process (cgroup freezer), unfreeze after", _pause, ("docker",)),
        ActionSpec("partition", "drop every packet in and out but loopback", _partition, ("docker", "nsenter", "iptables")),
        ActionSpec("loss", "drop pct % of the packets sent (loss:20)", _loss, ("docker", "nsenter", "iptables", "iptables-statistic"), parse_percent),
        ActionSpec("bandwidth", "cap the send rate by tc tbf (bandwidth:1mbit)", _qdisc(_tbf), ("docker", "nsenter", "tc", "tc-tbf"), parse_rate),
        ActionSpec("delay", "netem delay of sent packets (delay:100)", _qdisc(_netem), ("docker", "nsenter", "tc", "tc-netem"), parse_ms),
    )
}  # fmt: skip


def action(name: str) -> ActionSpec:
    if name not in ACTIONS:
        raise ConfigError(f"unknown fault action {name!r}; valid: {', '.join(ACTIONS)}")
    return ACTIONS[name]


# --- what this host has -------------------------------------------------------------------------

_PROBES: dict[str, list[str]] = {
    "docker": docker.version(),
    "nsenter": ["nsenter", "--version"],
    "iptables": ["unshare", "-n", "iptables", "-w", "-I", "INPUT", "-j", "DROP"],
    "iptables-statistic": [
        "unshare", "-n", "iptables", "-w", "-I", "INPUT", "-m", "statistic", "--mode", "random",
        "--probability", "0.5", "-m", "comment", "--comment", RULE_COMMENT, "-j", "DROP",
    ],
    "tc": ["tc", "-V"],
    "tc-tbf": ["unshare", "-n", "tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate", "1mbit", "burst", "32kbit", "latency", "400ms"],
    "tc-netem": ["unshare", "-n", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
}  # fmt: skip

PACKAGES = {"nsenter": "util-linux", "iptables": "iptables", "tc": "iproute2"}


def probe_capabilities(ok: Callable[[Sequence[str]], bool] = proc.ok) -> dict[str, bool]:
    """Each capability tried for real (network ones in a throwaway namespace: no side effect)."""
    return {name: ok(argv) for name, argv in _PROBES.items()}


def supported_actions(caps: Mapping[str, bool] | None = None) -> dict[str, str | None]:
    """action -> None when this host can do it, else the reason (for doctor and validation)."""
    caps = probe_capabilities() if caps is None else caps
    out: dict[str, str | None] = {}
    for name, spec in ACTIONS.items():
        missing = [c for c in spec.needs if not caps.get(c)]
        out[name] = None if not missing else _reason(missing)
    return out


def _reason(missing: list[str]) -> str:
    parts = []
    for cap in missing:
        if cap == "tc-netem":
            parts.append("the kernel has no sch_netem (tc: 'Specified qdisc kind is unknown')")
        elif cap in PACKAGES:
            parts.append(f"{cap} missing (apt-get install {PACKAGES[cap]})")
        else:
            parts.append(f"{cap} not available on this host")
    return "; ".join(parts)
