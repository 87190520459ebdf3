"""recommend: banking product recommendations (segments by K-Means, one decision tree per category)."""

from finscore.products.recommend.spec import NAME as PRODUCT

__all__ = ["PRODUCT"]
