"""A live progress bar for sweeps (tqdm.auto: a widget in notebooks, text in a terminal)."""

from __future__ import annotations

from typing import Any

from nbplayground.domain.money import usd


class SweepProgress:
    """done / failed / cached counts, spend so far and ETA, without per-row output.

    With nothing to send (every cell came from the log) there is no bar: an empty "0/0" bar
    reads as a sweep that did nothing, so one line says where the cells came from instead.
    """

    def __init__(self, sweep: Any, total: int, note: str) -> None:
        self.sweep = sweep
        self.bar: Any = None
        if total == 0:
            return
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc=f"sweep ({note})", unit="cell", leave=True,
                        dynamic_ncols=True, mininterval=0.25)
        self.bar.set_postfix_str(self._postfix(), refresh=False)

    def _postfix(self) -> str:
        s = self.sweep
        return (f"ok={s.count('ok')} failed={s.count('failed')} cached={s.count('cached')} "
                f"spent={usd(s.spent)}")

    def __call__(self, experiment: Any) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(self._postfix(), refresh=False)

    def close(self) -> None:
        if self.bar is None:
            print(f"sweep: nothing to send, all {len(self.sweep)} cells are in the log already "
                  "(refresh=True sends them again)")
            return
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
