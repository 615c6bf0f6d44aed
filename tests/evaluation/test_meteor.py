"""metric='meteor' works offline: nltk's METEOR over WordNet 3.0 copied to LF from `wn` 0.0.23."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from nbplayground import NbPlaygroundError, Playground
from nbplayground import scorers as s
from nbplayground.evaluation import Answer, ScoringPlan, metrics, wordnet

GUIDE = "It is a guide to action which ensures that the military always obeys the commands of " \
        "the party"
GUIDE_REF = "It is a guide to action that ensures that the military will forever heed Party " \
            "commands"


@pytest.mark.parametrize(("reference", "answer", "expected"), [
    # nltk/test/meteor.doctest (Wikipedia's examples and nltk issue #2751)
    ("The candidate has no alignment to any of the references", "John loves Mary", 0.0),
    ("The cat sat on the mat", "The cat sat on the mat", 0.9977),
    ("The cat sat on the mat", "on the mat sat the cat", 0.5),
    ("The cat sat on the mat", "The cat was sat on the mat", 0.9654),
    ("create or update a vm set", "creates or updates a virtual machine scale set", 0.7806),
    # nltk.translate.meteor_score.single_meteor_score's docstring
    (GUIDE_REF, GUIDE, 0.6944),
    ("this is a cat", "non matching hypothesis", 0.0),
])
def test_meteor_gives_nltks_own_documented_values(reference: str, answer: str,
                                                   expected: float) -> None:
    assert round(metrics.meteor(answer, reference), 4) == expected


def test_synonyms_match_through_wordnet() -> None:
    # "car" and "auto" share car.n.01 (neither changes under the Porter stemmer): with
    # WordNet they match like equal words; without it they would score as "banana" does.
    same = metrics.meteor("the car is fast", "the car is fast")
    assert metrics.meteor("the car is fast", "the auto is fast") == pytest.approx(same)
    assert metrics.meteor("the banana is fast", "the auto is fast") < same - 0.3
    assert wordnet.reader().synset("dog.n.01").definition().startswith(
        "a member of the genus Canis")


def test_blank_texts_score_as_bleu_does() -> None:
    assert metrics.meteor("", "") == 1.0
    assert metrics.meteor("", "a cat") == 0.0
    assert metrics.meteor("a cat", "  ") == 0.0


def test_the_scorer_grades_with_meteor_from_templates() -> None:
    scorer = s.similarity("{capital} is the capital of {country}", metric="meteor",
                          threshold=0.9)
    row = {"capital": "Paris", "country": "France"}
    good = scorer.grade(Answer("Paris is the capital of France.", row))
    assert good.passed
    assert good.score == metrics.meteor("Paris is the capital of France.",
                                        "Paris is the capital of France")
    bad = scorer.grade(Answer("Lyon is a city in France", row))
    assert not bad.passed and bad.score < 0.5
    assert "meteor" in bad.reason


def test_the_copy_is_lf_laid_out_for_nltk_and_made_once(tmp_path: Path) -> None:
    source = wordnet.require()
    folder = wordnet.data_dir(tmp_path)
    assert folder.parts[-3:] == ("nltk_data", "corpora", "wordnet")
    for name in wordnet.FILES:
        raw, copy = (source / name).read_bytes(), (folder / name).read_bytes()
        assert b"\r" not in copy
        assert len(copy) == len(raw) - raw.count(b"\r\n")
    with (folder / "data.noun").open("rb") as f:  # a synset's id is its byte offset
        f.seek(2084071)
        assert f.readline().startswith(b"02084071 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0")
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert wordnet.data_dir(tmp_path) == folder
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    assert [p.name for p in folder.parent.iterdir()] == ["wordnet"]  # no staging left


def test_a_copy_another_process_finished_first_is_used(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other"
    winner = wordnet.data_dir(other)
    target = tmp_path / winner.relative_to(other)
    real = tempfile.mkdtemp

    def racing_mkdtemp(**kw: str) -> str:
        staging = real(**kw)
        target.mkdir()  # the other process renames its copy into place meanwhile
        (target / "data.noun").write_bytes(b"theirs")
        return staging

    monkeypatch.setattr(wordnet.tempfile, "mkdtemp", racing_mkdtemp)
    assert wordnet.data_dir(tmp_path) == target
    assert (target / "data.noun").read_bytes() == b"theirs"
    assert [p.name for p in target.parent.iterdir()] == ["wordnet"]


def test_a_damaged_copy_is_refused_saying_what_to_do(tmp_path: Path) -> None:
    folder = wordnet.data_dir(tmp_path)
    (folder / "data.noun").write_bytes((wordnet.require() / "data.noun").read_bytes())  # CRLF
    with pytest.raises(NbPlaygroundError, match="delete that folder"):
        wordnet.reader(tmp_path)


def test_without_the_package_meteor_is_refused_before_any_request(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wordnet, "packaged", lambda: None)
    with pytest.raises(NbPlaygroundError, match=r"nbplayground\[meteor\]"):
        s.similarity("{capital}", metric="meteor")


def test_a_meteor_scorer_loads_nothing_until_it_grades() -> None:
    code = ("import sys\nfrom nbplayground import scorers as s\n"
            "s.similarity('{capital}', metric='meteor')\n"
            "assert 'nltk' not in sys.modules, 'nltk imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_a_sweep_grades_meteor_off_the_event_loop_until_wordnet_is_loaded(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    row = {"capital": "Paris"}
    plan = ScoringPlan([s.similarity("{capital}", metric="meteor")], [row])
    monkeypatch.setattr(wordnet, "loaded", lambda root=None: False)
    assert plan.blocking  # the first grade loads WordNet (seconds): on a worker thread
    monkeypatch.undo()
    metrics.meteor("a cat", "a cat")
    assert wordnet.loaded() and not wordnet.loaded(tmp_path)
    assert not plan.blocking  # loaded: a grade is about a millisecond, inline
    assert not ScoringPlan([s.similarity("{capital}", metric="bleu")], [row]).blocking


def test_meteor_scores_a_sweep_in_the_log(tmp_path: Path) -> None:
    pg = Playground(db=tmp_path / "log.duckdb", user="u", provider="simulated",
                    simulated_latency=0)
    sw = pg.sweep("Capital of {country}?", vars=[{"country": "France", "capital": "Paris"}],
                  scorers=[s.similarity("{capital} is the capital of {country}",
                                        metric="meteor", threshold=0.9)], progress=False)
    logged = pg.repository.scores(sweep_id=sw.id)
    assert logged[["scorer", "kind"]].to_dict("records") == [
        {"scorer": "meteor", "kind": "text_similarity"}]
    assert logged["score"][0] == pytest.approx(
        metrics.meteor(sw.results[0].response.strip(), "Paris is the capital of France"))
