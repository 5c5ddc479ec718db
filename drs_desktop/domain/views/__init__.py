"""What the operator sees of executions: progress snapshots, history rows, evidence reports."""
