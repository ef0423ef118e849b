"""Native YCSB core-workload generator (go-ycsb's command line and output, plus honest latency)."""

from workbench.ycsb.native import etcd as etcd  # registers the etcd binding
from workbench.ycsb.native.bindings import binding_names, create_binding, register_binding
from workbench.ycsb.native.client import NativeClient, RunReport
from workbench.ycsb.native.generators import build_key_name, hash64
from workbench.ycsb.native.workload import build_workload

__all__ = [
    "NativeClient",
    "RunReport",
    "binding_names",
    "build_key_name",
    "build_workload",
    "create_binding",
    "hash64",
    "register_binding",
]
