"""Ratios and the printed tables of ``bench_epoch.py`` (standard library only).

A *row* is one benchmark cell: ``model``, ``framework``, ``steps_per_execution``, the workload
(``samples``, ``batch_size``, ``width``; ``sweep`` and ``point`` for a scaling sweep), ``status``
(``ok`` | ``n/a`` | ``failed``) with a ``reason`` when not ok, and the worker's numbers
(``first_epoch_s``, ``epoch_s`` = median of ``epoch_s_all``, ``cpu_s``, ``peak_rss_mb``, ...).
"""

from __future__ import annotations

#: the frameworks every row is compared with: (ratio prefix, framework name)
REFERENCES = (("numpy", "refkeras"), ("keras", "keras"), ("torch", "torch"))
#: (ratio key prefix, the row field it divides)
RATIO_FIELDS = (("vs", "epoch_s"), ("cpu_vs", "cpu_s"), ("first_vs", "first_epoch_s"))


def label(row: dict) -> str:
    """``framework`` plus `` spe=N`` for a ``steps_per_execution`` > 1 row."""
    spe = row.get("steps_per_execution", 1)
    return row["framework"] + (f" spe={spe}" if spe > 1 else "")


def workload(row: dict) -> tuple:
    """What must be equal for two rows to be compared (everything but the framework)."""
    return (row["model"], row.get("sweep"), row.get("point"), row["samples"], row["batch_size"])


def add_ratios(rows: list[dict]) -> None:
    """Add ``vs_numpy``, ``vs_keras``, ``vs_torch`` (this row's ``epoch_s`` / that framework's
    ``epoch_s`` on the same workload) and ``cpu_vs_*`` (the same with ``cpu_s``), and
    ``first_vs_*`` (the same with ``first_epoch_s``); ``None`` where either side is missing.

    A row with ``steps_per_execution`` N is compared with the Keras row with the same N when there
    is one (the fair comparison for compiled multi-step calls), else with Keras at N = 1.
    """
    ok = {}
    for row in rows:
        if row["status"] == "ok":
            ok[(workload(row), row["framework"], row.get("steps_per_execution", 1))] = row
    for row in rows:
        spe = row.get("steps_per_execution", 1)
        for prefix, name in REFERENCES:
            base = ok.get((workload(row), name, spe)) or ok.get((workload(row), name, 1))
            for key, field in RATIO_FIELDS:
                value = None
                if row["status"] == "ok" and base is not None and base[field] > 0:
                    value = row[field] / base[field]
                row[f"{key}_{prefix}"] = value


def _ratio(value) -> str:
    return f"{value:.2f}x" if value is not None else "-"


def status_note(row: dict) -> str:
    return f"n/a ({row['reason']})" if row["status"] == "n/a" else f"failed: {row['reason']}"


def _layout(headers, body, left):
    """Align ``body`` (lists of cells) under ``headers``; a short row's last cell runs on."""
    widths = [len(h) for h in headers]
    for cells in body:
        measured = cells if len(cells) == len(headers) else cells[:-1]  # a note runs on
        widths = [max(w, len(c)) for w, c in zip(widths, measured)] + widths[len(measured) :]

    def line(cells):
        short = len(cells) < len(headers)
        out = [
            cell.ljust(width) if i in left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells[:-1] if short else cells, widths))
        ]
        if short:
            out.append(cells[-1])
        return "  ".join(out).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths)] + [line(c) for c in body])


def format_table(rows: list[dict]) -> str:
    """The main table: one line per (model, framework)."""
    headers = ("model", "framework", "samples", "1st epoch s", "epoch s", "cpu s", "peak MB", "+MB",
               "vs numpy", "vs keras", "vs torch", "cpu vs keras", "cpu vs torch")  # fmt: skip
    body = []
    for row in rows:
        head = [row["model"], label(row), str(row["samples"])]
        if row["status"] != "ok":
            body.append(head + [status_note(row)])
            continue
        body.append(
            head
            + [
                f"{row['first_epoch_s']:.3f}",
                f"{row['epoch_s']:.3f}",
                f"{row['cpu_s']:.3f}",
                f"{row['peak_rss_mb']:.0f}",
                f"{row['peak_rss_mb'] - row['base_rss_mb']:.0f}",
                _ratio(row["vs_numpy"]),
                _ratio(row["vs_keras"]),
                _ratio(row["vs_torch"]),
                _ratio(row["cpu_vs_keras"]),
                _ratio(row["cpu_vs_torch"]),
            ]
        )
    return _layout(headers, body, left={0, 1})


