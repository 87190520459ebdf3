"""Training for recommend: synthetic customers (generator) and the pipeline plug-in (trainer)."""
