"""Faults during the run phase: a schedule of actions on the stack's containers and networks.

schedule.py parses and validates `ACTION[:ARG]:TARGET@START+DURATION`; targets.py holds the
manifest's `[faults]` model and resolves `leader`/`random`/... at injection time; actions.py acts
through the docker CLI, iptables and tc (and says what this host supports); injector.py runs a
schedule in a thread and records every fault; recovery.py turns client series into recovery
numbers. This room imports only base modules (errors, proc, units).
"""
