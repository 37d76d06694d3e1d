"""Statistics on the marts (no Dagster): the event study of Iraq's compliance around key US actions."""
