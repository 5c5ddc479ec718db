"""The readiness dashboard pane: one card per plan, with its lag and RTO charts."""
