"""Training for risk: a synthetic portfolio (generator) and the pipeline plug-in (trainer)."""
