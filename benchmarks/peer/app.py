"""The peer Lambda: recommend as the seed projects served it, FastAPI behind Mangum, a pandas row per
request, scikit-learn models unpickled with joblib from S3 at init (PEER_MODEL_BUCKET, PEER_MODEL_KEY)."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import boto3
import joblib
import numpy as np
import pandas as pd
from fastapi import FastAPI
from mangum import Mangum
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parent))

from features import CATEGORIES, engineer, feature_matrix  # noqa: E402


def load_model() -> dict:
    # boto3 reads AWS_ENDPOINT_URL itself, so the same code talks to S3 or to the embedded one.
    body = boto3.client("s3").get_object(Bucket=os.environ["PEER_MODEL_BUCKET"], Key=os.environ["PEER_MODEL_KEY"])
    return joblib.load(io.BytesIO(body["Body"].read()))


MODEL = load_model()

app = FastAPI(title="SmartBank recommendations (peer)")


class CustomerProfile(BaseModel):
    age: int
    income: float
    employment_status: str
    credit_score: int
    existing_products: list[str] = []
    monthly_spending: float
    savings_balance: float
    loan_amount: float
    digital_engagement: float
    spending_score: float
    saving_frequency: int
    loan_behavior: int


@app.post("/v1/recommendations")
async def recommend(profile: CustomerProfile) -> dict:
    frame = engineer(pd.DataFrame([profile.model_dump()]))
    scaled = MODEL["scaler"].transform(feature_matrix(frame, MODEL["feature_columns"]))
    cluster = int(MODEL["kmeans"].predict(scaled)[0])
    held = set(profile.existing_products)
    recommendations, confidence = {}, {}
    for category in CATEGORIES:
        tree = MODEL["trees"][category]
        probabilities = tree.predict_proba(scaled)[0]
        # Best class the customer does not hold yet; if they hold every one, the best overall.
        order = np.argsort(probabilities)[::-1]
        best = next((index for index in order if tree.classes_[index] not in held), order[0])
        recommendations[category] = str(tree.classes_[best])
        confidence[category] = round(float(probabilities[best]), 4)
    return {
        "cluster": cluster,
        "segment": MODEL["segment_names"][cluster],
        "financial_health_score": round(float(frame["financial_health_score"].iloc[0]), 2),
        "income_tier": str(frame["income_tier"].iloc[0]),
        "recommendations": recommendations,
        "confidence_scores": confidence,
    }


handler = Mangum(app, lifespan="off")
