"""Before / after differences of Iraq's compliance outcomes around key US pressure events.

For each key event (NSPM-2, the lapse of the electricity waiver, each wave of Iraqi banks barred
from dollars), each outcome (a monthly column of marts.fct_iraq_compliance_monthly) and each
window w (3 and 6 months):

    before      the w months before the event's month (m-w .. m-1), months with data only
    after       the event's month and the w-1 months after it (m .. m+w-1)
    difference  mean(after) - mean(before), when each side has at least 2 months of data
    CI          95% percentile interval of the difference under a circular block bootstrap
                (arch.bootstrap.CircularBlockBootstrap) of the 2w months of (value, after?) pairs,
                blocks of ceil(sqrt(months)) so neighbouring months stay together: monthly
                outcomes are autocorrelated and designations arrive in batches, so months are
                never treated as independent draws
    placebo p   the share of placebo months, every month at least w+1 months away from every key
                event, whose difference is at least as large in absolute value: (1 + k) / (1 + n)

Months without data stay out of every mean; each figure says how many months it rests on.
"""

from __future__ import annotations

import importlib
import math
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

WINDOWS = (3, 6)
DRAWS = 2000
SEED = 20250204  # fixed, so a rebuild gives the same intervals
MIN_MONTHS = 2  # per side

# The key events: NSPM-2 (the curated presidential action), the waiver's lapse, every bank-ban wave
# (also the events the report's pressure and compliance chart marks).
KEY_EVENTS_SQL = """
    select event_type, event_date, title
    from marts.fct_sanctions_events
    where (event_type = 'presidential_action' and source = 'sanctions_events')
       or event_type in ('waiver_lapsed', 'bank_ban')
    order by event_date, event_type
"""

OUTCOMES = (
    "compliance_index",
    "new_institutions_barred",
    "iraq_imports_from_iran_usd",
    "iran_share_of_iraq_imports",
    "iraq_energy_imports_from_iran_usd",
    "krg_pipeline_active_days",
    "iraq_crude_exports_kbd",
)

COLUMNS = {
    "event_type": "string",
    "event_date": "datetime64[us]",
    "event_month": "datetime64[us]",
    "event_title": "string",
    "outcome": "string",
    "window_months": "int32",
    "n_before": "int32",
    "n_after": "int32",
    "mean_before": "float64",
    "mean_after": "float64",
    "difference": "float64",
    "ci_low": "float64",
    "ci_high": "float64",
    "bootstrap_block_months": "Int32",
    "bootstrap_draws": "Int32",
    "placebo_p_value": "float64",
    "n_placebo_months": "int32",
    "other_key_events_in_window": "string",
}


@dataclass(frozen=True)
class KeyEvent:
    event_type: str
    event_date: pd.Timestamp
    title: str

    @property
    def month(self) -> pd.Timestamp:
        return self.event_date.to_period("M").to_timestamp()


def _windows(series: pd.Series, position: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    values = series.to_numpy(dtype=float)
    before = values[max(0, position - w):position]
    after = values[position:position + w]
    return before[~np.isnan(before)], after[~np.isnan(after)]


def _difference(before: np.ndarray, after: np.ndarray) -> float | None:
    """mean(after) - mean(before), or None when a side has fewer than MIN_MONTHS months of data."""
    if len(before) < MIN_MONTHS or len(after) < MIN_MONTHS:
        return None
    return float(after.mean() - before.mean())


def import_arch_meanwhile() -> None:
    """Import arch (about 1 s) on a thread of its own. The dbt step calls this as dbt, another process,
    starts: this process only waits for dbt's output then, so the import costs the event study after
    it nothing (the step waits for the thread's import only if it reaches arch first)."""
    threading.Thread(target=importlib.import_module, args=("arch.bootstrap",), name="import-arch", daemon=True).start()


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")


def _block_bootstrap_ci(series: pd.Series, position: int, w: int, seed: int) -> tuple[float, float, int]:
    before, after = _windows(series, position, w)
    values = np.concatenate([before, after])
    is_after = np.concatenate([np.zeros(len(before), bool), np.ones(len(after), bool)])
    block = max(1, math.ceil(math.sqrt(len(values))))
    from arch.bootstrap import CircularBlockBootstrap  # here (about 1 s): the event study's alone; see import_arch_meanwhile

    bootstrap = CircularBlockBootstrap(block, values, is_after, seed=np.random.default_rng(seed))
    # arch draws each resample's indices (the draws `bootstrap.bootstrap(DRAWS)` would give, in
    # order); the means of all of them are taken at once rather than one draw at a time
    indices = np.stack([bootstrap.update_indices() for _ in range(DRAWS)])
    resampled, flags = values[indices], is_after[indices]
    after_n, before_n = flags.sum(axis=1), (~flags).sum(axis=1)
    both = (after_n > 0) & (before_n > 0)  # a draw with one side empty has no difference
    after_mean = np.where(flags, resampled, 0.0).sum(axis=1)[both] / after_n[both]
    before_mean = np.where(flags, 0.0, resampled).sum(axis=1)[both] / before_n[both]
    low, high = np.percentile(after_mean - before_mean, [2.5, 97.5])
    return float(low), float(high), block


def run_event_study(compliance: pd.DataFrame, events: list[KeyEvent]) -> pd.DataFrame:
    """One row per key event, outcome and window; `compliance` is indexed by month (all months)."""
    compliance = compliance.sort_index()
    months = list(compliance.index)
    rows = []
    event_positions = {e: months.index(e.month) for e in events if e.month in compliance.index}
    for event, position in event_positions.items():
        for w in WINDOWS:
            near = sorted(
                f"{other.event_type} {other.event_date:%Y-%m-%d}"
                for other, p in event_positions.items()
                if other != event and abs(p - position) <= w
            )
            placebo_positions = [
                p for p in range(len(months)) if all(abs(p - q) > w for q in event_positions.values())
            ]
            for outcome in OUTCOMES:
                series = compliance[outcome].astype(float)
                before, after = _windows(series, position, w)
                diff = _difference(before, after)
                row = {
                    "event_type": event.event_type,
                    "event_date": event.event_date,
                    "event_month": event.month,
                    "event_title": event.title,
                    "outcome": outcome,
                    "window_months": w,
                    "n_before": len(before),
                    "n_after": len(after),
                    "mean_before": _mean(before),
                    "mean_after": _mean(after),
                    "difference": float("nan"),
                    "ci_low": float("nan"),
                    "ci_high": float("nan"),
                    "bootstrap_block_months": None,
                    "bootstrap_draws": None,
                    "placebo_p_value": float("nan"),
                    "n_placebo_months": 0,
                    "other_key_events_in_window": "; ".join(near) or None,
                }
                if diff is not None:
                    low, high, block = _block_bootstrap_ci(series, position, w, SEED + position * 100 + w)
                    placebo = [d for p in placebo_positions if (d := _difference(*_windows(series, p, w))) is not None]
                    row.update(
                        difference=diff,
                        ci_low=low,
                        ci_high=high,
                        bootstrap_block_months=block,
                        bootstrap_draws=DRAWS,
                        n_placebo_months=len(placebo),
                        placebo_p_value=(1 + sum(abs(d) >= abs(diff) for d in placebo)) / (1 + len(placebo))
                        if placebo else float("nan"),
                    )
                rows.append(row)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.astype(COLUMNS)
