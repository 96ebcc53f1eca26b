"""HyRe views: what the encoder reads of an augmented job, in training and in serving."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agentic_match.augment.hyre import HyReConfig, augmented_document
from agentic_match.data.schema import Document
from agentic_match.errors import ConfigError
from agentic_match.retrieval.encoder import BiEncoder, EncoderSettings
from agentic_match.retrieval.hyre_view import HyReView, hyre_parts, hyre_share_in_window, views
from agentic_match.retrieval.losses import fuse_embeddings

POST = "ICU nurse wanted. " + "Care for critically ill patients on night shifts. " * 40
GENERATED = "Registered nurse, 6 years in intensive care; ventilators, triage, BLS and ACLS certified. " * 14


@pytest.fixture(scope="module")
def encoder() -> BiEncoder:
    return BiEncoder.load("all-minilm-l6-v2")


@pytest.fixture
def job() -> Document:
    return augmented_document(Document("j1", "job", text=POST), GENERATED, HyReConfig())


def test_the_post_is_recovered_exactly_from_an_augmented_job(job):
    post, sep, generated = hyre_parts(job)
    assert post == POST.strip() or post == POST
    assert generated == GENERATED.strip() and sep == HyReConfig().separator
    assert hyre_parts(Document("j2", "job", text=POST)) is None
    replaced = augmented_document(Document("j3", "job", text=POST), GENERATED, HyReConfig(mode="replace"))
    assert hyre_parts(replaced) == (None, "", GENERATED.strip())


def test_append_leaves_nothing_of_the_generated_text_in_a_full_window(job, encoder):
    """The paper's concatenation, with a post that fills the window: HyRe never reaches the model."""
    tok = encoder.model.tokenizer
    assert hyre_share_in_window(job, HyReView(mode="append"), tok, 256) == 0.0
    assert hyre_share_in_window(Document("j2", "job", text=POST), HyReView(), tok, 256) is None


@pytest.mark.parametrize("share", [0.25, 0.5, 0.75])
def test_budget_gives_the_generated_text_its_share_of_the_window(job, encoder, share):
    tok = encoder.model.tokenizer
    ((text, weight),) = views(job, HyReView(mode="budget", share=share), tok, 256)
    assert weight == 1.0 and len(tok(text)["input_ids"]) <= 256 + 2
    got = hyre_share_in_window(job, HyReView(mode="budget", share=share), tok, 256)
    assert abs(got - share) < 0.06
    assert text.startswith("ICU nurse wanted.") and HyReConfig().separator in text


def test_a_short_post_leaves_its_room_to_the_generated_text(encoder):
    short = augmented_document(Document("j1", "job", text="Nurse, ICU."), GENERATED, HyReConfig())
    tok = encoder.model.tokenizer
    view = HyReView(mode="budget", share=0.25)
    ((text, _),) = views(short, view, tok, 256)
    assert text.startswith("Nurse, ICU.") and hyre_share_in_window(short, view, tok, 256) > 0.8


def test_first_alone_and_fusion(job, encoder):
    tok = encoder.model.tokenizer
    ((first, _),) = views(job, HyReView(mode="first"), tok, 256)
    assert first.startswith(GENERATED.strip()[:40])
    assert views(job, HyReView(mode="alone"), tok, 256) == [(GENERATED.strip(), 1.0)]
    fusion = views(job, HyReView(mode="fusion", weight=0.25), tok, 256)
    assert fusion == [(hyre_parts(job)[0], 0.75), (GENERATED.strip(), 0.25)]
    with pytest.raises(ConfigError):
        HyReView(mode="mean")


def test_fusion_vector_is_the_weighted_mean_the_training_loss_uses(job, encoder):
    fused = BiEncoder(encoder.model, EncoderSettings(hyre=HyReView(mode="fusion", weight=0.25)), memoize=False)
    post_vec, gen_vec = encoder.encode([hyre_parts(job)[0], GENERATED.strip()])
    expected = 0.75 * post_vec + 0.25 * gen_vec
    expected /= np.linalg.norm(expected)
    got = fused.encode([job])[0]
    assert np.allclose(got, expected, atol=1e-5)
    # the training loss fuses the same way
    torch_fused = fuse_embeddings(
        torch.tensor(post_vec[None]), torch.tensor(gen_vec[None]), torch.tensor([0]), torch.tensor([0.25])
    )
    assert np.allclose(torch_fused.numpy()[0], expected, atol=1e-5)
    # and a plain document is unchanged by the view
    assert np.allclose(fused.encode(["Nurse"]), encoder.encode(["Nurse"]), atol=1e-6)


def test_the_view_is_saved_with_the_model_and_in_its_fingerprint(tmp_path, encoder):
    enc = BiEncoder(encoder.model, EncoderSettings(hyre=HyReView(mode="fusion", weight=0.4)))
    enc.save(tmp_path / "m")
    back = BiEncoder.load(tmp_path / "m")
    assert back.settings.hyre == HyReView(mode="fusion", weight=0.4)
    other = BiEncoder.load(tmp_path / "m", hyre=HyReView(mode="budget"))
    assert back.fingerprint() != other.fingerprint()
