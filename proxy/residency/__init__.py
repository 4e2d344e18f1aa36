"""Data residency: which region each endpoint is in, and what a policy allows."""
