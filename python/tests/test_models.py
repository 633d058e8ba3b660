"""Models from Python: fo.zoo.load_zoo_model, Model.embed*, and
compute_embeddings on datasets, views and indexes."""

import numpy as np
import pytest


@pytest.fixture
def shapes(store):
    import fo.zoo as foz
    return foz.load_zoo_dataset("shapes", max_samples=12)


def test_zoo_model_embeds_images_and_prompts(store, clip_zoo, shapes):
    import fo.zoo as foz
    assert "clip-vit-base32-torch" in foz.list_zoo_models()
    model = foz.load_zoo_model("clip-vit-base32-torch")
    assert (model.name, model.dimension, model.can_embed_prompts) == ("clip-vit-base32-torch", 512, True)
    path = shapes.first().filepath
    from_path = model.embed(path)
    assert from_path.shape == (512,) and from_path.dtype == np.float32
    # An RGB array of the same pixels embeds the same (decoded by PIL here).
    from PIL import Image
    pixels = np.asarray(Image.open(path).convert("RGB"))
    np.testing.assert_allclose(model.embed(pixels), from_path, rtol=1e-4, atol=1e-4)
    both = model.embed_all([path, pixels])
    assert both.shape == (2, 512)
    np.testing.assert_allclose(both[0], from_path, rtol=1e-5, atol=1e-5)
    prompts = model.embed_prompts(["a photo of a dog", "a red circle"])
    assert prompts.shape == (2, 512)
    np.testing.assert_allclose(model.embed_prompt("a red circle"), prompts[1], rtol=1e-5, atol=1e-5)
    assert model.embed_prompts([]).shape == (0, 512)


def test_model_input_errors(store):
    import fo.zoo as foz
    model = foz.load_zoo_model("color-gradient-descriptor")
    with pytest.raises(ValueError, match="uint8 array"):
        model.embed(np.zeros((8, 8, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="shape \\(h, w\\), \\(h, w, 3\\) or \\(h, w, 4\\)"):
        model.embed(np.zeros((8, 8, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="cannot decode image"):
        model.embed("/nonexistent/image.jpg")
    with pytest.raises(NotImplementedError, match="does not support prompts"):
        model.embed_prompt("a dog")
    with pytest.raises(ValueError, match="list of strings, not one string"):
        model.embed_prompts("a dog")
    with pytest.raises(KeyError, match="unknown"):
        foz.load_zoo_model("no-such-model")
    with pytest.raises(ValueError, match="image_size"):
        foz.load_zoo_model("color-gradient-descriptor", image_size=-3)


def test_compute_embeddings_on_datasets_and_views(store, shapes):
    import fo
    import fo.zoo as foz
    model = foz.load_zoo_model("color-gradient-descriptor")
    all_rows = shapes.compute_embeddings(model)
    assert all_rows.shape == (12, model.dimension)
    view = shapes.skip(2).limit(3)
    np.testing.assert_allclose(view.compute_embeddings(model), all_rows[2:5], rtol=1e-6)
    # Into a field (nothing returned), read back per sample.
    assert shapes.compute_embeddings(model, embeddings_field="emb", batch_size=5, num_workers=1) is None
    np.testing.assert_allclose(np.stack(shapes.values("emb")), all_rows, rtol=1e-6)
    # A sample whose image is missing: None in its row, as FiftyOne.
    shapes.add_samples([fo.Sample(filepath="/nonexistent/missing.jpg")])
    rows = shapes.compute_embeddings(model)
    assert isinstance(rows, list) and rows[-1] is None and len(rows) == 13
    np.testing.assert_allclose(np.stack(rows[:12]), all_rows, rtol=1e-6)
    with pytest.raises(ValueError, match="cannot decode image"):
        shapes.compute_embeddings(model, skip_failures=False)
    with pytest.raises(ValueError, match="batch_size must be positive"):
        shapes.compute_embeddings(model, batch_size=0)
    # Patches: {sample id: (num patches, d)}.
    patches = shapes.limit(3).compute_patch_embeddings(model, "ground_truth")
    for s in shapes.limit(3):
        assert patches[s.id].shape == (len(s.ground_truth), model.dimension)


def test_index_compute_embeddings(store, shapes):
    import fo.brain as fob
    import fo.zoo as foz
    model = foz.load_zoo_model("color-gradient-descriptor")
    index = fob.compute_similarity(shapes, model=model, embeddings=False, brain_key="empty")
    assert index.total_index_size == 0
    assert shapes.get_brain_info("empty").config.model == "color-gradient-descriptor"
    view = shapes.limit(4)
    embeddings, sample_ids, label_ids = index.compute_embeddings(view)
    assert embeddings.shape == (4, model.dimension) and list(sample_ids) == view.values("id") and label_ids is None
    index.add_to_index(embeddings, sample_ids)
    assert index.total_index_size == 4

    patches = fob.compute_similarity(shapes, patches_field="ground_truth", model=model, embeddings=False,
                                     brain_key="patches")
    embeddings, sample_ids, label_ids = patches.compute_embeddings(view)
    num = sum(len(s.ground_truth) for s in view)
    assert embeddings.shape[0] == num and len(label_ids) == num

    given = fob.compute_similarity(shapes, embeddings=np.ones((12, 3)), brain_key="given")
    with pytest.raises(ValueError, match="has no model"):
        given.compute_embeddings(view)
