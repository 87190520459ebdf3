"""risk: pre-delinquency scoring (calibrated gradient-boosted trees over behavioural features)."""

PRODUCT = "risk"
