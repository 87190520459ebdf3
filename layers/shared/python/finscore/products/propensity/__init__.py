"""propensity: the probability that a retail investor buys a given stock on the next trading day."""
