"""Training the coach's models from the corpus, measuring them on the test split, and
writing the artefacts the coach loads: ``model/tfidf-logreg.npz``, ``model/minilm-logreg.npz``
(when the ``coach`` extra is installed), ``model/static-logreg.npz`` (when the distilled
table is there: ``static.py``) and ``model/manifest.json``, which names the model with
the best macro-F1 on the test split and keeps every model's figures.

Training needs scikit-learn (the ``train`` extra); the shipped artefacts are plain
arrays, read back with numpy alone. Models train on the train split only; the figures
are on the test split only (see ``corpus.py`` for the split).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reconnect.coach import embedding, keywords, light, static, tuned
from reconnect.coach.corpus import (
    CORPUS_DIR,
    TEST_EVERY,
    CorpusError,
    Example,
    load,
    load_several,
    parts_to_learn,
    split,
)
from reconnect.coach.features import terms
from reconnect.coach.labels import LABELS
from reconnect.coach.light import MANIFEST
from reconnect.coach.scoring import Score, confusion_table, score

C_GRID = (1.0, 3.0, 10.0, 30.0)
"""The inverse regularisation strengths tried, by cross-validation on the train split."""
BLEND_GRID = (0.3, 0.4, 0.5, 0.6, 0.7)
"""The light model's shares tried in the blend, by cross-validation on the train split."""
SEED = 7
SORTED = sorted(LABELS)
"""scikit-learn's order of the classes (and of its probability columns)."""


class TrainingError(Exception):
    """The corpus or the environment cannot train the coach; the message says why."""


@dataclass
class Report:
    train_count: int
    test_count: int
    several_parts: int = 0
    """Of ``train_count``, the parts of several-part messages (``corpus.SEVERAL``)."""
    scores: dict[str, Score] = field(default_factory=dict)
    chosen: str = keywords.NAME
    settings: dict[str, dict[str, object]] = field(default_factory=dict)

    def manifest(self) -> dict[str, object]:
        return {
            "chosen": self.chosen,
            "split": f"every {TEST_EVERY}rd message of each label is test",
            "train_count": self.train_count,
            "several_parts": self.several_parts,
            "test_count": self.test_count,
            "settings": self.settings,
            "test_scores": {name: s.to_dict() for name, s in self.scores.items()},
        }


def _sklearn() -> Any:
    try:
        import sklearn  # noqa: F401
    except ImportError as error:
        raise TrainingError(
            "Training needs scikit-learn: pip install 'reconnect[train]'"
        ) from error
    from sklearn import feature_extraction, linear_model, model_selection

    return feature_extraction, linear_model, model_selection


def _check(train: Sequence[Example], test: Sequence[Example]) -> None:
    for label in LABELS:
        in_train = sum(1 for e in train if e.label == label)
        in_test = sum(1 for e in test if e.label == label)
        if in_train < 2 or in_test < 1:
            raise TrainingError(
                f"The corpus needs at least 3 messages labelled {label!r} "
                f"({in_train} for training and {in_test} for testing now)."
            )


def _best_c(x: Any, y: Sequence[str], folds: int) -> tuple[float, float, np.ndarray]:
    """The regularisation with the best macro-F1 over folds of the train split, that
    macro-F1, and the out-of-fold probabilities it gave (columns in sorted label order)."""
    _, linear_model, model_selection = _sklearn()
    splitter = model_selection.StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    best: tuple[float, float, np.ndarray] | None = None
    for c in C_GRID:
        model = linear_model.LogisticRegression(C=c, max_iter=5000)
        held_out = model_selection.cross_val_predict(
            model, x, y, cv=splitter, method="predict_proba"
        )
        f1 = score(y, [SORTED[i] for i in held_out.argmax(axis=1)]).macro_f1
        if best is None or f1 > best[1] + 1e-9:
            best = (c, f1, held_out)
    if best is None:
        raise TrainingError("No regularisation strength to try.")
    return best


def _best_blend(
    y: Sequence[str], light_held_out: np.ndarray, embedding_held_out: np.ndarray
) -> tuple[float, float]:
    """The share of the light model in the blend with the best macro-F1 over the folds."""
    best = (BLEND_GRID[0], -1.0)
    for share in BLEND_GRID:
        blend = share * light_held_out + (1 - share) * embedding_held_out
        f1 = score(y, [SORTED[i] for i in blend.argmax(axis=1)]).macro_f1
        if f1 > best[1] + 1e-9:
            best = (share, f1)
    return best


def _folds(train: Sequence[Example]) -> int:
    smallest = min(sum(1 for e in train if e.label == label) for label in LABELS)
    return max(2, min(5, smallest))


