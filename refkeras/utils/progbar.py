"""``Progbar``: Keras's progress bar, character for character.

Values are shown as given: the training loop passes running epoch means (its metrics are
stateful), so the ``loss`` on the bar is the mean of the per-sample losses seen so far in the epoch.
"""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np


class Progbar:
    """Displays ``current/target`` with a bar, ETA or elapsed time, time per step and metrics.

    ``verbose=1``: a bar redrawn in place (at most every ``interval`` seconds); ``verbose=2``: one
    line when finished.
    """

    def __init__(
        self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None, unit_name="step"
    ):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else None
        self._dynamic_display = (
            (hasattr(sys.stdout, "isatty") and sys.stdout.isatty())
            or "ipykernel" in sys.modules
            or "posix" in sys.modules  # as Keras: always redraw in place on POSIX
            or "PYCHARM_HOSTED" in os.environ
        )
        self._seen_so_far = 0
        self._values: dict = {}
        self._values_order: list = []
        self._start = time.time()
        self._last_update = 0.0
        self._time_at_epoch_start = self._start
        self._time_after_first_step = None
        self._prev_total_width = 0

    def update(self, current, values=None, finalize=None):
        """Show progress at step ``current``; ``values`` are ``(name, value)`` pairs."""
        if finalize is None:
            finalize = False if self.target is None else current >= self.target
        for k, v in values or []:
            if k not in self._values_order:
                self._values_order.append(k)
            if self.stateful_metrics is not None and k not in self.stateful_metrics:
                base = max(current - self._seen_so_far, 1)
                if finalize:
                    self._values[k] = [v, 1]
                elif k not in self._values:
                    self._values[k] = [v * base, base]
                else:
                    self._values[k][0] += v * base
                    self._values[k][1] += base
            else:
                self._values[k] = [v, 1]
        self._seen_so_far = current
        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            message = ("\b" * self._prev_total_width + "\r") if self._dynamic_display else "\n"
            special = 0
            if self.target is not None and self.target > 0:
                digits = int(math.log10(self.target)) + 1
                bar = f"\x1b[1m{current:{digits}d}/{self.target}\x1b[0m "
                special += 8
                prog_width = int(self.width * float(current) / self.target)
                if prog_width > 0:
                    bar += f"\33[32m{'━' * prog_width}\x1b[0m"
                    special += 9
                bar += f"\33[37m{'━' * (self.width - prog_width)}\x1b[0m"
                special += 9
            else:
                bar = f"{current:7d}/Unknown"
            message += bar
            if self.target is not None and self.target > 0 and not finalize:
                info = f" \x1b[1m{_eta(time_per_unit * (self.target - current))}\x1b[0m"
            else:
                info = f" \x1b[1m{now - self._start:.0f}s\x1b[0m"
            special += 8
            info += self._format_time(time_per_unit)
            info += self._format_values()
            message += info
            total_width = len(bar) + len(info) - special
            if self._prev_total_width > total_width:
                message += " " * (self._prev_total_width - total_width)
            if finalize:
                message += "\n"
            sys.stdout.write(message)
            sys.stdout.flush()
            self._prev_total_width = total_width
        elif self.verbose == 2 and finalize and self.target is not None and self.target > 0:
            digits = int(math.log10(self.target)) + 1
            info = f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s"
            info += f" -{self._format_time(time_per_unit)}"
            info += self._format_values() + "\n"
            sys.stdout.write(info)
            sys.stdout.flush()
        self._last_update = now

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)

    def _format_values(self) -> str:
        info = ""
        for k in self._values_order:
            total, count = self._values[k]
            avg = float(np.mean(total)) / max(1, count)
            info += f" - {k}: {avg:.4f}" if abs(avg) > 1e-3 else f" - {k}: {avg:.4e}"
        return info

    def _format_time(self, time_per_unit) -> str:
        if time_per_unit >= 1 or time_per_unit == 0:
            return f" {time_per_unit:.0f}s/{self.unit_name}"
        if time_per_unit >= 1e-3:
            return f" {time_per_unit * 1e3:.0f}ms/{self.unit_name}"
        return f" {time_per_unit * 1e6:.0f}us/{self.unit_name}"

    def _estimate_step_duration(self, current, now) -> float:
        """Time per step, excluding the first step (which includes set-up) once there are
        others, as Keras does."""
        if not current:
            return 0
        if self._time_after_first_step is not None and current > 1:
            return (now - self._time_after_first_step) / (current - 1)
        if current == 1:
            self._time_after_first_step = now
        return (now - self._time_at_epoch_start) / current


def _eta(eta: float) -> str:
    if eta > 3600:
        return f"{int(eta // 3600)}:{int((eta % 3600) // 60):02d}:{int(eta % 60):02d}"
    if eta > 60:
        return f"{int(eta // 60)}:{int(eta % 60):02d}"
    return f"{int(eta)}s"
