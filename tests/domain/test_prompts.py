"""PromptVersion: content hashing, validation with typed errors, rendering and diffs."""

from __future__ import annotations

import pytest

from nbplayground.domain.prompts import PromptVersion, content_hash, diff_versions
from nbplayground.errors import InvalidPrompt


def version(**kw: object) -> PromptVersion:
    base: dict[str, object] = {"name": "capitals", "template": "Capital of {country}?",
                               "system": "One word.", "model": "gpt-4o-mini",
                               "params": {"temperature": 0}}
    return PromptVersion(**(base | kw))


def test_the_hash_is_of_the_content_only() -> None:
    a = version()
    b = version(name="other", version=7, author="bob")
    assert a.content_hash == b.content_hash == content_hash(
        "Capital of {country}?", "One word.", "gpt-4o-mini", {"temperature": 0.0})
    assert len(a.content_hash) == 64
    assert version(system=None).content_hash != a.content_hash
    assert version(params={"temperature": 0.5}).content_hash != a.content_hash
    assert version(model="gpt-4.1").content_hash != a.content_hash


def test_equal_numbers_and_key_order_are_one_content() -> None:
    a = version(params={"temperature": 0, "max_tokens": 5})
    b = version(params={"max_tokens": 5, "temperature": 0.0, "top_p": None})
    assert a.content_hash == b.content_hash
    assert b.params == {"max_tokens": 5, "temperature": 0.0}


def test_params_are_stored_as_json() -> None:
    v = version(params={"stop": ("\n", "END")})
    assert v.params == {"stop": ["\n", "END"]}
    assert PromptVersion.model_validate_json(v.model_dump_json()) == v


def test_a_given_hash_is_checked() -> None:
    good = version()
    assert version(content_hash=good.content_hash).content_hash == good.content_hash
    with pytest.raises(InvalidPrompt, match="does not match the content"):
        version(content_hash="0" * 64)


@pytest.mark.parametrize(("kw", "message"), [
    ({"params": {"temperatur": 1}}, "unknown request field 'temperatur'"),
    ({"params": {"seed": object()}}, "must be JSON values"),
    ({"template": "  "}, "template is empty"),
    ({"template": "Capital of {country?"}, "not a valid format string"),
    ({"template": "Capital of {}?"}, "positional field"),
    ({"name": ""}, "name must be non-empty"),
    ({"version": 0}, "version"),
    ({"model": ""}, "model must be a model name"),
])
def test_bad_content_is_a_typed_error(kw: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidPrompt, match=message):
        version(**kw)


def test_render_fills_the_template() -> None:
    v = version()
    assert v.fields == ["country"]
    assert v.render({"country": "France"}) == "Capital of France?"
    assert version(template="No fields {{here}}").render() == "No fields {here}"
    nested = version(template="{row.city}, {row.city} and {tags[0]}")
    assert nested.fields == ["row", "tags"]
    assert str(v) == "capitals v1"
    with pytest.raises(InvalidPrompt, match="capitals v1 needs country; the variables have "
                                            "city"):
        v.render({"city": "Paris"})
    with pytest.raises(InvalidPrompt, match="could not be filled"):
        nested.render({"row": {}, "tags": []})


def test_diff_shows_template_system_and_parameters() -> None:
    a = version()
    b = version(version=2, template="What is the capital of {country}?",
                params={"temperature": 0.5, "max_tokens": 5})
    text = diff_versions(a, b)
    assert "--- capitals v1 template" in text and "+++ capitals v2 template" in text
    assert "-Capital of {country}?" in text and "+What is the capital of {country}?" in text
    assert "-temperature = 0.0" in text and "+temperature = 0.5" in text
    assert "+max_tokens = 5" in text
    assert "system" not in text  # unchanged sections are left out
    assert diff_versions(a, version(version=3)) == ""
