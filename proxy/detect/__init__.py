"""Detection: find personal data in texts. Presidio with spaCy, run in worker processes."""
