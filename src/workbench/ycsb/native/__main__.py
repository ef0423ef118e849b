"""``python -m workbench.ycsb.native load|run <db> ...`` (go-ycsb's command line)."""

import sys

from workbench.ycsb.native.cli import main

sys.exit(main())
