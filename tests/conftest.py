"""Shared pytest configuration: the unit tests need nothing; the integration fixtures live in integration/."""
