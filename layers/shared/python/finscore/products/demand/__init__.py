"""The demand product: regional demand for loans, credit cards and insurance."""
