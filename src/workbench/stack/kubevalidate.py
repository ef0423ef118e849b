"""Offline validation of rendered Kubernetes manifests (no cluster: `kubectl apply --dry-run`
contacts a server).

Built-in kinds (Namespace, ConfigMap, Deployment, Service, Job) against the Kubernetes OpenAPI
schemas shipped by `kubernetes-validate` (strict: unknown fields fail); the TidbCluster against
the JSON schema of the fields the workbench renders (`schemas/tidbcluster.schema.json`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from workbench.errors import PrerequisiteError

SCHEMAS = Path(__file__).resolve().parent / "schemas"
CUSTOM_SCHEMAS = {("pingcap.com/v1alpha1", "TidbCluster"): "tidbcluster.schema.json"}
KUBERNETES_VERSION = "1.32.0"  # the schemas checked against (kubectl here is v1.32)


@cache
def _custom_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def _label(doc: Mapping[str, Any]) -> str:
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


def _builtin_problems(doc: Mapping[str, Any]) -> list[str]:
    # imported here: kubernetes-validate is a dev/test extra, needed only to validate
    try:
        import kubernetes_validate
    except ImportError as exc:
        raise PrerequisiteError(
            "validating Kubernetes manifests needs kubernetes-validate (pip install "
            "'workbench[dev]')"
        ) from exc
    try:
        kubernetes_validate.validate(dict(doc), KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = "/".join(str(p) for p in exc.path)  # the jsonschema error's fields, copied in
        return [f"{_label(doc)}: {path}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{_label(doc)}: no schema for {doc.get('apiVersion')} {doc.get('kind')}"]
    return []


def problems(docs: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every problem of every document (empty: all valid)."""
    out: list[str] = []
    for doc in docs:
        custom = CUSTOM_SCHEMAS.get((str(doc.get("apiVersion")), str(doc.get("kind"))))
        if custom is None:
            out.extend(_builtin_problems(doc))
            continue
        validator = jsonschema.Draft202012Validator(_custom_schema(custom))
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
            path = "/".join(str(p) for p in err.path)
            out.append(f"{_label(doc)}: {path}: {err.message}")
    return out
