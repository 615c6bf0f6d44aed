"""Telling llama-cpp-python's server by its model list and its refusal, and its schema form."""

from __future__ import annotations

import openai

from nbplayground.adapters.openai_dialects import (
    lists_like_llama_cpp_python,
    refuses_json_schema,
    with_json_object_schema,
)

LLAMA = {"id": "smollm2", "object": "model", "owned_by": "me", "permissions": []}
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}}


def test_its_model_list_is_recognised_and_others_are_not() -> None:
    assert lists_like_llama_cpp_python([LLAMA, {**LLAMA, "id": "other"}])
    sdk = openai.types.Model.construct(**LLAMA)  # as the SDK reads it: extras kept
    assert lists_like_llama_cpp_python([sdk])
    assert not lists_like_llama_cpp_python([])
    assert not lists_like_llama_cpp_python([{**LLAMA, "owned_by": "vllm"}])  # vLLM, Ollama...
    assert not lists_like_llama_cpp_python([{"id": "gpt-4o", "owned_by": "me"}])  # no list
    assert not lists_like_llama_cpp_python([LLAMA, {"id": "x", "owned_by": "llamacpp"}])


def test_only_the_refusal_of_the_json_schema_type_counts() -> None:
    said = ("1 validation error: {'type': 'literal_error', 'loc': ('body', 'response_format', "
            "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}")
    assert refuses_json_schema(500, said)
    assert refuses_json_schema(422, said)
    assert not refuses_json_schema(None, said)
    assert not refuses_json_schema(500, "the model crashed")
    assert not refuses_json_schema(400, "response_format json_object needs the word JSON")


def test_the_schema_moves_into_the_json_object_form() -> None:
    body = {"model": "m", "response_format": {"type": "json_schema", "json_schema": {
        "name": "colour", "schema": SCHEMA, "strict": True}}}
    assert with_json_object_schema(body) == {
        "model": "m", "response_format": {"type": "json_object", "schema": SCHEMA}}
    assert body["response_format"]["type"] == "json_schema"  # the request's own body is kept
    plain = {"model": "m", "response_format": {"type": "json_object"}}
    assert with_json_object_schema(plain) is plain
    assert with_json_object_schema({"model": "m"}) == {"model": "m"}
