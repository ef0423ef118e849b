"""Provisioning: everything a stack needs on this machine, made idempotently and fast.

    engine.py   the Docker engine and the Compose v2 plugin
    images.py   the offline base image and the subjects' images (rebuilt when inputs change)
    gobuild.py  tools built from Go modules (go-ycsb) into images
    prereqs.py  `setup` (make what is missing) and `doctor` (ok/missing with the exact fix)

Where a registry answers, the base image is pulled; where none does (the offline case), it is
debootstrapped from the machine's own Debian mirror and imported. Nothing here starts a stack.
"""

from workbench.provision.engine import (
    Prereq,
    compose_ok,
    engine_ok,
    ensure_compose,
    ensure_engine,
)
from workbench.provision.images import (
    BASE_IMAGE,
    CACHE_DIR,
    PROJECT_ROOT,
    build_image,
    ensure_base_image,
    ensure_subject_images,
    image_exists,
    image_inputs_hash,
    image_label,
    image_status,
)
from workbench.provision.prereqs import doctor, setup

__all__ = [
    "BASE_IMAGE",
    "CACHE_DIR",
    "PROJECT_ROOT",
    "Prereq",
    "build_image",
    "compose_ok",
    "doctor",
    "engine_ok",
    "ensure_base_image",
    "ensure_compose",
    "ensure_engine",
    "ensure_subject_images",
    "image_exists",
    "image_inputs_hash",
    "image_label",
    "image_status",
    "setup",
]
