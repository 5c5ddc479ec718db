"""The Plans pane: the plan editor (with its inventory list to drag from), its models, undo, history."""
