"""Secure by default: security headers on every response, bearer tokens checked against their
stored SHA-256, roles enforced, and every request that presents a token audited."""
