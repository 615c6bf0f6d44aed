"""ImportedEval: an exported OpenAI eval's items, prompt and graders, runnable on any model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from nbplayground.domain.prompts import PromptVersion
from nbplayground.evaluation.judges import ModelGrader
from nbplayground.evaluation.openai_import.errors import InvalidExport, UntrustedCode
from nbplayground.evaluation.openai_import.untrusted import UntrustedPython
from nbplayground.evaluation.scorers import Scorer

if TYPE_CHECKING:
    import pandas as pd


class ImportedEval:
    """`.data` (one row per item), `.prompt` (a PromptVersion, None without a run),
    `.scorers` (one per testing criterion), `.baseline` (the original run's results, when
    its output_items were given); `.run(model=[...])` sweeps the items and scores them."""

    def __init__(self, *, name: str, eval_id: str | None, run_id: str | None,
                 data: pd.DataFrame, prompt: PromptVersion | None, scorers: list[Scorer],
                 baseline: pd.DataFrame | None, sweep: Callable[..., Any],
                 runner: Any = None, baseline_passed: pd.DataFrame | None = None) -> None:
        self.name = name
        self.eval_id = eval_id
        self.run_id = run_id
        self.data = data
        self.prompt = prompt
        self.scorers = scorers
        self.baseline = baseline
        self._baseline_passed = baseline_passed
        self._sweep = sweep
        self._runner = runner

    def __repr__(self) -> str:
        text = "" if self.prompt is None else self.prompt.template
        prompt = "no prompt" if self.prompt is None else \
            f"prompt {text if len(text) <= 50 else text[:49] + '…'!r}"
        base = "" if self.baseline is None else f", baseline of {len(self.baseline)} rows"
        return (f"ImportedEval({self.name!r}: {len(self.data)} items, {prompt}, scorers "
                f"{[s.name for s in self.scorers]}{base})")

    @property
    def untrusted(self) -> list[str]:
        """The python graders that will not run (imported without trust_python=True)."""
        return [s.name for s in self.scorers if isinstance(s, UntrustedPython)
                and not s.trusted]

    def _scorers(self, judge_model: str | None, judge_provider: str | None) -> list[Scorer]:
        blocked = self.untrusted
        if blocked:
            raise UntrustedCode(
                f"python grader {blocked[0]!r} runs code from the export; import with "
                "trust_python=True to run it in a separate process (no environment, no API "
                "key, a time limit), or sweep ev.scorers without it yourself",
                grader=blocked[0])
        update = {k: v for k, v in (("model", judge_model), ("provider", judge_provider))
                  if v is not None}
        return [s.model_copy(update=update) if update and isinstance(s, ModelGrader) else s
                for s in self.scorers]

    def run(self, model: str | Sequence[str] | None = None, *, judge_model: str | None = None,
            judge_provider: str | None = None,
            prompt: PromptVersion | Sequence[PromptVersion] | None = None,
            **overrides: Any) -> Any:
        """Sweep every item on `model` (a name or a list; default the export's model) with
        the export's prompt and sampling parameters (`overrides` win) and score each answer
        with the export's graders. `judge_model` / `judge_provider` replace the model that
        score_model and label_model graders ask. `prompt` runs other versions instead (one,
        or a list: an axis of the sweep)."""
        chosen = prompt if prompt is not None else self.prompt
        if chosen is None:
            raise InvalidExport("the eval has no prompt to run: pass run= (the JSON of GET "
                                "/v1/evals/{id}/runs/{run_id}) with a completions or "
                                "responses data source", where="run")
        scorers = self._scorers(judge_model, judge_provider)
        try:
            return self._sweep(chosen if isinstance(chosen, PromptVersion) else list(chosen),
                               model=model if model is None or isinstance(model, str)
                               else list(model), vars=self.data, scorers=scorers,
                               **overrides)
        finally:
            if self._runner is not None:
                self._runner.close()  # one worker per sweep; the next one starts afresh

    def pass_rates(self, sweep: Any = None, by: str | Sequence[str] = "model"
                   ) -> pd.DataFrame:
        """Pass rate of each grader (and of all: `passed`) per group of `by` (columns of
        sweep.to_pandas(), e.g. "prompt_version"), for `sweep`'s rows and for the baseline
        (its model marked "(baseline)", its other groups "baseline")."""
        import pandas as pd

        keys = [by] if isinstance(by, str) else list(by)
        names = [s.name for s in self.scorers]
        frames = []
        if self.baseline is not None and self._baseline_passed is not None:
            b = self._baseline_passed.copy()
            b["model"] = b["model"].fillna("?").astype(str) + " (baseline)"
            for k in keys:
                if k not in b:
                    b[k] = "baseline"
            b["passed"] = self.baseline["passed"].to_numpy()
            frames.append(b)
        if sweep is not None:
            frame = sweep.to_pandas()
            missing = [k for k in keys if k not in frame]
            if missing:
                raise InvalidExport(f"by={missing[0]!r} is not a column of the sweep's rows",
                                    where="by")
            wide = sweep.scores().pivot_table(index="experiment_id", columns="scorer",
                                              values="passed", aggfunc="last")
            for n in names:
                frame[n] = frame["experiment_id"].map(wide[n]) if n in wide else None
            frames.append(frame)
        rows = []
        for f in frames:
            for group_keys, group in f.groupby(keys, sort=False):
                values = group_keys if isinstance(group_keys, tuple) else (group_keys,)
                row: dict[str, Any] = {**dict(zip(keys, values, strict=True)),
                                       "items": len(group)}
                for n in [*names, "passed"]:
                    col = group.get(n)
                    row[n] = None if col is None else float(col.astype(float).mean())
                rows.append(row)
        return pd.DataFrame(rows, columns=[*keys, "items", *names, "passed"])
