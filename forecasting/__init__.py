"""Pure forecasting library: features, models, baselines, backtests and metrics.

Never imports Django, Celery or ``apps``: pandas/numpy in, pandas/numpy or dataclasses out.
"""
