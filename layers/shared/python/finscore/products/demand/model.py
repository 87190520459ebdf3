"""The demand models on the serving path: three XGBoost models as ONNX (next-week demand, demand rise,
top product), the calibrated confidence bands, the regions and the fallback profiles, loaded once
from the manifest; then pure.

The region is a feature the model version owns (its clustering assigns it), so the model fills that
column from the row's pincode. A pincode without history of its own (unknown to the stores) is
answered from the mean pincode of its city (the city the row names, else the city of the known
pincodes sharing its first three digits, India Post's sorting district), else from the mean pincode
of all; the `basis` output says which. Batch files score with the version's native XGBoost boosters
in place of the three graphs (`with_boosters`, finscore.models.native), checked against them first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Callable, Mapping

import numpy as np
import onnxruntime as ort

from finscore.models.manifest import Manifest
from finscore.models.onnx import session_from_bytes
from finscore.products.demand.catalog import PRODUCTS, SERIES
from finscore.products.demand.features import (
    CALENDAR_FIELDS,
    FEATURE_NAMES,
    HISTORY_COLUMNS,
    HISTORY_FIELDS,
    REGION_COLUMN,
    calendar,
)

CLASSIFIER_OUTPUT = "probabilities"
# The three models by the names the manifest gives their artifacts (extra["models"], extra["native"]).
BOOSTERS = ("demand", "rise", "top_product")
PINCODE_BASIS, CITY_BASIS, OVERALL_BASIS = "pincode", "city", "overall"
OUTPUTS: tuple[tuple[str, str, str], ...] = (
    ("predicted_demand", "float", "Sales expected in the next week (pincode x product x channel)"),
    ("confidence", "float", "Probability (calibrated on validation weeks) that the sales fall within max(1, 25%) "
                            "of predicted_demand"),
    ("demand_lower", "float", "Lower end of the 90% interval of next week's sales"),
    ("demand_upper", "float", "Upper end of the 90% interval of next week's sales"),
    ("demand_rise", "bool", "rise_probability >= 0.5"),
    ("rise_probability", "float", "Probability that next week's sales exceed this week's"),
    ("top_product", "str", "The product likeliest to sell most next week in the pincode and channel"),
    ("top_product_probability", "float", "Its probability"),
    *((f"probability_{product}", "float", f"Probability that {product} sells most") for product in PRODUCTS),
    ("region_id", "str", "The pincode's region (demand-profile cluster)"),
    ("basis", "str", "pincode: its own history; city: the mean pincode of its city; overall: of all pincodes"),
)
_CALENDAR_COLUMNS = tuple(FEATURE_NAMES.index(name) for name in CALENDAR_FIELDS)
_SERIES_KEYS = {pair: f"{pair[0]}#{pair[1]}" for pair in SERIES}


def confidence_band(predicted: np.ndarray, bands: Mapping[str, list[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Confidence and the interval (lower, upper) of each prediction, from its size bin's calibration."""
    bins = np.searchsorted(np.asarray(bands["edges"], dtype=np.float64), predicted, side="right")
    confidence = np.asarray(bands["confidence"], dtype=np.float64)[bins]
    half = np.asarray(bands["half_width"], dtype=np.float64)[bins]
    return confidence, np.maximum(predicted - half, 0.0), predicted + half


