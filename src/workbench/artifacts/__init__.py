"""Artifacts: everything a run leaves in its directory, and nothing that talks to a live stack.

rundir.py       the run directory's layout and files (RunDir), every reader's way in
record.py       run.json as one typed model (schema 2) and the schema-1 migration; Headline,
                the one type of a run's headline numbers
faults.py       faults.json as one typed document (schema 2) and the schema-1 migration
sidefiles.py    every other file a run leaves (ycsb logs and intervals, error classes, raw
                server scrapes, figures, notebook, report), one accessor each
verdicts.py     checks.json: the checks' Verdicts written and read (every older shape)
campaign.py     a campaign directory (CampaignDir) and campaign.json (CampaignRecord, schema 2)
fingerprint.py  the environment a run happened in
progress.py     the run's progress events (progress.jsonl), emitted inside, followed outside
operator.py     operator.json (OperatorDoc, schema 1): the operator under test's events and scores
timeline.py     client, server and mark rows on one clock (timeline.parquet)
"""

from workbench.errors import ConfigError
from workbench.jsonio import parse_iso, read_json, utc_iso, write_json

from .campaign import CampaignDir, CampaignRecord, CampaignRun, scan_campaign_dirs
from .faults import FAULTS_SCHEMA, Distribution, FaultsDoc, FileProblem, migrate_faults
from .fingerprint import Fingerprint, HostInfo, fingerprint, host_fingerprint, sha256_file
from .operator import (
    OPERATOR_SCHEMA,
    MembershipSummary,
    OperatorDoc,
    OperatorExit,
    ReadBack,
)
from .progress import ProgressEvent, ProgressLog
from .record import (
    EXIT_CODES,
    FINAL_STATUSES,
    RUN_STATUSES,
    SCHEMA,
    Headline,
    Mark,
    RunRecord,
    Stage,
    Summary,
    migrate,
)
from .rundir import (
    RunDir,
    list_run_dirs,
    read_record,
    release_reserve,
    run_status,
    scan_run_dirs,
)
from .sidefiles import (
    ErrorClasses,
    QueryEntry,
    ServerOpsInfo,
    index_files,
    is_run_dir,
    notebook_of,
    report_of,
)
from .timeline import TIMELINE_COLUMNS, build_timeline, client_rows, server_rows
from .verdicts import CHECKS_FILE, read_verdicts, write_verdicts

__all__ = [
    "CHECKS_FILE",
    "EXIT_CODES",
    "FAULTS_SCHEMA",
    "FINAL_STATUSES",
    "OPERATOR_SCHEMA",
    "RUN_STATUSES",
    "SCHEMA",
    "TIMELINE_COLUMNS",
    "CampaignDir",
    "CampaignRecord",
    "CampaignRun",
    "ConfigError",
    "Distribution",
    "ErrorClasses",
    "FaultsDoc",
    "FileProblem",
    "Fingerprint",
    "Headline",
    "HostInfo",
    "Mark",
    "MembershipSummary",
    "OperatorDoc",
    "OperatorExit",
    "ProgressEvent",
    "ProgressLog",
    "QueryEntry",
    "ReadBack",
    "RunDir",
    "RunRecord",
    "ServerOpsInfo",
    "Stage",
    "Summary",
    "build_timeline",
    "client_rows",
    "fingerprint",
    "host_fingerprint",
    "index_files",
    "is_run_dir",
    "list_run_dirs",
    "migrate",
    "migrate_faults",
    "notebook_of",
    "parse_iso",
    "read_json",
    "read_record",
    "read_verdicts",
    "release_reserve",
    "report_of",
    "run_status",
    "scan_campaign_dirs",
    "scan_run_dirs",
    "server_rows",
    "sha256_file",
    "utc_iso",
    "write_json",
    "write_verdicts",
]
