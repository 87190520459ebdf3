"""Opportunity sentiment: VADER compounds of review texts, the location aggregates and their documented
engagement formula, and a scoring path that never loads the lexicon."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from finscore.products.opportunity.sentiment import aggregates, compound_scores, engagement_score, text_key
from tests.handlers import ROOT

NOW = datetime(2026, 12, 3, 12, tzinfo=timezone.utc)


def test_praise_complaints_and_plain_statements_score_apart():
    praise, complaint, mixed, plain = compound_scores([
        "Absolutely love the coffee here, the staff are friendly and helpful!",
        "Terrible food, overpriced and the staff were rude.",
        "The food was good but the wait was too long.",
        "The shop opens at 9 am and closes at 10 pm.",
    ])

    assert praise > 0.5 and complaint < -0.5
    assert complaint < mixed < praise
    assert abs(plain) < 0.1


def test_the_same_text_keys_the_same_whatever_its_case_and_spacing():
    assert text_key("Great  Coffee!\n") == text_key("great coffee!") != text_key("great coffee?")


def test_engagement_is_volume_times_recency():
    assert engagement_score(0, NOW, NOW) == 0.0
    assert engagement_score(200, NOW, NOW) == 1.0 and engagement_score(5000, NOW, NOW) == 1.0
    assert engagement_score(20, NOW, NOW) == round(math.log1p(20) / math.log1p(200), 4)
    a_month_ago = engagement_score(200, NOW - timedelta(days=30), NOW)
    assert a_month_ago == round(math.exp(-1), 4)


def test_aggregates_are_the_mean_compound_and_neutral_without_reviews():
    item = {"review_count": 4, "compound_sum": 1.8, "last_review_at": (NOW - timedelta(days=1)).isoformat()}

    found = aggregates(item, NOW)

    assert found["sentiment_score"] == 0.45 and found["review_count"] == 4
    assert 0 < found["engagement_score"] < 1
    assert aggregates(None, NOW) == {"sentiment_score": 0.0, "engagement_score": 0.0, "review_count": 0,
                                     "last_review_at": None}


def test_the_scoring_path_never_imports_vader():
    # Given a fresh interpreter that imports everything the opportunity API function serves with
    code = ("import json, sys\n"
            "import finscore.products.opportunity.routes, finscore.products.opportunity.stores\n"
            "import finscore.products.opportunity.model\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.lower().startswith('vader'))))")
    child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)

    # Then VADER is not loaded until a text is scored
    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout.strip().splitlines()[-1]) == []
