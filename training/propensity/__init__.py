"""Training for propensity: a synthetic stock market with retail investors' purchases (generator)."""
