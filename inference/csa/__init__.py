"""Consistent Self-Attention (StoryDiffusion): its settings and seeded sampling (config), the
state shared by the UNet's processors (state), the processor itself (processor) and the read that
attends to shared bank tokens without copying them (split_read)."""
