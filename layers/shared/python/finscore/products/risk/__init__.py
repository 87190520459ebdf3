"""risk: pre-delinquency scoring (calibrated gradient-boosted trees over behavioural features)."""

from finscore.products.risk.spec import NAME as PRODUCT

__all__ = ["PRODUCT"]
