from __future__ import annotations

import sys
from pathlib import Path

# tests/ on the path so the shared fakes import as `fakes`
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fakes.fixtures import etcd_cluster, local_prometheus

__all__ = ["etcd_cluster", "local_prometheus"]
