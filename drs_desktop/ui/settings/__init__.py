"""The Settings pane and the sign-in dialogs (SSO, MFA, first run)."""
