"""Text features on the onnx runtime: the conversion options a TfidfVectorizer/CountVectorizer needs, and where its
converted graph would answer otherwise than scikit-learn (refused before anything is converted).

The locale. skl2onnx lowercases text with ONNX's StringNormalizer, which onnxruntime builds on a C++ locale: with none
named in the graph it asks for en_US.UTF-8, and fails ("Failed to construct locale with name:en_US.UTF-8") on a system
without that language pack. Amazon Linux 2023's minimal installs (glibc-minimal-langpack, as in its container images)
have C, POSIX and C.UTF-8 only, and nothing guarantees an Elastic Beanstalk instance more: every vectorizer is
converted with LOCALE, which the smallest AL2023 install has (and glibc builds in since 2.35), so the graph needs
nothing the instance may lack. The proof runs the graph with that locale on the converting machine: one without it
(not seen on Linux) has the conversion refused with onnxruntime's message.

The tokenizer. onnxruntime's Tokenizer matches the token pattern with RE2, whose \\w is ASCII only, where Python's
re (scikit-learn) matches any Unicode letter: a vocabulary word with another letter (café, straße) can never be
matched in the graph, and the model would silently answer otherwise. Such a vectorizer is refused, naming the words.

Word n-grams. scikit-learn drops the tokens its pattern does not match (one-character words: "a", "I", "x", "7")
before it forms pairs, so in "rude x delivery" it counts the pair "rude delivery"; the converted graph forms its pairs
otherwise, and does not count it. A tester's bigram model passed the proof on a sample without such words, then
differed by up to 0.21 in probability (11 labels of 400) on text with them. So a vectorizer with ngram_range beyond
single words is refused: the proof on a sample cannot vouch for text it does not contain.
"""

LOCALE = "C.UTF-8"
VECTORIZERS = ("TfidfVectorizer", "CountVectorizer")


def vectorizers(steps):
    """The fitted TfidfVectorizer/CountVectorizer among `steps` ((path, estimator) pairs)."""
    return [(path, step) for path, step in steps if type(step).__name__ in VECTORIZERS]


def options(steps):
    """skl2onnx options for every vectorizer (by the fitted instance's id, as convert_sklearn keys them)."""
    return dict((id(step), {"locale": LOCALE}) for _path, step in vectorizers(steps))


def difference(steps):
    """(where, why) of the first vectorizer whose converted graph would tokenize otherwise than scikit-learn, or
    None."""
    for path, step in vectorizers(steps):
        where = "step %s (%s)" % ("/".join(path), type(step).__name__)
        if getattr(step, "analyzer", "word") != "word" or getattr(step, "tokenizer", None) is not None:
            # skl2onnx refuses a custom tokenizer, char_wb and strip_accents itself, naming them; char n-grams it
            # converts with a warning, and the proof on the rows decides
            continue
        longest = max(getattr(step, "ngram_range", (1, 1)))
        if longest > 1:
            return where, (
                "it counts word n-grams up to %d words (ngram_range=%r), and scikit-learn forms them after dropping "
                "the words its token pattern skips (one-character words such as 'a' or 'x'), which the converted "
                "graph does not: on such text the model would answer otherwise than scikit-learn. Use "
                "ngram_range=(1, 1) for the onnx runtime" % (longest, tuple(step.ngram_range))
            )
        unmatched = sorted(word for word in getattr(step, "vocabulary_", {}) if not word.isascii())
        if unmatched:
            return where, (
                "onnxruntime's tokenizer matches words of ASCII letters only (RE2's \\w), so %d of its %d vocabulary "
                "words would never match in the converted graph (%s), and the model would answer otherwise than "
                "scikit-learn"
                % (
                    len(unmatched),
                    len(step.vocabulary_),
                    ", ".join(unmatched[:5]) + (", ..." if len(unmatched) > 5 else ""),
                )
            )
    return None
