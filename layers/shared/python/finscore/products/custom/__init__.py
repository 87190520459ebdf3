"""Custom models: a user's own table and definition become a scoring product (SPEC §2.6)."""
