"""Stockroom's benchmark suite: HTTP through a real server beside the raw database.

Run it with ``make bench`` (see ``bench/run.py``). Nothing here is imported by the service
or its tests; speed targets live here, never in timed tests.
"""
