"""The identity bank of Consistent Self-Attention: its tokens, their storage (codec, pinned
memory), its file (writer, streamed reader), the session's cache of banks and their warm-up."""
