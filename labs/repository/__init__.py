"""DynamoDB adapters of labs: the catalog, sessions, the account pool (one module each)."""
