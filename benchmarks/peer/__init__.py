"""The peer of SPEC §6: recommend served the seed projects' way (FastAPI + pandas + scikit-learn on Lambda)."""
