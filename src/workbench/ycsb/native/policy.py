"""A request's deadline and retry policy, as real clients have (etcd's clientv3, the JDBC drivers).

Properties (validated by `workbench.params.ycsbprops`):

- ``request.deadline`` (seconds): one operation's deadline over all its attempts; an attempt's
  timeout is what is left of it when the binding can bound an attempt (``set_deadline``), and no
  retry starts past it. Default: the binding's (etcd: ``etcd.timeout``, 10 s; basic: none, 0).
- ``request.retries`` (0): how many times a failed attempt is tried again. 0 keeps the old
  behaviour: one attempt, its failure is the operation's.
- ``request.retry_backoff`` (seconds, 0.05): the pause before a retry, times a jitter in
  [0.8, 1.2), as go-ycsb's insertion retry.
- ``request.retry_on`` (``connection_refused,timeout``): the error classes
  (`bindings.error_class`) that are retried; a server's answer (``server_error``) and a missing
  record are final.

A ``NotFound`` is an answer, never retried. Attempts, retries and final errors are counted apart
per operation, retries per second too (``<phase>.errors.json``); the policy is written there and
recorded in the phase's info.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from workbench.params.ycsbprops import ERROR_CLASSES
from workbench.ycsb.native.props import Props

DEFAULT_RETRY_ON = ("connection_refused", "timeout")


@dataclass(frozen=True)
class RequestPolicy:
    deadline_s: float = 0.0  # 0: none
    retries: int = 0
    backoff_s: float = 0.05
    retry_on: tuple[str, ...] = DEFAULT_RETRY_ON

    def info(self) -> dict[str, Any]:
        d = asdict(self)
        d["retry_on"] = list(self.retry_on)
        return d


def request_policy(props: Props, default_deadline_s: float) -> RequestPolicy:
    """The policy from the properties; `default_deadline_s` is the binding's own timeout."""
    raw = props.get_str("request.retry_on", ",".join(DEFAULT_RETRY_ON))
    classes = tuple(c.strip() for c in raw.split(",") if c.strip())
    bad = [c for c in classes if c not in ERROR_CLASSES]
    if bad:
        props.problems.append(
            f"request.retry_on: unknown error class {', '.join(bad)}; valid: "
            + ", ".join(ERROR_CLASSES)
        )
    retries = props.get_int("request.retries", 0)
    deadline = props.get_float("request.deadline", default_deadline_s)
    backoff = props.get_float("request.retry_backoff", 0.05)
    if retries < 0 or deadline < 0 or backoff < 0:
        props.problems.append("request.retries, request.deadline, request.retry_backoff: >= 0")
    return RequestPolicy(max(deadline, 0.0), max(retries, 0), max(backoff, 0.0), classes)
