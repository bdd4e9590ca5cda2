from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.segmentation import make_sentencizer, segment

NLP = make_sentencizer()


def test_segmentation_splits_sentences_lines_and_bullets() -> None:
    text = "Funding is short term. Our CL has no time!\n- bid processes take months\n2) HB finance is slow"
    assert [s.text for s in segment(text, NLP)] == [
        "Funding is short term.", "Our CL has no time!", "bid processes take months", "HB finance is slow",
    ]


def test_segmentation_keeps_welsh_characters_and_offsets() -> None:
    text = "Diffyg amser i fynychu cyfarfodydd y clwstwr. Mae'r gŵr a'r ŷd yn dâl."
    segs = segment(text, NLP)
    assert [s.text for s in segs] == ["Diffyg amser i fynychu cyfarfodydd y clwstwr.", "Mae'r gŵr a'r ŷd yn dâl."]
    assert all(text[s.start : s.end] == s.text for s in segs)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc ŵŷâ.!?\n-•1)")), max_size=120))
def test_segmentation_offsets_always_point_at_the_segment(text: str) -> None:
    previous_end = 0
    for seg in segment(text, NLP):
        assert text[seg.start : seg.end] == seg.text
        assert seg.text == seg.text.strip() and seg.text
        assert seg.start >= previous_end
        previous_end = seg.end
