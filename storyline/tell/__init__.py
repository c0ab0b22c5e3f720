"""The tell stage: stories, timelines and per-event source lists, read from the store."""