def train_light(
    train: Sequence[Example], echo: Callable[[str], None]
) -> tuple[light.LightModel, dict[str, object], np.ndarray]:
    """TF-IDF over ``features.terms`` and a logistic regression, exported to numpy arrays;
    with its settings and its out-of-fold probabilities on the train split."""
    feature_extraction, linear_model, _ = _sklearn()
    vectorizer = feature_extraction.text.TfidfVectorizer(
        analyzer=terms, sublinear_tf=True, min_df=2, norm="l2"
    )
    x = vectorizer.fit_transform([e.text for e in train])
    y = [e.label for e in train]
    c, cv_f1, held_out = _best_c(x, y, _folds(train))
    echo(f"  {light.NAME}: {x.shape[1]} terms, C={c} (cross-validated macro-F1 {cv_f1:.3f})")
    classifier = linear_model.LogisticRegression(C=c, max_iter=5000).fit(x, y)
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    model = light.LightModel(
        vocabulary,
        vectorizer.idf_,
        classifier.coef_,
        classifier.intercept_,
        [str(label) for label in classifier.classes_],
    )
    settings: dict[str, object] = {"C": c, "terms": len(vocabulary), "cv_macro_f1": round(cv_f1, 4)}
    return model, settings, held_out


def train_embedding(
    train: Sequence[Example],
    encoder: Any,
    echo: Callable[[str], None],
    kind: type[embedding.EmbeddingModel] = embedding.EmbeddingModel,
) -> tuple[embedding.EmbeddingModel, dict[str, object], np.ndarray]:
    """A logistic-regression head over an encoder's vectors (MiniLM's sentence
    embeddings, or the static table's); with its settings and its out-of-fold
    probabilities on the train split."""
    _, linear_model, _ = _sklearn()
    x = embedding.embed(encoder, [e.text for e in train])
    y = [e.label for e in train]
    c, cv_f1, held_out = _best_c(x, y, _folds(train))
    echo(f"  {kind.name}: {x.shape[1]} dimensions, C={c} (cross-validated macro-F1 {cv_f1:.3f})")
    classifier = linear_model.LogisticRegression(C=c, max_iter=5000).fit(x, y)
    model = kind(
        encoder,
        classifier.coef_,
        classifier.intercept_,
        [str(label) for label in classifier.classes_],
    )
    settings: dict[str, object] = {
        "C": c,
        "dimensions": int(x.shape[1]),
        "cv_macro_f1": round(cv_f1, 4),
    }
    return model, settings, held_out


def _train_head(
    kind: type[embedding.EmbeddingModel],
    blend_name: str,
    encoder: Any,
    report: Report,
    light_run: tuple[np.ndarray, np.ndarray],
    splits: tuple[Sequence[Example], Sequence[Example]],
    path: Path,
    echo: Callable[[str], None],
) -> None:
    """Train a head over ``encoder``, measure it alone and blended with the light model
    (``light_run``: the light model's out-of-fold and test probabilities), and save it
    with the light model's share of the blend."""
    train_set, test_set = splits
    model, report.settings[kind.name], held_out = train_embedding(train_set, encoder, echo, kind)
    tested = model.head(embedding.embed(encoder, [e.text for e in test_set]))
    truth = [e.label for e in test_set]
    report.scores[kind.name] = score(truth, _labels_of(tested))
    light_held_out, light_test = light_run
    share, cv_f1 = _best_blend([e.label for e in train_set], light_held_out, held_out)
    echo(f"  {blend_name}: light share {share} (cross-validated macro-F1 {cv_f1:.3f})")
    report.settings[blend_name] = {"light_share": share, "cv_macro_f1": round(cv_f1, 4)}
    report.scores[blend_name] = score(truth, _labels_of(share * light_test + (1 - share) * tested))
    model.light_share = share
    model.save(path)


def _labels_of(probabilities: np.ndarray) -> list[str]:
    """The top label of each row of probabilities in the order of ``LABELS``."""
    return [LABELS[i] for i in probabilities.argmax(axis=1)]


def _corpus(
    corpus_dir: Path,
) -> tuple[list[Example], list[Example], list[Example], list[Example]]:
    """The corpus's messages, the train split (with the several-part messages' parts),
    the test split, and those parts."""
    examples = load(corpus_dir)
    train_set, test_set = split(examples)
    _check(train_set, test_set)
    try:
        parts = parts_to_learn(load_several(corpus_dir))
    except CorpusError as error:
        raise TrainingError(str(error)) from error
    _sklearn()
    return examples, train_set + parts, test_set, parts


