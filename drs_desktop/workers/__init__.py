"""workers layer of DRS Desktop; see docs/ARCHITECTURE.md."""
