"""The Executions pane: live progress, history, the run dialog, approvals and reports."""
