"""Base forecasts per series with statsforecast: candidates chosen per series by backtest.

Every series gets the seasonal-naive baseline (the same period a year earlier) and the
candidate models named in the run (ETS, Theta, ARIMA, MSTL). Each series' model is the one
with the lowest mean absolute error over the last `n_windows` rolling origins of its own
history (statsforecast's cross-validation, which refits at each origin on the data before it).
Where the history is too short for even one such origin, the seasonal-naive baseline is used.

statsforecast is imported inside the functions: `fourhour --help` must stay fast.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fourhour.forecast.history import FREQ, SEASON
from fourhour.measures.funnel import Z95

BASELINE = "snaive"
MODEL_CHOICES = ("ets", "theta", "arima", "mstl")
DEFAULT_MODELS = {"month": ("ets", "theta"), "week": ("theta", "mstl")}
N_WINDOWS = 2  # rolling origins per series for choosing its model


@dataclass
class BaseForecasts:
    """Base (unreconciled) forecasts: one row per series, one column per step ahead."""

    ids: list[str]
    mean: np.ndarray  # series x h
    sd: np.ndarray  # series x h (normal approximation of the model's own intervals)
    baseline_mean: np.ndarray
    residuals: np.ndarray  # periods x series, in-sample one-step errors of the chosen model
    chosen: dict[str, str]
    cv_mae: pd.DataFrame  # series x model: mean absolute error over the rolling origins


def _model(name: str, season: int):
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, SeasonalNaive, Theta

    if name == BASELINE:
        return SeasonalNaive(season_length=season, alias=BASELINE)
    if name == "ets":
        if season > 24:  # statsforecast's ETS takes seasons of at most 24 periods
            return AutoETS(model="ZZN", alias="ets")
        return AutoETS(season_length=season, model="ANA", alias="ets")
    if name == "theta":
        return Theta(season_length=season, alias="theta")
    if name == "arima":
        return AutoARIMA(season_length=season, alias="arima")
    if name == "mstl":
        return MSTL(season_length=season, trend_forecaster=AutoETS(model="ZZN"), alias="mstl")
    raise ValueError(name)


def _needs(name: str, season: int) -> int:
    """Shortest training history each model is given (periods)."""
    return {BASELINE: season + 1, "ets": season + 4, "theta": 2 * season, "arima": 2 * season}.get(
        name, 2 * season + 1
    )


def _frame(values: pd.DataFrame) -> pd.DataFrame:
    """Wide (periods x series) to statsforecast's long frame."""
    stacked = values.stack()
    assert isinstance(stacked, pd.Series)  # one level of columns: stack() gives a Series
    long = stacked.rename("y").reset_index()
    long.columns = ["ds", "unique_id", "y"]
    return long[["unique_id", "ds", "y"]]


