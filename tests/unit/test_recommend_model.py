"""The serving model: loaded from the manifest's artifacts, it never recommends a product already held."""

from __future__ import annotations

import numpy as np
import pytest

from finscore.products.columns import columns_of
from finscore.products.recommend.catalog import CATEGORIES, PRODUCT_INDEX, PRODUCTS_BY_CATEGORY, PRODUCTS_BY_ID, holdings
from finscore.products.recommend.features import PROFILE_FIELDS, feature_matrix
from finscore.products.recommend.model import ProductChoice, Recommender, confidence_column, product_column


@pytest.fixture(scope="module")
def recommender(recommend_candidate):
    artifacts = recommend_candidate.artifacts
    return Recommender.load(recommend_candidate.manifest, lambda name: artifacts[name].data)


def predict(recommender: Recommender, profiles: list[dict]) -> dict[str, np.ndarray]:
    columns = columns_of(profiles, PROFILE_FIELDS)
    return recommender.predict(feature_matrix(profiles), columns)


def category_model(classes: tuple[str, ...], prior: list[float]) -> ProductChoice:
    """The choice within one category: it needs only the category's classes and prior."""
    category = PRODUCTS_BY_ID[classes[0]].category
    return ProductChoice.of({category: classes}, {category: prior})


def best(model: ProductChoice, probabilities: list[float], held: set[str]) -> tuple[object, float]:
    products, confidence = model.choose([np.array([probabilities], dtype=np.float64)], holdings([held], 1))
    return products[0, 0], float(confidence[0, 0])


def test_the_best_product_skips_held_products_and_reports_its_probability():
    model = category_model(("basic_checking", "premium_checking", "student_account"), [0.5, 0.3, 0.2])

    assert best(model, [0.7, 0.2, 0.1], set()) == ("basic_checking", pytest.approx(0.7))
    assert best(model, [0.7, 0.2, 0.1], {"basic_checking"}) == ("premium_checking", pytest.approx(0.2))


def test_equal_probabilities_go_to_the_commoner_product():
    model = category_model(("basic_checking", "premium_checking", "student_account"), [0.2, 0.3, 0.5])
    assert best(model, [0.0, 0.0, 0.0], {"premium_checking"}) == ("student_account", 0.0)


def test_nothing_to_recommend_when_every_product_is_held():
    model = category_model(("basic_checking", "premium_checking"), [0.5, 0.5])
    product, confidence = best(model, [0.6, 0.4], {"basic_checking", "premium_checking"})
    assert product is None and np.isnan(confidence)


def test_no_loan_stays_recommendable_when_listed_as_held():
    model = category_model(("personal_loan", "no_loan"), [0.5, 0.5])
    assert best(model, [0.1, 0.9], {"no_loan"})[0] == "no_loan"


def test_predict_never_returns_a_held_product(recommender, recommend_candidate):
    profiles = [{**profile, "existing_products": []} for profile in recommend_candidate.test[:50]]
    # Given what the model recommends to customers holding nothing
    free = predict(recommender, profiles)
    # When each customer holds those very products
    held = [[product for c in CATEGORIES if (product := free[product_column(c)][row]) and PRODUCTS_BY_ID[product].holdable]
            for row in range(len(profiles))]
    again = predict(recommender, [{**profile, "existing_products": products}
                                  for profile, products in zip(profiles, held)])
    # Then each category recommends something else, never a held product
    for row, products in enumerate(held):
        for category in CATEGORIES:
            assert again[product_column(category)][row] not in products
    assert (again["cluster"] == free["cluster"]).all()


def test_holding_a_whole_category_leaves_it_empty(recommender, recommend_candidate):
    profile = {**recommend_candidate.test[0], "existing_products": list(PRODUCTS_BY_CATEGORY["account"])}
    outputs = predict(recommender, [profile])
    assert outputs["account_product"][0] is None and np.isnan(outputs["account_confidence"][0])
    assert recommender.choice.withheld("account", None) == "the customer already holds every account product"
    for category in CATEGORIES[1:]:
        # The other categories answer as usual: a product, or one withheld for its confidence.
        product, confidence = outputs[product_column(category)][0], outputs[confidence_column(category)][0]
        assert (product is not None) == (recommender.choice.withheld(category, confidence) is None)


def test_a_profile_alone_gets_the_answer_it_gets_in_a_batch(recommender, recommend_candidate):
    profiles = [{**profile, "existing_products": []} for profile in recommend_candidate.test[:100]]
    batch = predict(recommender, profiles)
    for row, profile in enumerate(profiles):
        single = predict(recommender, [profile])
        assert {name: single[name][0] for name in single} == {name: batch[name][row] for name in batch}


def test_a_manifest_with_other_features_is_refused(recommend_candidate):
    manifest = recommend_candidate.manifest
    shuffled = manifest.model_copy(update={"features": list(reversed(manifest.features))})
    with pytest.raises(ValueError, match="features"):
        Recommender.load(shuffled, lambda name: recommend_candidate.artifacts[name].data)


def test_categories_chosen_together_answer_as_each_alone():
    classes = {"loan": ("personal_loan", "no_loan"),
               "account": ("basic_checking", "premium_checking", "student_account")}
    priors = {"loan": [0.4, 0.6], "account": [0.2, 0.3, 0.5]}
    rng = np.random.default_rng(7)
    probabilities = {category: rng.dirichlet(np.ones(len(ids)), size=200) for category, ids in classes.items()}
    held = holdings([list(rng.choice(["personal_loan", "basic_checking", "premium_checking", "student_account"],
                                     size=rng.integers(0, 4), replace=False)) for _ in range(200)], 200)
    together = ProductChoice.of(classes, priors).choose(list(probabilities.values()), held)
    for index, category in enumerate(classes):
        alone = ProductChoice.of({category: classes[category]}, {category: priors[category]})
        products, confidence = alone.choose([probabilities[category]], held)
        assert list(together[0][:, index]) == list(products[:, 0])
        np.testing.assert_array_equal(together[1][:, index], confidence[:, 0])
    # The narrower category's padding never wins, not even when every real product is held.
    assert set(together[0][:, 0]) <= {"personal_loan", "no_loan"}
    whole_account_held = held[:, [PRODUCT_INDEX[product] for product in classes["account"]]].all(axis=1)
    assert whole_account_held.any()
    assert all(product is None for product in together[0][whole_account_held, 1])


def test_a_recommendation_below_its_floor_is_withheld_with_its_confidence():
    model = ProductChoice.of({"account": ("basic_checking", "premium_checking")}, {"account": [0.5, 0.5]},
                             {"account": 0.3})
    products, confidence = model.choose([np.array([[0.8, 0.2], [0.25, 0.75], [0.9, 0.1]])],
                                        holdings([[], ["premium_checking"], ["basic_checking", "premium_checking"]], 3))
    assert list(products[:, 0]) == ["basic_checking", None, None]
    assert confidence[1, 0] == 0.25 and np.isnan(confidence[2, 0])
    assert model.withheld("account", 0.8) is None
    assert model.withheld("account", 0.25) == "confidence 0.2500 is below the account floor 0.3000"
    assert model.withheld("account", None) == "the customer already holds every account product"
