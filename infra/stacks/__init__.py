"""Stacks of the FinScore CDK app."""
