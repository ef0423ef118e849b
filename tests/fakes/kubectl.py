"""A recorded kubectl: answers each kubectl argv with a file of tests/fakes/captured/kubectl/.

`RecordedKubectl.run` stands in for `workbench.proc.run` and `.spawn` for `proc.start`; both log
every argv in `calls`. A rule maps the first words of an argv (and an optional word it contains)
to a recorded output and an exit code; an argv no rule matches fails the test.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workbench.errors import CommandError

CAPTURED = Path(__file__).resolve().parent / "captured" / "kubectl"


def recorded(name: str) -> str:
    p = CAPTURED / name
    return p.read_text() if p.exists() else ""


@dataclass
class Rule:
    words: tuple[str, ...]  # argv[1:len(words)+1]
    contains: str  # a word the argv must contain ("" = any)
    stem: str  # recorded file stem (.stdout/.stderr)
    code: int = 0


@dataclass
class _Popen:
    stdout: io.StringIO
    terminated: bool = False

    def poll(self) -> int | None:
        return 0 if self.terminated else None

    def terminate(self) -> None:
        self.terminated = True

    def kill(self) -> None:
        self.terminated = True

    def wait(self, timeout: float | None = None) -> int:
        return 0


@dataclass
class RecordedKubectl:
    rules: list[Rule]
    calls: list[list[str]] = field(default_factory=list)
    spawned: list[_Popen] = field(default_factory=list)

    def _rule(self, argv: Sequence[str]) -> Rule:
        for r in self.rules:
            if tuple(argv[1 : 1 + len(r.words)]) == r.words and (
                not r.contains or any(r.contains in a for a in argv)
            ):
                return r
        raise AssertionError(f"no recorded kubectl output for {list(argv)}")

    def run(
        self, argv: Sequence[str], *, timeout: float | None = None, check: bool = True, **_: object
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(a) for a in argv]
        self.calls.append(argv)
        r = self._rule(argv)
        out, err = recorded(f"{r.stem}.stdout"), recorded(f"{r.stem}.stderr")
        if check and r.code != 0:
            raise CommandError(argv, r.code, out + err)
        return subprocess.CompletedProcess(argv, r.code, out, err)

    def spawn(self, argv: Sequence[str]) -> _Popen:
        argv = [str(a) for a in argv]
        self.calls.append(argv)
        p = _Popen(io.StringIO(recorded(f"{self._rule(argv).stem}.stdout")))
        self.spawned.append(p)
        return p

    def verbs(self) -> list[str]:
        """Each call as 'verb target' (the words that say what it did)."""
        out = []
        for a in self.calls:
            files = [Path(a[i + 1]).name for i, x in enumerate(a) if x == "-f"]
            target = ",".join(files) or next((x for x in a[2:] if not x.startswith("-")), "")
            out.append(f"{a[1]} {target}".strip())
        return out


def cluster_rules(*, ready: bool = True) -> list[Rule]:
    """A cluster where everything succeeds (or the TidbCluster never becomes Ready)."""
    return [
        Rule(("version",), "", "version_cluster"),
        Rule(("apply",), "40-ycsb-load", "apply_job_load"),
        Rule(("apply",), "41-ycsb-run", "apply_job_load"),
        Rule(("apply",), "", "apply_cluster"),
        Rule(
            ("wait",),
            "tidbcluster/",
            "wait_tidbcluster" if ready else "wait_tidbcluster_timeout",
            0 if ready else 1,
        ),
        Rule(("wait",), "deployment/", "wait_prometheus"),
        Rule(("wait",), "job/", "wait_job_load"),
        Rule(("port-forward",), "-pd", "port_forward_pd"),
        Rule(("port-forward",), "prometheus", "port_forward_prometheus"),
        Rule(("logs",), "", "logs_load"),
        Rule(("delete", "namespace"), "", "delete_namespace"),
    ]
