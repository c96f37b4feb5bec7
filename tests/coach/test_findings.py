"""The coach's findings: every concern and opening marker in a message, each pointing
at its words; known traps handled before any model; silence when it is not sure."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconnect import coach
from reconnect.coach import embedding, light, tuned
from reconnect.coach.findings import NON_APOLOGY, ORDER, TURNED_APOLOGY, Finding, find
from reconnect.notes import store as notes
from tests.coach.extra import need
from tests.coach.stand_in import fake_reader

# A new user's message: blame, minimizing, pressing and a non-apology at once.
SEVERAL = (
    "You always overreact. It was just one mistake, can we move on already? "
    "I'm sorry you feel that way."
)


@pytest.fixture
def with_model() -> Iterator[None]:
    yield
    coach.use(None)


def words(text: str, found: list[Finding]) -> list[tuple[str, str]]:
    return [(f.label, text[f.start : f.end]) for f in found]


def always(label: str, confidence: float = 0.95):
    """A model that reads every text the same way, however wrong."""
    return lambda text: fake_reader({text.strip(): (label, confidence)})(text)


@pytest.mark.parametrize("model", [light.NAME, tuned.BLEND, embedding.BLEND])
def test_a_message_saying_four_things_gets_four_findings_at_their_words(with_model, model):
    if model == embedding.BLEND:
        need("torch", "sentence_transformers")
    coach.use(model)
    found = find(SEVERAL)
    assert sorted(words(SEVERAL, found)) == sorted(
        [
            ("blame", "You always overreact."),
            ("minimizing", "It was just one mistake"),
            ("pressuring_forgiveness", "can we move on already?"),
            (NON_APOLOGY, "I'm sorry you feel that way."),
        ]
    )
    # What most needs a second look comes first; each concern has another way in.
    assert [f.label for f in found] == sorted((f.label for f in found), key=ORDER.index)
    assert all(f.suggestion for f in found)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I'm sorry you feel that way.", NON_APOLOGY),
        ("sorry if you were hurt", NON_APOLOGY),
        ("Sorry you're upset.", NON_APOLOGY),
        ("I'm sorry that you’re hurt.", NON_APOLOGY),
        ("I'm sorry if that upset you.", NON_APOLOGY),
        ("sorry ur upset", NON_APOLOGY),
        ("Sorry u still feel hurt.", NON_APOLOGY),
        ("I'm sorry you didn't like my answer.", NON_APOLOGY),
        ("I apologise if my choices caused you pain.", NON_APOLOGY),
        ("I'm sorry, but you have to understand how stressed I was.", TURNED_APOLOGY),
        ("sry but that is such a stretch.", TURNED_APOLOGY),
        ("When will you be over this?", "pressuring_forgiveness"),
        ("Isn't it time to let it go?", "pressuring_forgiveness"),
        ("Oh great, another lecture.", "contempt"),
        ("Yeah right, like you never lie.", "contempt"),
        ("You're overreacting.", "minimizing"),
    ],
)
def test_known_traps_are_named_whatever_the_model_reads(text, label):
    # Even a model that reads everything as owning one's part cannot praise these.
    assert words(text, find(text, read=always("ownership"))) == [(label, text)]


@pytest.mark.parametrize(
    "text", ["hi", "Hey there!", "Good morning love", "ok", "thanks", "On my way x", "bye"]
)
def test_greetings_and_small_talk_get_nothing(text):
    assert find(text, read=always("ownership")) == []
    assert find(text, read=always("blame")) == []


def test_sorry_for_the_others_day_is_left_to_the_model():
    """Text-speak "ur" is "you're" and "your" both: sorry for their bad day is not a
    non-apology."""
    text = "sorry ur day was rough, want me to grab dinner?"
    assert find(text, read=always("validation")) == [
        Finding("validation", 0, len(text), 0.95, None)
    ]


def test_not_being_told_you_overreact_is_not_a_concern():
    text = "You're not overreacting; anyone would be shaken."
    assert find(text, read=always("validation")) == [
        Finding("validation", 0, len(text), 0.95, None)
    ]


def test_an_unsure_reading_says_nothing_rather_than_praise_or_warn():
    text = "We could talk about the weekend plans later tonight."
    assert find(text, read=always("ownership", 0.55)) == []  # praise needs 0.6
    assert find(text, read=always("blame", 0.4)) == []  # a concern needs 0.45
    assert find("I'm here.", read=always("presence", 0.9)) == []  # too short to praise


def test_a_kind_message_is_not_warned_about_on_a_guess():
    """Read whole, a real apology reads as owning; one short sentence of it leaning to
    a concern is not enough to warn about, unless the coach is sure of it."""
    text = "I lied to you for months. No excuses. I chose it, and I'm sorry."

    def reading(concern: float):
        def read(part: str) -> coach.Reading:
            if part == "No excuses.":
                return always("defensiveness", concern)(part)
            return always("ownership", 0.9)(part)

        return read

    assert [f.label for f in find(text, read=reading(0.7))] == ["ownership", "ownership"]
    assert words(text, find(text, read=reading(0.85)))[0] == ("defensiveness", "No excuses.")
    # A message that does not read as kind keeps the usual bar.
    lean = "No excuses. It was not a big deal."
    assert {f.label for f in find(lean, read=always("defensiveness", 0.5))} == {"defensiveness"}


def test_a_sentence_whose_clauses_agree_is_one_finding():
    text = "I hear how much this hurt you, and your anger makes sense to me."
    reader = fake_reader(
        {
            text: ("validation", 0.8),
            "I hear how much this hurt you": ("validation", 0.7),
            "and your anger makes sense to me.": ("validation", 0.9),
        }
    )
    assert words(text, find(text, read=reader)) == [("validation", text)]


def test_a_clause_that_misleads_alone_is_read_with_its_sentence():
    text = "I'm not going anywhere, take all the time you need."
    reader = fake_reader({text: ("presence", 0.8), "I'm not going anywhere": ("stonewalling", 0.6)})
    assert words(text, find(text, read=reader)) == [("presence", text)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(max_size=300)
    | st.lists(
        st.sampled_from(
            [
                "You always overreact.",
                " It was just one mistake, can we move on already?",
                " I'm sorry you feel that way.",
                "\n\nhi",
                " I lied to you, and it was wrong… ",
                " Oh great, another lecture!",
                "  ",
                "“Sorry, but” is not sorry.",
                "😔 ",
            ]
        ),
        max_size=8,
    ).map("".join)
)
def test_findings_point_at_words_of_the_text_sent_and_never_overlap(text):
    found = find(text, read=always("ownership", 0.7))
    spans = sorted((f.start, f.end) for f in found)
    for start, end in spans:
        assert 0 <= start < end <= len(text)
        assert text[start:end].strip() == text[start:end]
        assert any(c.isalnum() for c in text[start:end])
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    # The page cuts the text at them without losing or adding a character.
    hint = notes.Hint("closing", None, "", None, tuple(found))
    assert "".join(piece for piece, _ in hint.marked(text)) == text
    assert [n for _, n in hint.marked(text) if n] == sorted(
        range(1, len(found) + 1), key=lambda n: found[n - 1].start
    )


def test_what_a_new_user_tried_reads_calmly_on_the_page(with_model):
    # The light model alone reads "hi" as owning one's part, and the non-apology as
    # making room for feelings: the page now follows the findings, not that lean.
    coach.use(light.NAME)
    hi = notes.preview("hi")
    assert (hi.tone, hi.findings, hi.message) == ("neutral", (), notes.NOTHING_STOOD_OUT)
    sorry = notes.preview("I'm sorry you feel that way")
    assert (sorry.tone, sorry.label) == ("closing", NON_APOLOGY)
    several = notes.preview(SEVERAL)
    assert (several.tone, len(several.findings)) == ("closing", 4)


def test_the_embedding_model_reads_a_messages_parts_in_one_batch(with_model, monkeypatch):
    need("torch", "sentence_transformers")
    coach.use(embedding.BLEND)
    batches: list[int] = []
    embed = embedding.embed

    def counted(model, texts, batch_size=32):
        batches.append(len(texts))
        return embed(model, texts, batch_size)

    monkeypatch.setattr(embedding, "embed", counted)
    # Parts the known phrasings do not decide go to the model: here at least two.
    text = f"{SEVERAL} I do not want to talk about this any more."
    alone = [(f.label, f.start, f.end) for f in find(text, read=coach.read)]
    assert len(batches) > 1  # read part by part, as a caller's own reader does
    batches.clear()
    together = [(f.label, f.start, f.end) for f in find(text)]
    assert len(batches) == 1 and batches[0] > 1
    assert together == alone
