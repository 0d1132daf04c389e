"""Which of many names a text mentions, found in one pass over the text.

The Fountain parser puts on each panel the characters its action names. Searching the action
once per character (``(?<!\\w)(?:Name|NAME)(?!\\w)``) costs characters x panels, and a script
from someone else may hold thousands of each; past 512 names Python's regex cache also thrashes.
Here every name goes into one Aho-Corasick automaton over word tokens, so a text costs its
length plus the names it mentions, whatever the number of names.

Tokens are runs of word characters (``\\w+``) and single other characters. A name can only start
and end where a token does, and the word boundaries of the regex are folded into the tokens: an
other character carries whether a word character stands before and after it (at the ends of a
name: never, which is what ``(?<!\\w)`` and ``(?!\\w)`` ask). Matching token sequences exactly then
finds exactly what the regex found.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable

_TOKEN = re.compile(r"(\w+)|\W")
Token = str | tuple[str, bool, bool]


def _tokens(text: str) -> tuple[list[Token], list[int]]:
    """The tokens of ``text`` and where each starts."""
    matches = list(_TOKEN.finditer(text))
    is_word = [match.group(1) is not None for match in matches]
    tokens: list[Token] = []
    for index, match in enumerate(matches):
        if is_word[index]:
            tokens.append(match.group())
        else:
            before = index > 0 and is_word[index - 1]
            after = index + 1 < len(matches) and is_word[index + 1]
            tokens.append((match.group(), before, after))
    return tokens, [match.start() for match in matches]


class NameFinder:
    """An automaton for a fixed set of names, each found as a whole word (case-sensitive)."""

    def __init__(self, names: Iterable[tuple[str, str]]) -> None:
        """``names``: ``(text, key)`` pairs; several texts may share a key (a name's forms)."""
        self._goto: list[dict[Token, int]] = [{}]
        self._keys: list[list[str]] = [[]]  # keys of the names that end at each node
        self._depth: list[int] = [0]  # length in tokens of the path to each node
        for text, key in names:
            node = 0
            for token in _tokens(text)[0]:
                following = self._goto[node].get(token)
                if following is None:
                    following = len(self._goto)
                    self._goto[node][token] = following
                    self._goto.append({})
                    self._keys.append([])
                    self._depth.append(self._depth[node] + 1)
                node = following
            if node:
                self._keys[node].append(key)
        self._fail = [0] * len(self._goto)
        self._output = [0] * len(self._goto)  # nearest proper suffix node where a name ends
        self._link()

    def _link(self) -> None:
        queue = deque(self._goto[0].values())
        while queue:
            node = queue.popleft()
            for token, child in self._goto[node].items():
                fail = self._fail[node]
                while fail and token not in self._goto[fail]:
                    fail = self._fail[fail]
                target = self._goto[fail].get(token, 0)
                self._fail[child] = target if target != child else 0
                suffix = self._fail[child]
                self._output[child] = suffix if self._keys[suffix] else self._output[suffix]
                queue.append(child)

    def first_mentions(self, text: str) -> dict[str, int]:
        """Each key mentioned in ``text`` and where its first mention starts."""
        tokens, starts = _tokens(text)
        found: dict[str, int] = {}
        seen: set[int] = set()  # nodes already reported; so are all their output suffixes
        node = 0
        for end, token in enumerate(tokens):
            while node and token not in self._goto[node]:
                node = self._fail[node]
            node = self._goto[node].get(token, 0)
            hit = node if self._keys[node] else self._output[node]
            while hit and hit not in seen:
                seen.add(hit)
                start = starts[end + 1 - self._depth[hit]]
                for key in self._keys[hit]:
                    found[key] = min(start, found.get(key, start))
                hit = self._output[hit]
        return found
