"""Batch scoring: files dropped under incoming/<product>/ scored into scored/<product>/<file>/.

Product-agnostic: rows are validated against the product's record schema (`records`), completed
from its stores when its spec says so, and scored by its one serving path (finscore.products.scoring);
the output columns are its manifest's. Files past BATCH_FANOUT_BYTES fan out over line-aligned
chunks (`fanout`) that are scored apart and joined back.
"""
