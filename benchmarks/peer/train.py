"""Trains the peer's recommend model from a CSV of customers and joblib-dumps it, as the seed projects did.

Usage (peer venv): python train.py CUSTOMERS_CSV OUTPUT_JOBLIB
"""

from __future__ import annotations

import sys
from pathlib import Path

import joblib
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent))

from features import CATEGORIES, DERIVED_COLUMNS, NUMERIC_COLUMNS, engineer, feature_matrix  # noqa: E402

CLUSTERS = 5
TREE_DEPTH = 8
SEED = 42


def segment_names(scaler: StandardScaler, kmeans: KMeans, feature_columns: list[str]) -> list[str]:
    """A readable name per cluster from its centre: income tier, typical age and health."""
    centres = pd.DataFrame(scaler.inverse_transform(kmeans.cluster_centers_), columns=feature_columns)
    names = []
    for index, centre in centres.iterrows():
        tier = "low" if centre["income"] < 30_000 else "medium" if centre["income"] <= 70_000 else "high"
        name = f"{tier}-income, age ~{centre['age']:.0f}, health {centre['financial_health_score']:.0f}"
        names.append(name if name not in names else f"{name} ({index})")
    return names


def main(csv_path: Path, output: Path) -> None:
    customers = pd.read_csv(csv_path)
    customers["existing_products"] = (
        customers["existing_products"].fillna("").astype(str).str.split(";")
        .apply(lambda ids: [product for product in ids if product])
    )
    engineered = engineer(customers)
    employment = sorted(column for column in engineered.columns if column.startswith("employment_")
                        and column != "employment_status")
    feature_columns = NUMERIC_COLUMNS + DERIVED_COLUMNS + employment
    features = feature_matrix(engineered, feature_columns)

    scaler = StandardScaler().fit(features)
    scaled = scaler.transform(features)
    kmeans = KMeans(n_clusters=CLUSTERS, n_init=10, random_state=SEED).fit(scaled)
    trees = {
        category: DecisionTreeClassifier(max_depth=TREE_DEPTH, random_state=SEED).fit(
            scaled, customers[f"{category}_product"].astype(str))
        for category in CATEGORIES
    }
    model = {
        "scaler": scaler,
        "kmeans": kmeans,
        "trees": trees,
        "feature_columns": feature_columns,
        "segment_names": segment_names(scaler, kmeans, feature_columns),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, output)
    accuracy = {category: round(float(tree.score(scaled, customers[f"{category}_product"].astype(str))), 3)
                for category, tree in trees.items()}
    print(f"trained on {len(customers)} customers; training accuracy {accuracy}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
