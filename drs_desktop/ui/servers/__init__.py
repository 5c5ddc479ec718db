"""The Servers pane: every source server of the account, with filters and the offline cache."""
