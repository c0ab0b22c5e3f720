"""The store's tables, defined once for every backend (SQLAlchemy Core).

JSON columns hold small lists (aliases, actors, removed spans) that are read whole and never
queried inside; everything a query filters on is a plain column with an index.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32)),
    Column("paths", Text),
    Column("n_added", Integer, default=0),
    Column("n_skipped", Integer, default=0),
    Column("n_failed", Integer, default=0),
)

articles = Table(
    "articles",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("seq", Integer, nullable=False),  # insertion order, for stable paging
    Column("source", Text, nullable=False),
    Column("record", Integer),
    Column("source_key", Text, nullable=False),  # source + "#" + record: one place a doc came from
    Column("content_hash", String(64), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("supersedes", String(32)),
    Column("url", Text),
    Column("title", Text),
    Column("outlet", Text),
    Column("outlet_source", String(16)),
    Column("pub_date", String(10)),
    Column("pub_date_source", String(16), nullable=False, default="unknown"),
    Column("pub_date_precision", String(8)),
    Column("pub_date_evidence", Text),  # how an inferred date was found
    Column("language", String(8)),
    Column("text", Text, nullable=False),
    Column("words", Integer, nullable=False, default=0),
    Column("is_article", Boolean, nullable=False, default=True),
    Column("removed", JSON),
    Column("notes", JSON),
    Column("annotated", Boolean, nullable=False, default=False),
    Column("linked", Boolean, nullable=False, default=False),
    Column("batch_id", Integer),
    Column("ingested_at", String(32)),
    Column("cluster_id", String(32)),  # same-event cluster (link/articles.py): first member's id
    UniqueConstraint("source_key", "content_hash", name="uq_articles_source_hash"),
    Index("ix_articles_pub_date", "pub_date"),
    Index("ix_articles_outlet", "outlet"),
    Index("ix_articles_hash", "content_hash"),
    # covering for the ANN index's hits (keyed by seq): their id and date without the row
    Index("ix_articles_seq_day", "seq", "id", "pub_date"),
    Index("ix_articles_cluster", "cluster_id"),
    Index("ix_articles_linked", "linked"),
)

sentences = Table(
    "sentences",
    metadata,
    Column("article_id", String(32), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
)

mentions = Table(
    "mentions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", String(32), nullable=False, index=True),
    Column("sentence", Integer, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("label", String(16), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("canonical", Text),
    Column("role", Text),
    Column("country", String(8)),
    Column("lat", Float),
    Column("lon", Float),
    Column("entity_id", String(40), index=True),  # entities.id: up to 40 (link/entities.slug_id)
)

timexes = Table(
    "timexes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", String(32), nullable=False, index=True),
    Column("idx", Integer, nullable=False),  # position in the article's list
    Column("sentence", Integer, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("type", String(10), nullable=False),
    Column("value", String(64), nullable=False),
    Column("end_value", String(64)),
    Column("anchored", Boolean, nullable=False, default=True),
    Column("symbolic", String(64)),
)

quotes = Table(
    "quotes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("article_id", String(32), nullable=False, index=True),
    Column("sentence", Integer, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("speaker", Text),
    Column("speaker_canonical", Text),
    Column("speaker_start", Integer),
    Column("speaker_end", Integer),
    Column("addressee", Text),
    Column("channel", Text),
    Column("second_hand", Boolean, nullable=False, default=False),
    Column("speaker_id", String(40), index=True),  # an entities.id (up to 40)
    Column("utterance_id", String(40), index=True),
)

event_mentions = Table(
    "event_mentions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("article_id", String(32), nullable=False, index=True),
    Column("sentence", Integer, nullable=False),
    Column("trigger", Text, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("type", String(16), nullable=False, index=True),
    Column("mode", String(32)),
    Column("status", String(16), nullable=False),
    Column("actors", JSON),
    Column("targets", JSON),
    Column("location", Text),
    Column("date", String(10), index=True),
    Column("date_end", String(10)),
    Column("precision", String(8)),
    Column("timex", Integer),
    Column("confidence", Float, nullable=False, default=1.0),
    Column("event_id", String(40)),
    # covering for a story's article count: an event's articles read from the index alone
    Index("ix_event_mentions_event", "event_id", "article_id"),
)

entities = Table(
    "entities",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("type", String(16), nullable=False),
    Column("country", String(8)),
    Column("aliases", JSON),
    Column("mentions", Integer, nullable=False, default=0),
    Column("lat", Float),
    Column("lon", Float),
    Index("ix_entities_name", "name"),
)

events = Table(
    "events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("seq", Integer, nullable=False, index=True),
    Column("type", String(16), nullable=False, index=True),
    Column("mode", String(32)),
    Column("title", Text, nullable=False),
    Column("date", String(10), index=True),
    Column("date_end", String(10)),
    Column("precision", String(8)),
    Column("status", String(16), nullable=False),
    Column("status_history", JSON),  # [{"status", "article", "date"}]
    Column("location", Text),
    Column("lat", Float),
    Column("lon", Float),
    Column("actors", JSON),  # entity ids
    Column("story_id", String(40), index=True),
    Column("n_articles", Integer, nullable=False, default=0),
    Column("n_outlets", Integer, nullable=False, default=0),
    Column("outlets", JSON),
)

utterances = Table(
    "utterances",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("speaker_id", Text, index=True),  # an entity id or "name:<speaker text>" (any length)
    Column("speaker", Text),
    Column("text", Text, nullable=False),
    Column("n_quotes", Integer, nullable=False, default=0),
    # day numbers (date.toordinal) of the first and last article quoting it: candidates for a
    # new wording are the speaker's utterances quoted near its article's date (blocking)
    Column("day_first", Integer),
    Column("day_last", Integer),
    Index("ix_utterances_speaker_day", "speaker_id", "day_last"),
)

# Blocking rows for event linking and story grouping: one row per (event, actor entity, time
# bucket of BUCKET_DAYS days that the event may lie in), entity_id "" for an event without
# actors, bucket -1 for an event that may lie anywhere in time. day_lo..day_hi is where the event
# may lie (its date's span, or around its reports' publication dates when undated). A mention
# finds its candidate events by (actor, family, bucket) equality: index lookups whose cost follows
# the events near it in time, never the size of the store.
_BLOCK_ROW = ("dated", "day_lo", "day_hi", "event_id")  # what blocked_events reads
event_actors = Table(
    "event_actors",
    metadata,
    Column("event_id", String(40), primary_key=True),
    Column("entity_id", String(40), primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("family", String(16), nullable=False),
    Column("dated", Boolean, nullable=False),
    Column("day_lo", Integer, nullable=False),
    Column("day_hi", Integer, nullable=False),
    # covering: a look-up reads the index alone, never the table (at 100k articles a bucket of
    # a busy actor holds thousands of rows, and each table read was a random page fetch)
    Index("ix_event_actors_cover", "entity_id", "family", "bucket", *_BLOCK_ROW),
    Index("ix_event_actors_cover_any", "entity_id", "bucket", *_BLOCK_ROW),
)

# Single names of the store's multi-word PERSON entities ("xi" and "jinping" for Xi Jinping):
# "Mr Xi" finds the full names it may stand for by an equality lookup, not a scan.
person_keys = Table(
    "person_keys",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("entity_id", String(40), primary_key=True),
    Column("name", Text, nullable=False),
)

stories = Table(
    "stories",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("seq", Integer, nullable=False, index=True),
    Column("title", Text, nullable=False),
    Column("date_start", String(10)),
    Column("date_end", String(10)),
    Column("n_events", Integer, nullable=False, default=0),
    Column("n_articles", Integer, nullable=False, default=0),
    Column("n_outlets", Integer, nullable=False, default=0),
)

relations = Table(
    "relations",
    metadata,
    Column("article_id", String(32), primary_key=True),
    Column("other_id", String(32), primary_key=True),
    Column("kind", String(16), primary_key=True),  # duplicate_of, rewrite_of, same_story_as
    Column("score", Float, nullable=False),
    Index("ix_relations_other", "other_id"),
)

embeddings = Table(
    "embeddings",
    metadata,
    Column("article_id", String(32), primary_key=True),
    Column("model", String(64), nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float32 little-endian
    Column("minhash", LargeBinary),  # datasketch MinHash hash values (uint64 LE) of word 5-grams
    Column("n_shingles", Integer),  # how many distinct 5-grams the MinHash summarises
    # what pair scoring reads of a candidate, kept so that it is not re-derived from the text
    # and link_keys for every batch it is a candidate in: sublinear term frequencies, names
    Column("terms", JSON),
    Column("names", JSON),
)

# Blocking keys for incremental linking (storyline/link/articles.py): kind "lsh" = a MinHash
# LSH band bucket, kind "name" = a normalised proper name in the article. A new article finds
# its candidates by key lookups, so linking a batch never scans the whole store.
link_keys = Table(
    "link_keys",
    metadata,
    Column("kind", String(8), primary_key=True),
    Column("key", String(80), primary_key=True),
    Column("article_id", String(32), primary_key=True),
    Index("ix_link_keys_article", "article_id"),
)

# Document frequency of each word over linked articles: the IDF of the linker's TF-IDF overlap.
# One row per distinct word (grows with the vocabulary, not with the number of articles).
term_df = Table(
    "term_df",
    metadata,
    Column("term", String(64), primary_key=True),
    Column("df", Integer, nullable=False, default=0),
)

# How many articles hold each blocking key (kind "name" of link_keys): a name's rarity without
# counting its link_keys rows, which grow with the store.
key_df = Table(
    "key_df",
    metadata,
    Column("kind", String(8), primary_key=True),
    Column("key", String(80), primary_key=True),
    Column("df", Integer, nullable=False, default=0),
)

TABLES = {t.name: t for t in metadata.sorted_tables}
