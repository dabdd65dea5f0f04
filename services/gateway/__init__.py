"""The gateway: the only public door (REST), org tree, staff, terminals, tokens, catalog,
audit log, and (later) checkout orchestration."""
