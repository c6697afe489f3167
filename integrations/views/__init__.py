"""Data sources › Salesforce, the pages a user returns to: the list, connecting (the OAuth flow), the
authorization, disconnecting and deleting (`connect`, `connections`), and the connection's overview,
settings and sync health (`source_pages`); a connection's pages share `mixins.ConnectionMixin`. Views parse input,
call one service or selector, respond."""
