"""CPU seconds of a process tree, from Linux /proc: what a run costs in all the processes it
starts (pool workers under a fork server, a server's workers), whatever else the machine does.
Shared by the benchmark scripts; not part of the package."""

from __future__ import annotations

import os


def tree_cpu(root: int) -> dict[int, float]:
    """User + system CPU seconds of each live process under ``root`` (itself included)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    mine, grew = {root}, True
    while grew:
        more = {pid for pid, (ppid, _) in stats.items() if ppid in mine} - mine
        mine |= more
        grew = bool(more)
    return {pid: stats[pid][1] for pid in mine if pid in stats}
