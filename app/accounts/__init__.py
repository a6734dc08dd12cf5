"""Users, workspaces, memberships and invitations."""