@dataclass(frozen=True)
class RegionMap:
    """Each known pincode's region index and city; each city's region (the one most of its pincodes
    are in) and each sorting district's city."""

    region_of: Mapping[str, int]
    city_of: Mapping[str, str]
    city_region: Mapping[str, int]
    district_city: Mapping[str, str]

    @classmethod
    def of(cls, region_of: Mapping[str, int], city_of: Mapping[str, str]) -> RegionMap:
        votes: dict[str, dict[int, int]] = {}
        districts: dict[str, dict[str, int]] = {}
        for pincode, region in region_of.items():
            city = city_of[pincode]
            votes.setdefault(city, {})[region] = votes.setdefault(city, {}).get(region, 0) + 1
            districts.setdefault(pincode[:3], {})[city] = districts.setdefault(pincode[:3], {}).get(city, 0) + 1
        return cls(dict(region_of), dict(city_of),
                   {city: max(counts, key=lambda region: (counts[region], -region)) for city, counts in votes.items()},
                   {district: max(counts, key=lambda city: (counts[city], city)) for district, counts in districts.items()})

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> RegionMap:
        return cls.of({pincode: int(entry[0]) for pincode, entry in document.items()},
                      {pincode: str(entry[1]) for pincode, entry in document.items()})

    def document(self) -> dict[str, list]:
        """{pincode: [region index, city]} for the manifest."""
        return {pincode: [region, self.city_of[pincode]] for pincode, region in sorted(self.region_of.items())}

    def city(self, pincode: Any, named: Any) -> str | None:
        """The pincode's city: its own, the one the row names (when known), or its sorting district's."""
        if isinstance(pincode, str) and pincode in self.city_of:
            return self.city_of[pincode]
        if isinstance(named, str):
            for city in self.city_region:
                if city.lower() == named.strip().lower():
                    return city
        return self.district_city.get(pincode[:3]) if isinstance(pincode, str) else None

    def region(self, pincode: Any, named: Any) -> float:
        if isinstance(pincode, str) and pincode in self.region_of:
            return float(self.region_of[pincode])
        city = self.city(pincode, named)
        return float(self.city_region[city]) if city is not None else np.nan

    def fill(self, matrix: np.ndarray, columns: Mapping[str, Any]) -> np.ndarray:
        """MATRIX with its region column set from each row's pincode (and city)."""
        pincodes = columns.get("pincode")
        if pincodes is None:
            return matrix
        cities = columns.get("city")
        named = cities if cities is not None else [None] * len(pincodes)
        # Each distinct (pincode, city) is looked up once: a batch file repeats a few hundred pincodes.
        distinct: dict[tuple[Any, Any], int] = {}
        inverse = np.fromiter((distinct.setdefault((pincode, city if isinstance(city, str) else None), len(distinct))
                               for pincode, city in zip(pincodes, named)), dtype=np.int64, count=len(pincodes))
        regions = np.array([self.region(pincode, city) for pincode, city in distinct], dtype=np.float32)
        matrix[:, REGION_COLUMN] = regions[inverse] if len(inverse) else regions[:0]
        return matrix


