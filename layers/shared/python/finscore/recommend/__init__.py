"""recommend: banking product recommendations (segments by K-Means, one decision tree per category)."""

PRODUCT = "recommend"
