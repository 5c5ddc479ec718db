"""The Protection groups pane."""