@dataclass(frozen=True)
class DemandModel:
    version: str
    demand: ort.InferenceSession
    rise: ort.InferenceSession
    top: ort.InferenceSession
    bands: Mapping[str, list[float]]
    regions: RegionMap
    region_ids: tuple[str, ...]
    fallback: Mapping[str, Any]
    # The regions' details as training computed them (the regions routes answer with them).
    region_details: tuple[Mapping[str, Any], ...] = ()
    # The version's native boosters by name, scoring in place of the ONNX graphs (batch files only;
    # finscore.models.native checks them against the graphs first).
    native: Mapping[str, Callable[[np.ndarray], np.ndarray]] | None = None

    @classmethod
    def load(cls, manifest: Manifest, read: Callable[[str], bytes]) -> DemandModel:
        manifest.require_features(FEATURE_NAMES)
        outputs = tuple(output.name for output in manifest.outputs)
        if outputs != tuple(name for name, _, _ in OUTPUTS):
            raise ValueError(f"demand {manifest.version} declares outputs {list(outputs)}, this code answers "
                             f"{[name for name, _, _ in OUTPUTS]}")
        models = manifest.extra["models"]
        if list(manifest.extra["fallback"]["fields"]) != list(HISTORY_FIELDS):
            raise ValueError(f"demand {manifest.version}: fallback profiles hold other fields than the features")
        return cls(
            version=manifest.version,
            demand=session_from_bytes(read(models["demand"]["artifact"])),
            rise=session_from_bytes(read(models["rise"]["artifact"])),
            top=session_from_bytes(read(models["top_product"]["artifact"])),
            bands=manifest.thresholds["confidence_bands"],
            regions=RegionMap.from_document(manifest.extra["pincodes"]),
            region_ids=tuple(region["region_id"] for region in manifest.extra["regions"]),
            fallback=manifest.extra["fallback"],
            region_details=tuple(manifest.extra["regions"]),
        )

    def boosters(self, features: np.ndarray) -> dict[str, np.ndarray]:
        """Each model's own prediction for completed FEATURES: next week's demand (before clipping at
        zero), the rise probability, and every product's probability (rows x products)."""
        if self.native is not None:
            return {name: np.asarray(self.native[name](features), dtype=np.float64) for name in BOOSTERS}
        return {
            "demand": self.demand.run(None, {self.demand.get_inputs()[0].name: features})[0].reshape(-1)
            .astype(np.float64),
            "rise": self.rise.run([CLASSIFIER_OUTPUT], {self.rise.get_inputs()[0].name: features})[0][:, 1]
            .astype(np.float64),
            "top_product": self.top.run([CLASSIFIER_OUTPUT], {self.top.get_inputs()[0].name: features})[0]
            .astype(np.float64),
        }

    def with_boosters(self, boosters: Mapping[str, Callable[[np.ndarray], np.ndarray]]) -> DemandModel:
        """The same version scoring with other BOOSTERS of its models (its native ones, for batch files)."""
        missing = set(BOOSTERS) - set(boosters)
        if missing:
            raise ValueError(f"demand {self.version}: no booster for {sorted(missing)}")
        return replace(self, native=dict(boosters))

    def complete(self, matrix: np.ndarray, columns: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """MATRIX with regions filled and rows without history answered from their city's (or every
        pincode's) mean profile, and each row's basis."""
        count = len(matrix)
        filled = self.regions.fill(np.array(matrix, dtype=np.float32, copy=True), columns)
        basis = np.full(count, PINCODE_BASIS, dtype=object)
        lag_1 = filled[:, HISTORY_COLUMNS[0]]
        missing = np.flatnonzero(np.isnan(lag_1)).tolist()
        if not missing:
            return filled, basis
        pincodes, cities = columns.get("pincode"), columns.get("city")
        products, channels = columns.get("product"), columns.get("channel")
        as_of = [calendar(date.fromisoformat(self.fallback["as_of"]))[name] for name in CALENDAR_FIELDS]
        answers: dict[tuple[Any, ...], tuple[str, list[float] | None]] = {}

        def value(column: Any, row: int) -> Any:
            found = column[row] if column is not None else None
            return found if isinstance(found, str) else None

        for row in missing:
            asked = (value(pincodes, row), value(cities, row), value(products, row), value(channels, row))
            if asked not in answers:
                answers[asked] = self._fallback(*asked)
            basis[row], profile = answers[asked]
            if profile is not None:
                filled[row, HISTORY_COLUMNS] = profile
            if np.isnan(filled[row, _CALENDAR_COLUMNS[0]]):
                filled[row, _CALENDAR_COLUMNS] = as_of
        return filled, basis

    def _fallback(self, pincode: str | None, city: str | None, product: str | None,
                  channel: str | None) -> tuple[str, list[float] | None]:
        """Whose profile answers a pincode without history, and that profile's history fields."""
        key = _SERIES_KEYS.get((product, channel))
        home = self.regions.city(pincode, city)
        profile = self.fallback["cities"].get(home, {}).get(key) if home is not None else None
        basis = CITY_BASIS if profile is not None else OVERALL_BASIS
        if profile is None:
            profile = self.fallback["overall"].get(key) if key else None
        return basis, None if profile is None else [np.nan if number is None else number for number in profile]

    def predict(self, matrix: np.ndarray, columns: Mapping[str, Any]) -> dict[str, np.ndarray]:
        count = len(matrix)
        if count == 0:
            return {name: np.empty(0, dtype=object if kind == "str" else np.float64) for name, kind, _ in OUTPUTS}
        features, basis = self.complete(matrix, columns)
        predicted = self.boosters(features)
        demand, rise, top = np.maximum(predicted["demand"], 0.0), predicted["rise"], predicted["top_product"]
        confidence, lower, upper = confidence_band(demand, self.bands)
        chosen = top.argmax(axis=1)
        region = features[:, REGION_COLUMN]
        ids = np.array([*self.region_ids, None], dtype=object)
        outputs = {
            "predicted_demand": np.round(demand, 2),
            "confidence": np.round(confidence, 4),
            "demand_lower": np.round(lower, 2),
            "demand_upper": np.round(upper, 2),
            "demand_rise": rise >= 0.5,
            "rise_probability": np.round(rise, 6),
            "top_product": np.array(PRODUCTS, dtype=object)[chosen],
            "top_product_probability": np.round(top[np.arange(count), chosen], 6),
            **{f"probability_{product}": np.round(top[:, index], 6) for index, product in enumerate(PRODUCTS)},
            "region_id": ids[np.where(np.isnan(region), len(self.region_ids), region).astype(np.int64)],
            "basis": basis,
        }
        return outputs
