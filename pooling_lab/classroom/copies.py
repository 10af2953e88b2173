"""Near-identical answers: two submissions alike, or an answer that is the package's own code.

The answers (the cells defining the exercises) are fingerprinted with ``copydetect``, the
winnowing of MOSS: names, strings and comments are normalised away, so renaming variables does
not hide a copy, and what the released notebooks already hold (the stubs) is left out. A pair
is listed when the shared code is at least :data:`SHARED_CHARACTERS` long and makes up at least
:data:`SIMILAR` of one side's code. The list is for the teacher to read: no mark changes.
"""

import io
import itertools

from .release import ROOT
from .sandbox import course_sources

#: The code an answer may have been copied from: the styles, the layers, the solutions.
REFERENCES = [*(ROOT / "pooling_lab" / f"{name}.py" for name in
                ("naive", "stacked", "strided", "fast", "layers")),
              *sorted((ROOT / "notebooks" / "solutions").glob("nb*.py"))]
SIMILAR = 0.8                 # of one side's fingerprinted code shared with the other
SHARED_CHARACTERS = 100       # of normalised code shared, at least: one-liners are alike anyway
NOISE, GUARANTEE = 25, 30     # copydetect's k-gram length and the length always detected
LONGEST = 50_000              # characters of a submission's answers compared, at most


def _fingerprint(label: str, code: str, boilerplate=()):
    from copydetect import CodeFingerprint
    return CodeFingerprint(f"{label}.py", NOISE, GUARANTEE - NOISE + 1, list(boilerplate),
                           fp=io.StringIO(code))


def find_copies(answers: dict) -> list[tuple[str, str, float]] | None:
    """``[(submission, like, similarity)]``, most similar first: ``answers`` maps a submission's
    name to ``{exercise: source}``. Submissions are compared whole, with each other; each answer
    alone with each reference file (how much of the answer is found there). None without
    copydetect (``pip install pooling_lab[classroom]``)."""
    try:
        from copydetect import compare_files
    except ImportError:
        return None
    # The released notebooks' code: every student starts from it.
    stubs = set(_fingerprint("stubs", "\n".join(sorted(course_sources()))).hashes)
    documents = {name: "\n\n".join(code.values()) for name, code in answers.items() if code}
    documents |= {f"{name} ({exercise})": source for name, code in answers.items()
                  for exercise, source in code.items()}
    prints = {name: _fingerprint("answer", code[:LONGEST], stubs)
              for name, code in documents.items()}
    prints = {name: found for name, found in prints.items() if found.token_coverage}
    references = {path.relative_to(ROOT).as_posix(): _fingerprint(path.stem, path.read_text(
        encoding="utf-8"), stubs) for path in REFERENCES if path.is_file()}
    whole = [name for name in prints if name in answers]
    found = []
    for one, other in [*itertools.combinations(whole, 2),
                       *itertools.product(set(prints) - set(whole), references)]:
        shared, similarities, _ = compare_files(prints[one], prints.get(other) or
                                                references[other])
        score = max(similarities) if other in prints else similarities[0]
        if shared >= SHARED_CHARACTERS and score >= SIMILAR:
            found.append((one, other, float(score)))
    return sorted(found, key=lambda pair: (-pair[2], pair[0]))
