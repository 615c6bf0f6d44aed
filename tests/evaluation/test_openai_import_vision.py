"""Images in a model grader's input: an exported score_model / label_model whose messages hold
input_image parts reaches the judge as image parts of its request (the loopback stub)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from nbplayground import scorers as s
from nbplayground.configuration import Endpoint
from nbplayground.evaluation import InvalidScorer
from nbplayground.evaluation.openai_import import InvalidExport, import_eval
from tests.conftest import TEST_KEY
from tests.support.openai_stub import CHAT_PATH, OpenAIStub

V = Path(__file__).parents[1] / "fixtures" / "openai_evals" / "vision"
EVAL = json.loads((V / "eval.json").read_text())
RUN = json.loads((V / "run.json").read_text())
ITEMS = [line["item"] for line in RUN["data_source"]["source"]["content"]]


@pytest.fixture
def pg(make_pg: Any, stub: OpenAIStub) -> Any:
    return make_pg(provider=Endpoint(base_url=stub.base_url, api_key=TEST_KEY))


def _judged(stub: OpenAIStub) -> list[dict[str, Any]]:
    return [r.body for r in stub.requests
            if r.path == CHAT_PATH and "response_format" in r.body]


def test_the_judge_and_the_label_see_each_items_image(pg: Any, stub: OpenAIStub) -> None:
    ev = pg.import_openai_eval(EVAL, run=RUN)
    sw = ev.run(model="gpt-4o-mini", progress=False)
    bodies = _judged(stub)
    assert len(bodies) == 2 * 2  # two items, two model graders
    by_grader: dict[str, list[Any]] = {}
    for body in bodies:
        name = body["response_format"]["json_schema"]["schema"]["required"][0]
        by_grader.setdefault(name, []).append(body["messages"])
    for messages in by_grader["score"]:  # score_model: its developer turn is the system message
        assert [m["role"] for m in messages] == ["system", "user"]
        assert messages[0]["content"] == "You check captions against the image."
        text, image = messages[1]["content"]
        assert text["type"] == "text" and text["text"].startswith("Caption: Echo")
        assert image["type"] == "image_url" and image["image_url"]["detail"] == "low"
    urls = {m[-1]["content"][1]["image_url"]["url"] for m in by_grader["score"]}
    assert urls == {i["image_url"] for i in ITEMS}  # each item's own image, data URL or http
    for messages in by_grader["label"]:  # label_model: no detail given, none sent
        assert messages[-1]["content"][1]["image_url"].keys() == {"url"}
    scores = sw.scores()
    assert len(scores) == 4 and scores["score"].notna().all()
    # The answering model saw the image too (the run's template) - and the judges' rows are
    # logged with their images like any run's.
    answered = [r.body for r in stub.requests if r.path == CHAT_PATH
                and "response_format" not in r.body]
    assert all(b["messages"][0]["content"][1]["type"] == "image_url" for b in answered)


def test_on_responses_the_judge_gets_input_image_parts(pg: Any, stub: OpenAIStub) -> None:
    judge = s.judge("Does {answer} describe it?", model="gpt-4o-mini", api="responses",
                    images=[{"url": "{image_url}", "detail": "high"}])
    pg.sweep("Caption it.", vars=ITEMS[1:], model="gpt-4o-mini", scorers=[judge],
             progress=False)
    body = next(r.body for r in stub.requests if r.path.endswith("/responses"))
    assert body["input"][-1]["content"][1] == {
        "type": "input_image", "image_url": "https://example.com/charts/blue.png",
        "detail": "high"}


def test_a_judge_that_cannot_see_is_refused_before_anything_is_sent(make_pg: Any) -> None:
    local = make_pg(provider="local")
    judge = s.judge("Does {answer} fit?", model="gpt-4o-mini", images=["{image_url}"])
    with pytest.raises(Exception, match="read no images"):
        local.sweep("Caption it.", vars=ITEMS, scorers=[judge], progress=False)
    assert local.history().empty


def test_a_row_whose_image_is_no_image_scores_an_error_and_the_sweep_goes_on(
        pg: Any, stub: OpenAIStub) -> None:
    judge = s.judge("Fits {answer}?", model="gpt-4o-mini", images=["{image_url}"])
    rows = [ITEMS[1], {**ITEMS[0], "image_url": "not an image"}]
    sw = pg.sweep("Caption it.", vars=rows, model="gpt-4o-mini", scorers=[judge],
                  progress=False)
    scores = sw.scores().set_index("experiment_id")
    assert len(scores) == 2 and scores["score"].notna().sum() == 1
    assert "no image file at 'not an image'" in scores["reason"].dropna().str.cat()
    assert len(_judged(stub)) == 1


@pytest.mark.parametrize(("part", "where", "says"), [
    ({"type": "input_image"}, "testing_criteria[0].input[1].content[1].image_url",
     "needs its image_url"),
    ({"type": "input_image", "image_url": "{{item.photo}}"},
     "testing_criteria[0].input[1].content[1].image_url", "item.photo"),
    ({"type": "input_image", "image_url": "{{item.image_url}}", "detail": "huge"},
     "testing_criteria[0].input[1].content[1].detail", "auto, low or high"),
    ({"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}},
     "testing_criteria[0].input[1].content[1]", "input_audio"),
])
def test_bad_image_parts_in_a_grader_are_refused_naming_them(part: dict[str, Any], where: str,
                                                             says: str) -> None:
    doc = copy.deepcopy(EVAL)
    doc["testing_criteria"][0]["input"][1]["content"][1] = part
    with pytest.raises(InvalidExport) as caught:
        import_eval(doc, RUN, sweep=lambda *a, **k: None)
    assert caught.value.where == where and says in str(caught.value)
    on_system = copy.deepcopy(EVAL)
    on_system["testing_criteria"][0]["input"][0]["content"] = [
        {"type": "input_image", "image_url": "{{item.image_url}}"}]
    with pytest.raises(InvalidExport, match="not a developer message"):
        import_eval(on_system, RUN, sweep=lambda *a, **k: None)


def test_judge_images_must_be_a_list_of_templates() -> None:
    with pytest.raises(InvalidScorer, match="image_detail"):
        s.judge("x {answer}", model="gpt-4o-mini", images=[{"url": "{u}", "detail": "huge"}])
    with pytest.raises(InvalidScorer, match="list of image URL templates"):
        s.judge("x {answer}", model="gpt-4o-mini", images="{u}")
    assert s.judge("x {answer}", model="gpt-4o-mini", images=["{u}"]).columns() == {"u"}
