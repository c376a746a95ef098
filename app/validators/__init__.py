"""Pure validators for national identifiers (no database, no Flask)."""
