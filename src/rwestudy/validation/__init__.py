"""Validation: findings, the rule tables, CTCAE v5.0 term normalisation."""
