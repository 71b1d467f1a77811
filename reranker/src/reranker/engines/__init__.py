"""Scoring engines, one module each; listed by name in the engine table (engine_table.json)."""
