"""The story engine: a loaded pipeline with CSA and regional prompts installed, and the runs of
one request on it (story batches, guided panels) with their prompts, samplers, previews and
reference images."""
