# Writes a version-1 store with the release before schema 2 (commit 474fd75).
import numpy as np, fo, fo.brain as fob
rng = np.random.default_rng(5)
ds = fo.Dataset("v1")
samples = []
for i in range(20):
    s = fo.Sample(filepath=f"/images/{i:02d}.jpg", tags=(["even"] if i % 2 == 0 else []) + (["three"] if i % 3 == 0 else []))
    s["score"] = float(i) / 10
    s["gt"] = fo.Detections(detections=[fo.Detection(label="a", bounding_box=[0.1, 0.1, 0.2, 0.2]),
                                         fo.Detection(label="b", bounding_box=[0.3, 0.3, 0.2, 0.2])])
    samples.append(s)
ds.add_samples(samples)
emb = rng.standard_normal((20, 8)).astype(np.float32)
fob.compute_similarity(ds, embeddings=emb, brain_key="img", backend="sklearn")
pemb = rng.standard_normal((40, 8)).astype(np.float32)
fob.compute_similarity(ds, patches_field="gt", embeddings=pemb, brain_key="patches", backend="sklearn")
ds.delete_samples([ds.values("id")[19]])
np.save("emb.npy", emb)