def train(
    corpus_dir: Path = CORPUS_DIR,
    out_dir: Path = light.MODEL_DIR,
    with_embedding: bool | None = None,
    echo: Callable[[str], None] = print,
) -> Report:
    """Train every model that can be trained here, measure each on the test split, and
    write the artefacts and the manifest into ``out_dir``.

    ``with_embedding``: None trains MiniLM's models when the ``coach`` extra is
    installed, and the static models when their distilled table is there; True requires
    the extra; False trains the light model only (and keeps no stale head of the others).
    """
    examples, train_set, test_set, parts = _corpus(corpus_dir)
    if with_embedding and not embedding.available():
        raise TrainingError(
            "The embedding model needs the coach extra: pip install 'reconnect[coach]'"
        )
    use_embedding = embedding.available() if with_embedding is None else with_embedding
    echo(
        f"Corpus: {len(examples)} messages; {len(train_set) - len(parts)} to train, "
        f"{len(test_set)} to test; and {len(parts)} parts of messages that say several things."
    )
    truth = [e.label for e in test_set]
    report = Report(len(train_set), len(test_set), len(parts))
    report.scores[keywords.NAME] = score(
        truth, _labels_of(np.array([keywords.probabilities(e.text) for e in test_set]))
    )

    echo("Training on the train split:")
    light_model, report.settings[light.NAME], light_held_out = train_light(train_set, echo)
    light_test = np.array([light_model.probabilities(e.text) for e in test_set])
    report.scores[light.NAME] = score(truth, _labels_of(light_test))
    out_dir.mkdir(parents=True, exist_ok=True)
    light_model.save(out_dir / light.ARTEFACT.name)

    heads: list[tuple[type[embedding.EmbeddingModel], str, Callable[[], Any], bool]] = [
        (embedding.EmbeddingModel, embedding.BLEND, embedding.encoder, use_embedding),
        (
            static.StaticModel,
            static.BLEND,
            static.encoder,
            static.available() and with_embedding is not False,
        ),
    ]
    for kind, blend_name, make_encoder, wanted in heads:
        path = out_dir / kind.artefact.name
        if wanted:
            echo(f"  {kind.name}: reading the corpus on the CPU...")
            _train_head(
                kind, blend_name, make_encoder(), report, (light_held_out, light_test),
                (train_set, test_set), path, echo,
            )  # fmt: skip
        elif path.exists():  # no stale head of a model not trained this time
            path.unlink()

    tuned_path = out_dir / tuned.ARTEFACT.name
    if tuned_path.is_file() and with_embedding is not False:
        _measure_tuned(tuned.TunedModel.load(tuned_path), report, light_test, test_set)
    trained = [name for name in report.scores if name != keywords.NAME]
    report.chosen = max(trained, key=lambda name: report.scores[name].macro_f1)
    manifest = json.dumps(report.manifest(), indent=2) + "\n"
    (out_dir / MANIFEST).write_text(manifest, encoding="utf-8")

    echo("Test split (macro-F1, accuracy):")
    for name, s in report.scores.items():
        echo(f"  {name:<14} {s.macro_f1:.3f}  {s.accuracy:.3f}")
    echo(f"Chosen: {report.chosen}. On the test split, by label (rows: the message's label):")
    for line in confusion_table(report.scores[report.chosen]):
        echo(line)
    echo(f"Artefacts written to {out_dir}.")
    return report


def _measure_tuned(
    model: tuned.TunedModel, report: Report, light_test: np.ndarray, test_set: Sequence[Example]
) -> None:
    """The tuned model, alone and blended, on the test split (tuning made it; ``tune``)."""
    truth = [e.label for e in test_set]
    tested = np.array([model.probabilities(e.text) for e in test_set])
    share = model.light_share
    report.scores[tuned.NAME] = score(truth, _labels_of(tested))
    report.scores[tuned.BLEND] = score(truth, _labels_of(share * light_test + (1 - share) * tested))
    report.settings[tuned.BLEND] = {"light_share": share, "layers": len(model.layers)}


def tune(
    corpus_dir: Path = CORPUS_DIR,
    out_dir: Path = light.MODEL_DIR,
    echo: Callable[[str], None] = print,
) -> Path:
    """Fine-tune the tuned model (``tuned.py``) on the train split and write it into
    ``out_dir``. Needs the ``coach`` extra and scikit-learn.

    Every fifth training message is first held back: the model tuned on the rest reads
    them, beside the light model's out-of-fold reading of them, to choose the light
    model's share in the blend. Then the model is tuned again on the whole train split.
    The test split is never read here; ``train`` measures on it.
    """
    if not embedding.available():
        raise TrainingError("Tuning needs the coach extra: pip install 'reconnect[coach]'")
    _, train_set, _, _ = _corpus(corpus_dir)
    _, _, light_held_out = train_light(train_set, echo)
    rest = [e for i, e in enumerate(train_set) if i % tuned.VALIDATE_EVERY]
    held = [i for i in range(len(train_set)) if not i % tuned.VALIDATE_EVERY]
    echo(f"Tuning on {len(rest)} messages; {len(held)} held back to choose the blend's share.")
    first = tuned.TunedModel(tuned.fine_tune([e.text for e in rest], [e.label for e in rest], echo))
    to_sorted = [LABELS.index(label) for label in SORTED]
    read = np.array([first.probabilities(train_set[i].text) for i in held])[:, to_sorted]
    held_truth = [train_set[i].label for i in held]
    alone = score(held_truth, [SORTED[i] for i in read.argmax(axis=1)]).macro_f1
    share, blended = _best_blend(held_truth, light_held_out[held], read)
    echo(
        f"  {tuned.NAME}: macro-F1 {alone:.3f} on the held-back messages; "
        f"{tuned.BLEND}: light share {share} ({blended:.3f})"
    )
    echo(f"Tuning on all {len(train_set)} messages of the train split:")
    arrays = tuned.fine_tune([e.text for e in train_set], [e.label for e in train_set], echo)
    arrays["light_share"] = np.array(share)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / tuned.ARTEFACT.name
    saved: dict[str, Any] = arrays  # numpy 1.26 reads every keyword as an array's name
    np.savez_compressed(path, **saved)
    return path
