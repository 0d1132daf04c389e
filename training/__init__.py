"""Training and evaluation: run on its own (often on a lent GPU), never imported by the editor."""
