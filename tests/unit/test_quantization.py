"""The quantized types bit for bit against sentence-transformers' ``quantize_embeddings``,
given the same ranges, and the calibration's ranges for a Matryoshka cut."""

from __future__ import annotations

import numpy as np
import pytest
from sentence_transformers.quantization import quantize_embeddings

from app.models.calibration_texts import CALIBRATION_TEXTS
from app.models.quantization import Calibration, quantize, ranges_of, unit_rows

TYPES = ("int8", "uint8", "binary", "ubinary")


def vectors(rows: int, width: int, seed: int) -> np.ndarray:
    return unit_rows(np.random.default_rng(seed).standard_normal((rows, width)).astype(np.float32))


@pytest.mark.parametrize("kind", TYPES)
@pytest.mark.parametrize("width", [64, 37, 384])
def test_same_bytes_as_sentence_transformers(kind: str, width: int) -> None:
    calibration = vectors(100, width, seed=1)
    # other vectors than the calibration's: some values fall outside the ranges (clipped)
    embeddings = vectors(40, width, seed=2)
    ranges = ranges_of(calibration)
    ours = quantize(embeddings, kind, ranges)  # type: ignore[arg-type]
    reference = quantize_embeddings(embeddings, kind, ranges=ranges)
    assert ours.dtype == reference.dtype
    assert ours.shape == reference.shape
    np.testing.assert_array_equal(ours, reference)
    from_calibration = quantize_embeddings(embeddings, kind, calibration_embeddings=calibration)
    np.testing.assert_array_equal(ours, from_calibration)


def test_values_outside_the_range_are_clipped_and_signs_packed_msb_first() -> None:
    ranges = np.array([[-1.0, 0.0], [1.0, 0.5]], dtype=np.float32)
    edge = np.array([[-5.0, 0.25], [5.0, 0.0]], dtype=np.float32)
    np.testing.assert_array_equal(quantize(edge, "uint8", ranges), [[0, 127], [255, 0]])
    np.testing.assert_array_equal(quantize(edge, "int8", ranges), [[-128, -1], [127, -128]])
    # a range's own maximum is bucket 254 in float32 (255 steps make 254.99998), in both
    top = np.array([[1.0, 0.5]], dtype=np.float32)
    np.testing.assert_array_equal(quantize(top, "uint8", ranges), [[254, 254]])
    np.testing.assert_array_equal(
        quantize(top, "uint8", ranges), quantize_embeddings(top, "uint8", ranges=ranges)
    )
    bits = np.array([[1, -1, 1, 1, -1, -1, -1, 1, 0.5]], dtype=np.float32)
    # 10110001, then 1 padded with zeros: 10000000
    np.testing.assert_array_equal(quantize(bits, "ubinary"), [[0b10110001, 0b10000000]])
    np.testing.assert_array_equal(quantize(bits, "binary"), [[0b10110001 - 128, 0]])
    np.testing.assert_array_equal(quantize(bits, "binary"), quantize_embeddings(bits, "binary"))


def test_a_dimension_of_zero_width_has_step_one_as_in_sentence_transformers() -> None:
    calibration = vectors(20, 8, seed=3)
    calibration[:, 2] = 0.125
    embeddings = vectors(5, 8, seed=4)
    ranges = ranges_of(calibration)
    assert ranges[0, 2] == ranges[1, 2]
    for kind in ("int8", "uint8"):
        np.testing.assert_array_equal(
            quantize(embeddings, kind, ranges),  # type: ignore[arg-type]
            quantize_embeddings(embeddings, kind, ranges=ranges),
        )


def test_scalar_types_need_ranges_of_their_width() -> None:
    with pytest.raises(ValueError, match=r"int8 needs ranges of shape \(2, 8\)"):
        quantize(vectors(2, 8, seed=5), "int8", None)
    with pytest.raises(ValueError, match="uint8 needs ranges"):
        quantize(vectors(2, 8, seed=5), "uint8", np.zeros((2, 4), dtype=np.float32))


def test_calibration_ranges_of_a_matryoshka_cut_are_of_the_renormalised_cut() -> None:
    full = vectors(50, 32, seed=6)
    calibration = Calibration(model="m", vectors=full)
    np.testing.assert_array_equal(calibration.ranges(), ranges_of(full))
    np.testing.assert_array_equal(calibration.ranges(32), ranges_of(full))
    cut = unit_rows(full[:, :12])
    np.testing.assert_array_equal(calibration.ranges(12), ranges_of(cut))
    assert calibration.ranges(12) is calibration.ranges(12)  # computed once
    embeddings = unit_rows(vectors(7, 32, seed=7)[:, :12])
    np.testing.assert_array_equal(
        quantize(embeddings, "int8", calibration.ranges(12)),
        quantize_embeddings(embeddings, "int8", calibration_embeddings=cut),
    )
    assert (calibration.texts, calibration.dimension) == (50, 32)
    assert calibration.summary().startswith("quantization calibrated on 50 texts through m: 32")


def test_the_calibration_set_is_fixed_distinct_and_fits_one_request() -> None:
    assert len(CALIBRATION_TEXTS) == len(set(CALIBRATION_TEXTS)) == 127
    assert all(text.strip() == text and text for text in CALIBRATION_TEXTS)
    # one request of the default MAX_SENTENCES_PER_REQUEST (128) embeds it all
    assert len(CALIBRATION_TEXTS) <= 128
