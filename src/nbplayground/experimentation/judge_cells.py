"""Judge requests: each judge's request prepared (checked, planned, priced) once, then one cell
per judged answer in which only the user message and its token count are new."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from nbplayground.configuration import lookup
from nbplayground.domain import as_messages
from nbplayground.errors import InvalidInput
from nbplayground.evaluation import Answer
from nbplayground.experimentation.cell import Cell, validate_prompt

if TYPE_CHECKING:
    from nbplayground.evaluation import ModelGrader
    from nbplayground.experimentation.service import ExperimentService


def judge_cell(service: ExperimentService, judge: ModelGrader, prompt: Any, user_id: str,
               provider: str, index: int, sweep_id: str | None = None) -> Cell:
    """The judge's request for one answer: its model, system message and parameters, and the
    verdict's schema as response_format (the provider holds the answer to it); the answer is
    checked by, and parsed into, the same schema as a pydantic model."""
    cell = service.prepare(user_id=user_id, prompt=prompt, model=judge.model,
                           provider=judge.provider or provider, system=judge.system,
                           index=index, sweep_id=sweep_id, **judge.request_params())
    return dataclasses.replace(cell, parse_as=judge.verdict_model())


class JudgeCells:
    """The cells of many judge calls. `service.prepare` runs once per (judge, user, provider),
    on the bare rubric; each answer's cell is that one with its own message, counted the same
    way and held to the same context window (a prompt that does not fit goes through the
    whole preparation, which says why). `sweep_id`: the sweep the calls belong to."""

    def __init__(self, service: ExperimentService, sweep_id: str | None = None) -> None:
        self.service, self.sweep_id = service, sweep_id
        self._made: dict[tuple[int, str, str], Cell] = {}
        self._around: dict[tuple[int, str, str], tuple[str, str] | None] = {}

    def longest(self, judge: ModelGrader, row: Mapping[str, Any] | None, user_id: str,
                provider: str, answer_tokens: int, index: int = 0) -> Cell:
        """The judge's call about an answer not known yet, for pricing ahead: its rubric filled
        with the row (None: the bare rubric) and an empty answer, plus `answer_tokens`."""
        if row is None:
            prompt = judge.probe_prompt()
        else:
            try:
                prompt = judge.request_prompt(Answer("", row))
            except ValueError:  # {answer.field}: the empty answer is not JSON
                prompt = judge.probe_prompt()
        cell = self.cell(judge, prompt, user_id, provider, index)
        return dataclasses.replace(cell, prompt_tokens=cell.prompt_tokens + answer_tokens)

    def cell(self, judge: ModelGrader, prompt: Any, user_id: str, provider: str,
             index: int) -> Cell:
        if not isinstance(prompt, str):  # a turn of parts (a judge that sees images): its
            return judge_cell(self.service, judge, prompt, user_id, provider, index,
                              self.sweep_id)  # images
        key = (id(judge), user_id, provider)
        template = self._made.get(key)
        if template is None:
            template = self._made[key] = judge_cell(self.service, judge, judge.prompt,
                                                    user_id, provider, 0, self.sweep_id)
            self._around[key] = template.key_around_turns()
        try:
            validate_prompt(prompt)
            messages = as_messages(prompt, judge.system)
        except (InvalidInput, ValueError, TypeError):  # the whole preparation says why
            return judge_cell(self.service, judge, prompt, user_id, provider, index,
                              self.sweep_id)
        request = template.request
        tokens = self.service.count_prompt(self.service.clients(template.provider),
                                           request.model, messages)
        spec = lookup(request.model)
        wanted = request.parameters.max_tokens
        if tokens + (wanted or 0) > spec.context_window:
            return judge_cell(self.service, judge, prompt, user_id, provider, index,
                              self.sweep_id)
        made = dataclasses.replace(
            template, request=request.model_copy(update={"messages": messages}),
            prompt_tokens=tokens, index=index,
            max_completion=wanted or min(spec.max_output_tokens, spec.context_window - tokens))
        around = self._around.get(key)  # keyed from the template's text, not dumped again
        return made if around is None else made.keyed_with_turns(around)
