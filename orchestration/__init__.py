"""Iraq-Iran sanctions warehouse: Dagster code location and the shared parts of every source."""
