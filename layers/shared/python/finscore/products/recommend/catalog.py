"""The banking product catalogue: four categories, four products each, ids as clients send them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from finscore.products.columns import objects


@dataclass(frozen=True)
class BankProduct:
    id: str
    name: str
    category: str
    # "No Loan Recommended" is an outcome of the loan model, not something a customer can hold, so
    # listing it among existing products never hides it from the recommendations.
    holdable: bool = True


CATEGORIES = ("account", "savings", "loan", "digital_service")

BANK_PRODUCTS = (
    BankProduct("basic_checking", "Basic Checking Account", "account"),
    BankProduct("premium_checking", "Premium Checking Account", "account"),
    BankProduct("student_account", "Student Account", "account"),
    BankProduct("business_account", "Business Account", "account"),
    BankProduct("standard_savings", "Standard Savings Account", "savings"),
    BankProduct("high_yield_savings", "High-Yield Savings Account", "savings"),
    BankProduct("money_market", "Money Market Account", "savings"),
    BankProduct("certificate_of_deposit", "Certificate of Deposit", "savings"),
    BankProduct("personal_loan", "Personal Loan", "loan"),
    BankProduct("home_mortgage", "Home Mortgage", "loan"),
    BankProduct("auto_loan", "Auto Loan", "loan"),
    BankProduct("no_loan", "No Loan Recommended", "loan", holdable=False),
    BankProduct("basic_mobile_banking", "Basic Mobile Banking", "digital_service"),
    BankProduct("premium_digital_banking", "Premium Digital Banking", "digital_service"),
    BankProduct("investment_platform", "Investment Platform", "digital_service"),
    BankProduct("budgeting_tools", "Budgeting Tools", "digital_service"),
)

PRODUCTS_BY_ID = {product.id: product for product in BANK_PRODUCTS}
PRODUCT_IDS = tuple(PRODUCTS_BY_ID)
PRODUCTS_BY_CATEGORY = {
    category: tuple(product.id for product in BANK_PRODUCTS if product.category == category) for category in CATEGORIES
}
DIGITAL_SERVICES = frozenset(PRODUCTS_BY_CATEGORY["digital_service"])

EMPLOYMENT_STATUSES = ("employed", "self_employed", "unemployed", "student", "retired")


def label_column(category: str) -> str:
    """The column of a training record holding the product the customer took in CATEGORY."""
    return f"{category}_product"


LABEL_COLUMNS = tuple(label_column(category) for category in CATEGORIES)
PRODUCT_INDEX = {product: index for index, product in enumerate(PRODUCT_IDS)}


def holdings(held: Sequence[Any] | None, count: int) -> np.ndarray:
    """Which catalogue products (columns, PRODUCT_IDS order) each row's existing_products holds.

    Rows of a file share few distinct lists, and its validation gives rows with equal lists the same
    list object: rows are grouped by object identity in numpy (no Python step per row), and each
    group's list is looked up once. Rows with equal but separate lists (API records) simply form
    groups of their own."""
    matrix = np.zeros((count, len(PRODUCT_IDS)), dtype=bool)
    if held is None or count == 0:
        return matrix
    values = held if isinstance(held, np.ndarray) and held.dtype == object else objects(list(held))
    identities = np.fromiter(map(id, values), dtype=np.int64, count=count)
    _, first, codes = np.unique(identities, return_index=True, return_inverse=True)
    masks = np.zeros((len(first), len(PRODUCT_IDS)), dtype=bool)
    for code, row in enumerate(first.tolist()):
        masks[code, [PRODUCT_INDEX[product] for product in values[row] or () if product in PRODUCT_INDEX]] = True
    return masks[codes.reshape(-1)]
