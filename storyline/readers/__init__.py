"""More formats for the read stage; each module registers itself with ``storyline.read``."""
