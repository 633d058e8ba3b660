"""add_samples converts fo.Samples on one thread while another writes them
to the store in batches; it stays one transaction, in order, all or nothing."""

import numpy as np
import pytest


def _samples(fo, n, start=0):
    return [fo.Sample(filepath="/ingest/%06d.jpg" % i, tags=["ten"] if i % 10 == 0 else [])
            for i in range(start, start + n)]


def test_a_generator_of_many_batches_is_added_in_order_with_ids(store):
    import fo
    dataset = fo.Dataset("gen")
    made = _samples(fo, 10000)  # several of the binding's 4096-sample batches
    ids = dataset.add_samples(s for s in made)
    assert len(ids) == len(made) == len(dataset) and len(set(ids)) == len(ids)
    assert [s.id for s in made] == ids
    assert dataset.values("id") == ids
    assert dataset.values("filepath") == ["/ingest/%06d.jpg" % i for i in range(10000)]
    assert len(dataset.match_tags("ten")) == 1000


def test_a_failing_generator_adds_nothing(store):
    import fo
    dataset = fo.Dataset("gen")
    dataset.add_samples(_samples(fo, 3))
    made = _samples(fo, 9000, start=3)

    def failing():
        for i, s in enumerate(made):
            if i == 8500:
                raise RuntimeError("the source broke")
            yield s

    with pytest.raises(RuntimeError, match="the source broke"):
        dataset.add_samples(failing())
    assert len(dataset) == 3 and all(s.id is None for s in made)
    # A non-sample in a later batch fails the same way.
    with pytest.raises(TypeError, match="item 5000 is a str"):
        dataset.add_samples(made[:5000] + ["not a sample"])
    assert len(dataset) == 3 and all(s.id is None for s in made)


def test_a_bad_sample_in_a_later_batch_adds_nothing(store):
    import fo
    dataset = fo.Dataset("gen")
    made = _samples(fo, 9000)
    made[8000]["vec"] = np.array([1.0, np.nan], dtype=np.float32)
    with pytest.raises(ValueError, match="NaN"):
        dataset.add_samples(made)
    assert len(dataset) == 0 and all(s.id is None for s in made)
    del made[8000]
    assert len(dataset.add_samples(made)) == 8999 and len(dataset) == 8999
