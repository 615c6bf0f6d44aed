"""A live progress bar for sweeps (tqdm.auto: a widget in notebooks, text in a terminal)."""

from __future__ import annotations

from typing import Any

from nbplayground.domain.money import usd


class SweepProgress:
    """done / failed / cached counts, spend so far and ETA, without per-row output."""

    def __init__(self, sweep: Any, total: int, note: str) -> None:
        from tqdm.auto import tqdm

        self.sweep = sweep
        self.bar = tqdm(total=total, desc=f"sweep ({note})", unit="cell", leave=True,
                        dynamic_ncols=True, mininterval=0.25)
        self.bar.set_postfix_str(self._postfix(), refresh=False)

    def _postfix(self) -> str:
        s = self.sweep
        return (f"ok={s.count('ok')} failed={s.count('failed')} cached={s.count('cached')} "
                f"spent={usd(s.spent)}")

    def __call__(self, experiment: Any) -> None:
        self.bar.update(1)
        self.bar.set_postfix_str(self._postfix(), refresh=False)

    def close(self) -> None:
        self.bar.set_postfix_str(self._postfix(), refresh=True)
        self.bar.close()


class BatchProgress:
    """Requests a batch sweep's batches have answered (completed or failed), as OpenAI counts."""

    def __init__(self, total: int) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc="batch", unit="request", leave=True,
                        dynamic_ncols=True, mininterval=0.25)

    def __call__(self, done: int) -> None:
        self.bar.update(max(0, min(done, self.bar.total) - self.bar.n))

    def close(self) -> None:
        self.bar.close()
