"""The payments' fraud label is learnable from the documented signals, but is not a rule."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from conftest import make_ctx, run_producers
from delab_data.scales import parse_scale
from delab_data.schema import PRODUCERS
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return fraud_features()


def fraud_features(trips: int = 100_000) -> pd.DataFrame:
    """Payments of ``trips`` trips (one chunk), joined to riders, with per-payment features."""
    scale = parse_scale(f"trips={trips}")
    dims = run_producers(scale, names=["rides_geo", "rides_drivers", "rides_riders"])
    spec = dataclasses.replace(PRODUCERS["rides_trips"], chunk_units=scale.trips)
    pay = spec.make(make_ctx(spec, scale, tables=dims))["payments"].to_pandas()
    riders = dims["riders"].to_pandas().set_index("rider_id")
    df = pd.DataFrame(
        {
            "foreign_card": (
                pay.card_country.to_numpy() != riders.loc[pay.rider_id, "home_country"].to_numpy()
            ),
            "night": pay.created_at.dt.hour.isin([23, 0, 1, 2, 3, 4]),
            "hour": pay.created_at.dt.hour,
            "log_amount": np.log(pay.amount),
            "log_age": np.log1p(pay.account_age_days),
            "velocity": _velocity(pay.rider_id.to_numpy(), pay.created_at.to_numpy().astype("int64")),
            "is_fraud": pay.is_fraud,
        }
    )
    return df.astype(float)


def _velocity(rider: np.ndarray, t_ms: np.ndarray, window_ms: int = 2 * HOUR_MS) -> np.ndarray:
    """Payments by the same rider in the ``window_ms`` up to each payment (a window-function count)."""
    order = np.lexsort((t_ms, rider))
    key = rider[order].astype(np.float64) * 1e13 + t_ms[order]
    count = np.arange(len(key)) - np.searchsorted(key, key - window_ms) + 1
    out = np.empty_like(count)
    out[order] = count
    return out


def _auc(model, df: pd.DataFrame) -> float:
    x, y = df.drop(columns="is_fraud"), df.is_fraud
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    with threadpool_limits(1):  # threads only fight each other on a busy 2-core machine
        model.fit(x_train, y_train)
        return roc_auc_score(y_test, model.predict_proba(x_test)[:, 1])


def test_fraud_is_rare_but_present(features: pd.DataFrame) -> None:
    assert 0.008 < features.is_fraud.mean() < 0.03


def test_each_signal_points_the_right_way(features: pd.DataFrame) -> None:
    fraud, legit = features[features.is_fraud == 1], features[features.is_fraud == 0]
    for col in ("foreign_card", "night", "log_amount", "velocity"):
        assert fraud[col].mean() > legit[col].mean(), col
    assert fraud.log_age.mean() < legit.log_age.mean()


def test_a_simple_model_beats_chance_without_being_perfect(features: pd.DataFrame) -> None:
    boosted = _auc(HistGradientBoostingClassifier(max_iter=60, random_state=0), features)
    assert 0.8 < boosted < 0.985
    linear = _auc(LogisticRegression(max_iter=1000), features)
    assert linear > 0.75
