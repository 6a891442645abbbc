"""Forecasts of attendances and four-hour performance for every trust, system, region and England.

Stage rules: forecast imports warehouse, measures and oversight; report, web and cli import
forecast, never the reverse. statsforecast is imported only when a model is fitted.
"""

from fourhour.forecast.engine import SEED, ForecastResult, run_forecast
from fourhour.forecast.history import ForecastError, History, load_history

__all__ = ["SEED", "ForecastError", "ForecastResult", "History", "load_history", "run_forecast"]
