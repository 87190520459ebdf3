"""The serving model: loaded from the manifest's artifacts, it never recommends a product already held."""

from __future__ import annotations

import numpy as np
import pytest

from finscore.recommend.catalog import CATEGORIES, PRODUCTS_BY_CATEGORY, PRODUCTS_BY_ID
from finscore.recommend.features import feature_matrix
from finscore.recommend.model import CategoryModel, best_product, load_recommender, predict, predict_matrix


@pytest.fixture(scope="module")
def recommender(recommend_candidate):
    artifacts = recommend_candidate.artifacts
    return load_recommender(recommend_candidate.manifest, lambda name: artifacts[name].data)


def category_model(classes: tuple[str, ...], prior: list[float]) -> CategoryModel:
    """A category model without a session: best_product only needs its classes and prior."""
    return CategoryModel(
        category=PRODUCTS_BY_ID[classes[0]].category,
        session=None,  # type: ignore[arg-type]
        input_name="features",
        classes=classes,
        holdable_columns={p: i for i, p in enumerate(classes) if PRODUCTS_BY_ID[p].holdable},
        tie_break=np.asarray(prior) * 1e-6,
    )


def test_best_product_skips_held_products_and_reports_their_probability():
    model = category_model(("basic_checking", "premium_checking", "student_account"), [0.5, 0.3, 0.2])
    probabilities = np.array([0.7, 0.2, 0.1], dtype=np.float32)

    assert best_product(model, probabilities, frozenset()) == ("basic_checking", pytest.approx(0.7))
    assert best_product(model, probabilities, frozenset({"basic_checking"})) == ("premium_checking", pytest.approx(0.2))
    assert probabilities[0] == pytest.approx(0.7)  # the caller's probabilities are left alone


def test_equal_probabilities_go_to_the_commoner_product():
    model = category_model(("basic_checking", "premium_checking", "student_account"), [0.2, 0.3, 0.5])
    product, confidence = best_product(model, np.array([0.0, 0.0, 0.0], dtype=np.float32), frozenset({"premium_checking"}))
    assert (product, confidence) == ("student_account", 0.0)


def test_nothing_to_recommend_when_every_product_is_held():
    model = category_model(("basic_checking", "premium_checking"), [0.5, 0.5])
    assert best_product(model, np.array([0.6, 0.4]), frozenset({"basic_checking", "premium_checking"})) == (None, None)


def test_no_loan_stays_recommendable_when_listed_as_held():
    model = category_model(("personal_loan", "no_loan"), [0.5, 0.5])
    assert best_product(model, np.array([0.1, 0.9]), frozenset({"no_loan"}))[0] == "no_loan"


def test_predict_never_returns_a_held_product(recommender, recommend_candidate):
    for profile in recommend_candidate.test[:50]:
        # Given what the model recommends to a customer holding nothing
        free = predict(recommender, {**profile, "existing_products": []})
        # When the customer holds those very products
        held = [product for product in free.products.values() if PRODUCTS_BY_ID[product].holdable]
        again = predict(recommender, {**profile, "existing_products": held})
        # Then each category recommends something else, never a held product
        for category in CATEGORIES:
            assert again.products[category] not in held
            if free.products[category] in held:
                assert again.products[category] != free.products[category]
        assert again.cluster == free.cluster


def test_holding_a_whole_category_leaves_it_empty(recommender, recommend_candidate):
    profile = {**recommend_candidate.test[0], "existing_products": list(PRODUCTS_BY_CATEGORY["account"])}
    recommendation = predict(recommender, profile)
    assert recommendation.products["account"] is None and recommendation.confidence_scores["account"] is None
    assert all(recommendation.products[category] for category in CATEGORIES if category != "account")


def test_single_profile_and_matrix_paths_agree(recommender, recommend_candidate):
    profiles = [{**profile, "existing_products": []} for profile in recommend_candidate.test[:100]]
    batch = predict_matrix(recommender, feature_matrix(profiles))
    for row, profile in enumerate(profiles):
        single = predict(recommender, profile)
        assert single.cluster == batch.clusters[row]
        assert single.products == {category: batch.products[category][row] for category in CATEGORIES}


def test_a_manifest_with_other_features_is_refused(recommend_candidate):
    manifest = recommend_candidate.manifest
    shuffled = manifest.model_copy(update={"features": list(reversed(manifest.features))})
    with pytest.raises(ValueError, match="features"):
        load_recommender(shuffled, lambda name: recommend_candidate.artifacts[name].data)
