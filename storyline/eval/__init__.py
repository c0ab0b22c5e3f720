"""``storyline eval``: quality measured against public gold data, peers side by side.

Each module here defines ``command``, a click command that becomes ``storyline eval NAME``.
Data paths are always arguments: benchmark data is not part of this repository.
"""
