"""The opportunity product's data generator, trainer and local seed."""
