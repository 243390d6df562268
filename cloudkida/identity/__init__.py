"""Who is calling, independent of any app: the Principal, and the JWKS cache tokens are verified with."""
