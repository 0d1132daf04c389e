"""Transition clips between two panels: the StoryDiffusion Semantic Motion Predictor (SMP) on an
SD 1.5 + AnimateDiff video UNet, and keyframe video pipelines (LTX-Video, Wan FLF2V) that work with
public weights today. See ``../shared/research/motion.md`` for the paper and the choices made here.

Nothing here imports Qt; torch is imported by the modules themselves, never by the editor at start.
"""
