"""Staff accounts: editors, ops and admins, their passwords, roles and API tokens."""
