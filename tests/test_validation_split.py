"""The validation split: stratified, or by group so that no group is on both sides."""

import numpy as np
import pytest

from sklearn_autonet.validation_split import validation_split


def test_validation_split_by_group_never_shares_a_group():
    rng = np.random.RandomState(0)
    y = rng.randint(0, 3, size=400)
    groups = rng.randint(0, 20, size=400)
    train, valid = validation_split(y, groups, validation_fraction=0.25, random_state=0)
    assert not set(groups[train]) & set(groups[valid])
    assert len(train) + len(valid) == 400


def test_validation_split_is_stratified():
    y = np.array([0] * 80 + [1] * 20)
    train, valid = validation_split(y, validation_fraction=0.2, random_state=0)
    assert np.bincount(y[valid]).tolist() == [16, 4]
    assert not set(train) & set(valid)


def test_a_single_member_class_goes_to_training():
    y = np.array([0] * 10 + [1] * 10 + [2])
    train, valid = validation_split(y, validation_fraction=0.2, random_state=0)
    assert 20 in train and 20 not in valid


def test_same_seed_same_split_other_seed_other_split():
    y = np.arange(200) % 4
    a = validation_split(y, validation_fraction=0.2, random_state=3)
    b = validation_split(y, validation_fraction=0.2, random_state=3)
    c = validation_split(y, validation_fraction=0.2, random_state=4)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[1], c[1])


def test_group_split_holds_about_the_fraction_of_groups():
    y = np.arange(500) % 2
    groups = np.arange(500) // 10  # 50 groups of 10
    train, valid = validation_split(y, groups, validation_fraction=0.2, random_state=0)
    assert len(np.unique(groups[valid])) == 10  # one fold of 5
    assert sorted(np.concatenate([train, valid]).tolist()) == list(range(500))


@pytest.mark.parametrize(
    "y, groups, message",
    [
        (np.arange(10) % 2, np.zeros(10), "at least 2"),
        (np.arange(10) % 2, np.arange(9), "one entry per sample"),
        (np.array([0, 1, 2]), None, "Too few samples"),
    ],
)
def test_splits_that_cannot_work_are_refused(y, groups, message):
    with pytest.raises(ValueError, match=message):
        validation_split(y, groups, validation_fraction=0.2, random_state=0)
