"""Constructs of the FinScore stack, one per concern: data stores, layers, API functions, REST API."""
