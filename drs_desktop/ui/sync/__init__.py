"""Team sync in the window: the status-bar item and the conflicts dialog."""
