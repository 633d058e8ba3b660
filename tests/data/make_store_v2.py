# Writes a version-2 store with the release before schema 3 (commit aa1b70e):
# run with that build's package on PYTHONPATH and FO_DATABASE_PATH=store_v2.db.
import fo
ds = fo.Dataset("v2")
samples = []
for i in range(6):
    s = fo.Sample(filepath=f"/images/{i:02d}.jpg", tags=["even"] if i % 2 == 0 else [])
    s["score"] = float(i) / 10
    s["gt"] = fo.Detections(detections=[fo.Detection(label="a", bounding_box=[0.1, 0.1, 0.2, 0.2])])
    samples.append(s)
ds.add_samples(samples)
ds.delete_samples([ds.values("id")[5]])