def fit(
    values: pd.DataFrame,
    granularity: str,
    h: int,
    models: tuple[str, ...] | None = None,
    *,
    n_windows: int = N_WINDOWS,
    n_jobs: int = 1,
) -> BaseForecasts:
    """Choose, fit and forecast every column of `values` (periods x series, no NaN)."""
    from statsforecast import StatsForecast

    season = SEASON[granularity]
    names = tuple(models) if models is not None else DEFAULT_MODELS[granularity]
    ids = [str(c) for c in values.columns]
    n_obs = len(values)
    flat = (values.abs().sum(axis=0) == 0).to_numpy()
    active = [c for c, z in zip(values.columns, flat, strict=True) if not z]
    out_mean = np.zeros((len(ids), h))
    out_sd = np.zeros((len(ids), h))
    base_mean = np.zeros((len(ids), h))
    residuals = np.zeros((n_obs, len(ids)))
    chosen = {i: ("zero" if z else BASELINE) for i, z in zip(ids, flat, strict=True)}
    cv_mae = pd.DataFrame(index=ids, columns=[BASELINE, *names], dtype=float)
    if not active:
        return BaseForecasts(ids, out_mean, out_sd, base_mean, residuals, chosen, cv_mae)

    data = _frame(values[active])
    fallback = _model(BASELINE, season)
    # Rolling-origin choice of model: each window trains only on periods before its origin.
    # Each window's horizon: as long as the forecast's, but short enough to leave the models
    # two seasons of training (else as much as the quickest model needs).
    h_cv = min(h, (n_obs - 2 * season) // n_windows)
    if h_cv < 3:
        h_cv = min(h, (n_obs - min(_needs(m, season) for m in names)) // n_windows)
    train = n_obs - n_windows * max(h_cv, 1)
    usable = [m for m in names if _needs(m, season) <= train]
    candidates = [BASELINE, *usable]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if h_cv >= 1 and usable:
            sf = StatsForecast(
                models=[_model(m, season) for m in candidates],
                freq=FREQ[granularity],
                fallback_model=fallback,
                n_jobs=n_jobs,
            )
            cv = sf.cross_validation(
                df=data, h=h_cv, n_windows=n_windows, step_size=h_cv, refit=False
            )
            errors = cv[candidates].sub(cv["y"], axis=0).abs()
            errors["unique_id"] = cv["unique_id"].astype(str)
            mae = errors.groupby("unique_id")[candidates].mean()
            cv_mae.loc[mae.index, candidates] = mae.to_numpy()
            best = mae.idxmin(axis=1)  # ties: the earlier column, the baseline first
            chosen.update({str(uid): str(model) for uid, model in best.items()})
        # The final fit: each series with its chosen model and the baseline beside it.
        forecasts, fits = [], []
        groups: dict[str, list[str]] = {}
        for uid in map(str, active):
            groups.setdefault(chosen[uid], []).append(uid)
        for model, uids in groups.items():
            names_here = [BASELINE] if model == BASELINE else [BASELINE, model]
            sf = StatsForecast(
                models=[_model(m, season) for m in names_here],
                freq=FREQ[granularity],
                fallback_model=fallback,
                n_jobs=n_jobs,
            )
            part = data[data["unique_id"].astype(str).isin(uids)]
            forecasts.append(sf.forecast(df=part, h=h, level=[95], fitted=True))
            fitted_part = sf.forecast_fitted_values()
            fitted_part["chosen_fit"] = fitted_part[model]
            fits.append(fitted_part[["unique_id", "ds", "y", "chosen_fit"]])
    fc = pd.concat(forecasts, ignore_index=True)
    fitted = pd.concat(fits, ignore_index=True)
    fc["unique_id"] = fc["unique_id"].astype(str)
    fitted["unique_id"] = fitted["unique_id"].astype(str)
    position = {i: k for k, i in enumerate(ids)}
    for key, rows in fc.groupby("unique_id", sort=False):
        uid = str(key)
        k = position[uid]
        m = chosen[uid]
        out_mean[k], out_sd[k] = _mean_sd(rows, m)
        if not np.isfinite(out_sd[k]).all():
            raise RuntimeError(uid)
        base_mean[k] = _mean_sd(rows, BASELINE)[0]
    for uid, rows in fitted.groupby("unique_id", sort=False):
        k = position[uid]
        resid = (rows["y"] - rows["chosen_fit"]).to_numpy(dtype=float)
        residuals[n_obs - len(resid) :, k] = resid
        residuals[: n_obs - len(resid), k] = np.nan
    return BaseForecasts(ids, out_mean, out_sd, base_mean, residuals, chosen, cv_mae)


def _mean_sd(rows: pd.DataFrame, model: str) -> tuple[np.ndarray, np.ndarray]:
    mean = rows[model].to_numpy(dtype=float)
    hi, lo = rows[f"{model}-hi-95"].to_numpy(dtype=float), rows[f"{model}-lo-95"].to_numpy(float)
    sd = (hi - lo) / (2 * Z95)
    if np.isnan(sd).any():  # a model without intervals for some step: widen from the last known
        sd = pd.Series(sd).ffill().fillna(np.nanmax(np.abs(mean)) * 0.1).to_numpy()
    return np.nan_to_num(mean), np.maximum(sd, 0.0)
