"""Generation on a Ray cluster of GPUs: one engine per GPU, the artist's process the only writer."""
