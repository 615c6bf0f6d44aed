"""Which sampled tokens belong to an answer, on a fake vocabulary (no model needed)."""

from __future__ import annotations

from nbplayground.adapters.llamacpp_logprobs import Step, token_logprobs

PIECES = {1: b"Caf", 2: b"\xc3", 3: b"\xa9", 4: b" ok", 5: b"", 6: b" more"}


class FakeVocabulary:
    def detokenize(self, tokens: list[int], special: bool = False) -> bytes:
        return b"".join(PIECES[t] for t in tokens)


def steps(*ids: int) -> list[Step]:
    return [Step(t, -0.5 * i, ((t, -0.5 * i), (6, -9.0))) for i, t in enumerate(ids)]


def test_a_character_split_over_two_tokens_belongs_to_the_second() -> None:
    out = token_logprobs(FakeVocabulary(), steps(1, 2, 3, 4), "Café ok")  # type: ignore[arg-type]
    assert [t["token"] for t in out] == ["Caf", "", "é", " ok"]
    assert "".join(t["token"] for t in out) == "Café ok"
    assert [t["logprob"] for t in out] == [0.0, -0.5, -1.0, -1.5]
    assert out[0]["top_logprobs"] == [{"token": "Caf", "logprob": 0.0},
                                      {"token": " more", "logprob": -9.0}]


def test_the_end_of_turn_and_what_came_after_the_answer_are_left_out() -> None:
    vocab = FakeVocabulary()
    ended = token_logprobs(vocab, steps(1, 4, 5), "Caf ok")  # type: ignore[arg-type]
    assert [t["token"] for t in ended] == ["Caf", " ok"]
    cut = token_logprobs(vocab, steps(1, 4, 6, 6), "Caf o")  # type: ignore[arg-type]
    assert [t["token"] for t in cut] == ["Caf", " ok"]  # " ok" reached into the stop
    assert token_logprobs(vocab, steps(5), "") == ()  # type: ignore[arg-type]
