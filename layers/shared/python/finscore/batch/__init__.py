"""Batch scoring: files dropped under incoming/<product>/ scored into scored/<product>/<file>/.

Product-agnostic: a product plugs in through `products.BATCH_PRODUCTS` (row validation, feature
matrix, scoring with the champion's serving model, output columns). Files past BATCH_FANOUT_BYTES fan
out over line-aligned chunks (`fanout`) that are scored apart and joined back.
"""
