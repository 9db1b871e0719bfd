"""Word accuracy of transcripts (speech-to-text tests)."""

import re


def word_accuracy(sentences: list[str], transcripts: list[str]) -> float:
    """1 - word error rate over the sentences (every word counts; case, punctuation and hyphens
    ignored): the word-level edit distance of each transcript to its sentence, over the words."""
    errors = total = 0
    for true, text in zip(sentences, transcripts, strict=True):
        a = re.findall(r"[a-z']+", true.lower().replace("-", " "))
        b = re.findall(r"[a-z']+", text.lower().replace("-", " "))
        row = list(range(len(b) + 1))
        for i in range(1, len(a) + 1):
            diagonal, row[0] = row[0], i
            for j in range(1, len(b) + 1):
                diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1]))
        errors += row[-1]
        total += len(a)
    return 1 - errors / total
