"""Campaigns: repeated, ordered runs of named configurations, and their statistics.

spec (the TOML campaign file), plan (the run order), store (the campaign directory), metrics (one
run's numbers), runner (runs the plan with an injected executor), compare (groups of runs side by
side), report (the campaign's HTML page), session (open, resume or reopen a campaign for the CLI
and the notebook). Running a single benchmark is not here: the executor is.
"""
