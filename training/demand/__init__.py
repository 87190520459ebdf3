"""The demand product's generator, trainer and local seed."""
