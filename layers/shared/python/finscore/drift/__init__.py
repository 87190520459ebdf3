"""Drift: a sample of scoring inputs and outputs captured in serving, compared with training baselines."""
