"""The recovery plan: its model, edits, validation, document form, diff and revisions."""
