"""Who is calling: principals, token verification, API keys, and the route-role matrix."""