def format_sweep(rows: list[dict], sweep: str) -> str:
    """A sweep as a grid: one line per framework, one column per point; blocks: steady epoch
    seconds, microseconds per sample, peak RSS, and (when Keras ran) the ratio to Keras with the
    same steps_per_execution."""
    rows = [row for row in rows if row.get("sweep") == sweep]
    points = sorted({row["point"] for row in rows})
    labels = list(dict.fromkeys(label(row) for row in rows))
    cell = {(label(row), row["point"]): row for row in rows}
    name = {"batch": "batch size", "width": "hidden width"}.get(sweep, sweep)
    blocks, notes = [], {}

    def block(title, value):
        headers = (title, *[str(p) for p in points])
        body = []
        for lab in labels:
            cells = [lab]
            for point in points:
                row = cell.get((lab, point))
                if row is None:
                    cells.append("")
                elif row["status"] != "ok":
                    cells.append(row["status"])
                    notes.setdefault(lab, status_note(row))
                else:
                    cells.append(value(row))
            body.append(cells)
        return _layout(headers, body, left={0})

    blocks.append(block(f"epoch s / {name}", lambda r: f"{r['epoch_s']:.3f}"))
    blocks.append(
        block(f"us per sample / {name}", lambda r: f"{1e6 * r['epoch_s'] / r['samples']:.1f}")
    )
    blocks.append(block(f"peak MB / {name}", lambda r: f"{r['peak_rss_mb']:.0f}"))
    if any(row.get("vs_keras") is not None for row in rows):
        blocks.append(block(f"vs keras / {name}", lambda r: _ratio(r["vs_keras"])))
    text = "\n\n".join(blocks)
    if notes:
        text += "\n" + "\n".join(f"  {lab}: {note}" for lab, note in notes.items())
    return text


def format_targets(rows: list[dict]) -> str:
    """The issue's two targets, read off the rows (steady-state epoch time):

    - per model, the fastest refkeras backend at least as fast as PyTorch (ratio <= 1);
    - on the MLP, refkeras-jax at least 2x faster than Keras with the same steps_per_execution
      (ratio <= 0.5), for each N > 1 measured.

    The verdict is on wall time; the CPU-time ratio is printed beside it (steadier on a busy
    machine).
    """
    lines = []
    for model in dict.fromkeys(row["model"] for row in rows if not row.get("sweep")):
        mine = [
            r
            for r in rows
            if r["model"] == model and not r.get("sweep") and r["status"] == "ok"
            if r["framework"].startswith("refkeras") and r["vs_torch"] is not None
        ]
        if not mine:
            lines.append(f"  {model}: fastest refkeras vs torch: not measured")
            continue
        best = min(mine, key=lambda r: r["vs_torch"])
        verdict = "met" if best["vs_torch"] <= 1 else "not met"
        lines.append(
            f"  {model}: fastest refkeras backend {label(best)} = {best['vs_torch']:.2f}x torch "
            f"(target <= 1.00x: {verdict}; cpu time {_ratio(best['cpu_vs_torch'])})"
        )
    for row in rows:
        spe = row.get("steps_per_execution", 1)
        if row["model"] == "mlp" and not row.get("sweep") and row["framework"] == "refkeras-jax":
            if spe == 1:
                continue
            if row["status"] != "ok" or row["vs_keras"] is None:
                lines.append(f"  mlp: {label(row)} vs keras spe={spe}: not measured")
                continue
            verdict = "met" if row["vs_keras"] <= 0.5 else "not met"
            lines.append(
                f"  mlp: {label(row)} = {row['vs_keras']:.2f}x keras spe={spe} "
                f"(target <= 0.50x: {verdict}; cpu time {_ratio(row['cpu_vs_keras'])})"
            )
    return "targets (issue 3):\n" + "\n".join(lines) if lines else ""
