"""Every Python example of FiftyOne's Qdrant integration page
(../shared/spec/fiftyone-qdrant-integration.rst), read from the page itself
and run against the built-in backend ("sklearn") and against Qdrant (the
project's test server, or $QDRANT_URL).

`adapt` lists every change made to the page's code, and nothing else is
changed: the imports (fiftyone -> fo), the offline "shapes" dataset for
"quickstart", the backend name, the test server's URL, fragments' `...`
filled with the dataset, `print(x)  # value` turned into a check that x
prints as value, and (for the built-in backend only) the lines that are
about Qdrant alone (Qdrant collection parameters, credentials and the
Qdrant client) dropped. "clip-vit-base32-torch" is the zoo entry as
shipped with its weights replaced by a model of the same interface and
sizes (conftest.test_clip_zoo), since nothing can be downloaded here.
"""

import ast
import json
import re
import textwrap
import urllib.request

import numpy as np
import pytest

from conftest import SHARED

PAGE = SHARED / "spec" / "fiftyone-qdrant-integration.rst"
BACKENDS = ["sklearn", "qdrant"]
QDRANT_ONLY_KWARGS = ("collection_name=", "replication_factor=", "shard_number=", "write_consistency_factor=",
                      "url=", "api_key=")
FIXED_COLLECTIONS = ("your-collection", "your-collection-name", "custom-quickstart-index")


def read_page():
    """[(section title, code)] for every python code block, in page order."""
    lines = PAGE.read_text().split("\n")
    blocks, title, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line.strip() and not line.startswith(" ") and re.fullmatch(r"([-_=~^])\1{3,}", nxt):
            title = line.strip()
        m = re.match(r"^(\s*)\.\. code(?:-block)?:: python\s*$", line)
        if m:
            indent = len(m.group(1))
            i += 1
            body = []
            while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                if not re.match(r"^\s*:\w+:", lines[i]):
                    body.append(lines[i])
                i += 1
            blocks.append((title, textwrap.dedent("\n".join(body)).strip("\n")))
            continue
        i += 1
    return blocks


BLOCKS = read_page()


def blocks(title):
    found = [code for t, code in BLOCKS if t == title]
    assert found, "no python example under %r on the page" % title
    return found


def json_blocks(marker):
    """The page's JSON blocks containing `marker`."""
    text = PAGE.read_text()
    out = []
    for m in re.finditer(r"\.\. code-block:: json\n\n((?:    .*\n|\n)+)", text):
        body = textwrap.dedent(m.group(1))
        if marker in body:
            out.append(json.loads(body))
    return out


def test_the_page_has_the_examples_these_tests_cover():
    titles = [t for t, _ in BLOCKS]
    assert len(BLOCKS) == 19, titles
    for t in ("Basic recipe", "Create a similarity index", "Add/remove embeddings from an index",
              "Retrieve embeddings from an index", "Querying a Qdrant index", "Accessing the Qdrant client",
              "Advanced usage"):
        assert t in titles


def adapt(code, backend, url):
    code = code.replace("import fiftyone.brain as fob", "import fo.brain as fob")
    code = code.replace("import fiftyone.zoo as foz", "import fo.zoo as foz")
    code = code.replace("import fiftyone as fo", "import fo")
    code = code.replace('load_zoo_dataset("quickstart")', 'load_zoo_dataset("shapes")')
    code = code.replace('backend="qdrant"', "backend=%r" % backend)
    code = code.replace("(..., ", "(dataset, ").replace(", ...)", ")")
    code = re.sub(r"^(\s*)\.\.\.$", r"\1dataset,", code, flags=re.M)
    code = code.replace('"http://localhost:6333"', repr(url))
    if backend != "qdrant":
        kept = []
        for line in code.split("\n"):
            if line.strip().startswith(QDRANT_ONLY_KWARGS) or "client" in line:
                continue
            kept.append(line)
        code = "\n".join(kept)
    # print(x)  # value  ->  a check that x prints as value
    code = re.sub(r"^(\s*)print\((.*)\)[ \t]*#[ \t]*(.+)$",
                  lambda m: "%s_expect_printed(%s, %r)" % (m[1], m[2], m[3].strip()), code, flags=re.M)
    return code


def record_expressions(code):
    """Top-level expression statements (other than calls) keep their value
    in _values, so that tests can check what e.g. list_brain_runs returned."""
    tree = ast.parse(code)
    for i, node in enumerate(tree.body):
        if isinstance(node, ast.Expr):
            call = node.value
            name = getattr(getattr(call, "func", None), "id", None)
            if name not in ("print", "_expect_printed"):
                tree.body[i] = ast.parse("_values.append(None)").body[0]
                tree.body[i].value.args[0] = call
    return compile(ast.fix_missing_locations(tree), str(PAGE), "exec")


class Page:
    def __init__(self, backend, url, api_key):
        self.backend, self.url, self.api_key = backend, url, api_key
        self.printed = []

    def namespace(self, **values):
        import fo
        import fo.brain as fob
        import fo.zoo as foz
        ns = {"_values": [], "_expect_printed": self._expect_printed, "fo": fo, "fob": fob, "foz": foz}
        ns.update(values)
        return ns

    def _expect_printed(self, value, expected):
        text = str(value)
        print(text)
        self.printed.append(text)
        assert text == expected, "the page says %s, got %s" % (expected, text)

    def run(self, code, ns=None):
        ns = self.namespace() if ns is None else ns
        ns["_values"] = []
        code = adapt(code, self.backend, self.url)
        exec(record_expressions(code), ns)
        return ns

    def qdrant_request(self, method, path):
        req = urllib.request.Request(self.url.rstrip("/") + path, method=method,
                                     headers={"api-key": self.api_key} if self.api_key else {})
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())["result"]

    def collections(self):
        return [c["name"] for c in self.qdrant_request("GET", "/collections")["collections"]]


@pytest.fixture(params=BACKENDS)
def page(request, store, clip_zoo, monkeypatch):
    backend = request.param
    url, key = "", ""
    if backend == "qdrant":
        url, key = request.getfixturevalue("qdrant_server")
        # The page's recommended way: credentials in the environment.
        monkeypatch.setenv("FIFTYONE_BRAIN_SIMILARITY_QDRANT_URL", url)
        monkeypatch.setenv("FIFTYONE_BRAIN_SIMILARITY_QDRANT_API_KEY", key)
    p = Page(backend, url, key)
    if backend == "qdrant":
        for name in FIXED_COLLECTIONS:
            if name in p.collections():
                p.qdrant_request("DELETE", "/collections/" + name)
    return p


def as_stored(page, embeddings):
    """Vectors as get_embeddings returns them: a Qdrant Cosine collection
    stores them normalised (see README), the built-in index as given."""
    e = np.asarray(embeddings, dtype=np.float64)
    return e / np.linalg.norm(e, axis=1, keepdims=True) if page.backend == "qdrant" else e


def cosine_order(embeddings, ids, query, k):
    e = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    q = np.asarray(query, dtype=np.float64).ravel()
    d = 1.0 - e @ (q / np.linalg.norm(q))
    order = np.argsort(d, kind="stable")[:k]
    return [ids[i] for i in order], d[order]


def test_basic_recipe(page):
    first, second = blocks("Basic recipe")
    ns = page.run(first)
    index, dataset = ns["qdrant_index"], ns["dataset"]
    assert len(dataset) == 200 and index.total_index_size == 200
    assert dataset.has_brain_run("qdrant_index")
    if page.backend == "qdrant":
        collection = index.client.collection_name
        assert collection in page.collections()
    ns = page.run(second, ns)
    view = ns["view"]
    assert len(view) == 10
    assert view.first().id == ns["query"]  # the query itself is nearest
    assert not dataset.has_brain_run("qdrant_index")
    if page.backend == "qdrant":
        assert collection not in page.collections()


def test_backend_by_argument_environment_and_brain_config(page, store, monkeypatch):
    (fragment,) = blocks("Using the Qdrant backend")
    dataset = page.namespace()["foz"].load_zoo_dataset("shapes")
    ns = page.run(fragment, page.namespace(dataset=dataset))
    (index,) = ns["_values"]
    assert index.config.method == page.backend and index.total_index_size == 200

    import fo.brain as fob
    monkeypatch.setenv("FIFTYONE_BRAIN_DEFAULT_SIMILARITY_BACKEND", page.backend)
    assert fob.compute_similarity(dataset).config.method == page.backend
    monkeypatch.delenv("FIFTYONE_BRAIN_DEFAULT_SIMILARITY_BACKEND")

    # The page's brain configs: the default backend, then every Qdrant parameter.
    (default_config,) = json_blocks('"default_similarity_backend"')
    default_config["default_similarity_backend"] = page.backend
    (store / "brain_config.json").write_text(json.dumps(default_config))
    assert fob.compute_similarity(dataset).config.method == page.backend
    if page.backend == "qdrant":
        monkeypatch.delenv("FIFTYONE_BRAIN_SIMILARITY_QDRANT_URL")
        monkeypatch.delenv("FIFTYONE_BRAIN_SIMILARITY_QDRANT_API_KEY")
        credentials, everything = json_blocks('"similarity_backends"')
        credentials["similarity_backends"]["qdrant"].update(url=page.url, api_key=page.api_key)
        (store / "brain_config.json").write_text(json.dumps(credentials))
        assert fob.compute_similarity(dataset, backend="qdrant").total_index_size == 200
        everything["similarity_backends"]["qdrant"].update(url=page.url, api_key=page.api_key)
        (store / "brain_config.json").write_text(json.dumps(everything))
        index = fob.compute_similarity(dataset, backend="qdrant", brain_key="configured")
        collection = page.qdrant_request("GET", "/collections/" + index.client.collection_name)
        assert collection["config"]["hnsw_config"]["m"] == 16
        assert collection["config"]["optimizer_config"]["indexing_threshold"] == 20000
        assert collection["config"]["wal_config"]["wal_capacity_mb"] == 32
        assert "api_key" not in str(dataset.get_brain_info("configured"))


def test_authentication_by_keyword_arguments(page, monkeypatch):
    if page.backend == "qdrant":  # only the keyword arguments may carry them here
        monkeypatch.delenv("FIFTYONE_BRAIN_SIMILARITY_QDRANT_URL")
        monkeypatch.delenv("FIFTYONE_BRAIN_SIMILARITY_QDRANT_API_KEY")
    create, load = blocks("Authentication")
    dataset = page.namespace()["foz"].load_zoo_dataset("shapes")
    ns = page.run(create, page.namespace(dataset=dataset))
    assert ns["qdrant_index"].total_index_size == 200
    ns = page.run(load, ns)
    assert ns["qdrant_index"].total_index_size == 200
    assert "XXXXXXXX" not in str(dataset.get_brain_info("qdrant_index"))
    if page.backend == "qdrant" and page.api_key:
        with pytest.raises(PermissionError) as e:
            dataset.load_brain_results("qdrant_index", url=page.url, api_key="wrong-key").total_index_size
        assert "wrong-key" not in str(e.value)


def test_config_parameters(page):
    (fragment,) = blocks("Qdrant config parameters")
    dataset = page.namespace()["foz"].load_zoo_dataset("shapes")
    ns = page.run(fragment, page.namespace(dataset=dataset))
    index = ns["qdrant_index"]
    assert index.total_index_size == 200 and index.config.metric == "cosine"
    if page.backend == "qdrant":
        collection = page.qdrant_request("GET", "/collections/your-collection-name")
        assert collection["config"]["params"]["vectors"]["distance"] == "Cosine"
        assert collection["config"]["params"]["replication_factor"] == 1


def test_managing_brain_runs(page):
    import fo.brain as fob
    listing, info, rename, delete, cleanup = blocks("Managing brain runs")
    dataset = page.namespace()["foz"].load_zoo_dataset("shapes")
    fob.compute_similarity(dataset, model="clip-vit-base32-torch", brain_key="qdrant_index", backend=page.backend)
    fob.compute_similarity(dataset, patches_field="ground_truth", model="clip-vit-base32-torch",
                           brain_key="qdrant_patches", backend=page.backend)
    fob.compute_similarity(dataset, brain_key="descriptor", backend=page.backend)

    ns = page.run(listing, page.namespace(dataset=dataset))
    everything, similarity, filtered = ns["_values"]
    assert sorted(everything) == ["descriptor", "qdrant_index", "qdrant_patches"]
    assert sorted(similarity) == sorted(everything)
    assert filtered == ["qdrant_patches"]

    ns = page.run(info, page.namespace(dataset=dataset, brain_key="qdrant_index"))
    assert ns["info"].key == "qdrant_index" and ns["info"].config.model == "clip-vit-base32-torch"
    assert ns["info"].config.method == page.backend

    page.run(rename, page.namespace(dataset=dataset, brain_key="qdrant_index", new_brain_key="renamed"))
    assert dataset.has_brain_run("renamed") and not dataset.has_brain_run("qdrant_index")
    assert dataset.load_brain_results("renamed").total_index_size == 200

    page.run(delete, page.namespace(dataset=dataset, brain_key="renamed"))
    assert not dataset.has_brain_run("renamed")

    patches = dataset.load_brain_results("qdrant_patches")
    num_patches = sum(len(d) for d in dataset.values("ground_truth"))
    assert patches.total_index_size == num_patches
    collection = patches.client.collection_name if page.backend == "qdrant" else None
    ns = page.run(cleanup, page.namespace(dataset=dataset, brain_key="qdrant_patches"))
    assert ns["qdrant_index"].total_index_size == 0
    if collection:
        assert collection not in page.collections()


@pytest.mark.parametrize("option", [1, 2, 3, 4])
def test_create_similarity_index(page, option):
    (code,) = blocks("Create a similarity index")
    # The page lists four alternatives under one brain key: run each alone.
    parts = re.split(r"\n(?=# Option \d)", code)
    preamble, alternatives = parts[0], parts[1:]
    assert len(alternatives) == 4
    ns = page.run(preamble + "\n" + alternatives[option - 1])
    dataset, model = ns["dataset"], ns["model"]
    index = dataset.load_brain_results("qdrant_index")
    assert index.total_index_size == 200
    assert model.name == "clip-vit-base32-torch" and model.dimension == 512 and model.can_embed_prompts
    if option == 3:
        assert ns["embeddings"].shape == (200, 512) and ns["embeddings"].dtype == np.float32
    if option == 4:
        assert dataset.first()["embeddings"].shape == (512,)
    # Every option indexes the same vectors: the model's, in dataset order.
    expected = dataset.compute_embeddings(model)
    got, ids, _ = index.get_embeddings(sample_ids=dataset.values("id"))
    assert list(ids) == dataset.values("id")
    np.testing.assert_allclose(got, as_stored(page, expected), rtol=1e-5, atol=1e-5)
    if option in (1, 2):  # the run names its model: text prompts work
        assert len(dataset.sort_by_similarity("a photo of a dog", k=5, brain_key="qdrant_index")) == 5
    else:  # as in FiftyOne, an index of given vectors has no model for prompts
        with pytest.raises(ValueError, match="does not support prompts"):
            dataset.sort_by_similarity("a photo of a dog", k=5, brain_key="qdrant_index")


def test_create_similarity_index_top_to_bottom(page, capfd):
    # Run as printed, the four options reuse one brain key: as in FiftyOne
    # (register_run overwrites), each replaces the previous run, and an old
    # run's Qdrant collection is left in place (compute_similarity does not
    # clean up), with a notice naming it.
    (code,) = blocks("Create a similarity index")
    before = set(page.collections()) if page.backend == "qdrant" else set()
    ns = page.run(code)
    dataset = ns["dataset"]
    assert dataset.list_brain_runs() == ["qdrant_index"]
    index = dataset.load_brain_results("qdrant_index")
    assert index.total_index_size == 200
    # The last option's vectors: the "embeddings" field, in dataset order.
    got, ids, _ = index.get_embeddings(sample_ids=dataset.values("id"))
    np.testing.assert_allclose(got, as_stored(page, np.stack(dataset.values("embeddings"))), rtol=1e-5, atol=1e-5)
    err = capfd.readouterr().err
    assert err.count("replaced the previous run") == 3, err
    if page.backend == "qdrant":
        made = set(page.collections()) - before
        assert len(made) == 4, made  # one per option; the three replaced ones stay
        assert index.client.collection_name in made
        assert err.count("left in place") == 3, err


def test_create_patch_similarity_index(page):
    (code,) = blocks("Create a patch similarity index")
    ns = page.run(code)
    dataset = ns["dataset"]
    index = dataset.load_brain_results("qdrant_patches")
    num_patches = sum(len(d) for d in dataset.values("ground_truth"))
    assert num_patches > 200 and index.total_index_size == num_patches and index.is_patch_index
    label_id = dataset.first()["ground_truth"].detections[0].id
    _, _, label_ids = index.get_embeddings(label_ids=[label_id])
    assert list(label_ids) == [label_id]


def test_connect_to_an_existing_index(page):
    import fo.brain as fob
    (code,) = blocks("Connect to an existing index")
    dataset = page.namespace()["foz"].load_zoo_dataset("shapes")
    if page.backend == "qdrant":
        # The collection this example connects to, made earlier by someone.
        fob.compute_similarity(dataset, model="clip-vit-base32-torch", collection_name="your-collection",
                               backend="qdrant", brain_key="earlier")
        dataset.delete_brain_run("earlier")  # the record only: the collection stays
    page.run(code)
    index = dataset.load_brain_results("qdrant_index")
    if page.backend == "qdrant":
        assert index.total_index_size == 200
        query = dataset.first().id
        assert dataset.sort_by_similarity(query, k=3, brain_key="qdrant_index").first().id == query
    else:  # without a collection to connect to, an empty index
        assert index.total_index_size == 0


def test_add_and_remove_embeddings(page):
    (code,) = blocks("Add/remove embeddings from an index")
    ns = page.run(code)
    assert page.printed == ["200", "210"]
    index, dataset = ns["qdrant_index"], ns["dataset"]
    assert len(dataset) == 210
    got, ids, _ = index.get_embeddings(sample_ids=ns["sample_ids"])
    assert list(ids) == ns["sample_ids"]
    np.testing.assert_allclose(got, as_stored(page, ns["embeddings"]), rtol=1e-5)
    removed = set(ns["ids"])
    assert not removed & set(index.get_embeddings()[1])


def test_retrieve_embeddings(page):
    (code,) = blocks("Retrieve embeddings from an index")
    page.run(code)
    assert page.printed == ["(200, 512)", "(200,)", "(10, 512)", "(10,)"]


def test_query_an_index(page):
    (code,) = blocks("Querying a Qdrant index")
    # Each query's view is kept before the next one replaces it.
    code = re.sub(r"^(view = .*)$", r"\1\n_views.append(view)", code, flags=re.M)
    code = re.sub(r"^(query = .*)$", r"\1\n_queries.append(query)", code, flags=re.M)
    ns = page.namespace(_views=[], _queries=[])
    ns = page.run(code, ns)
    dataset = ns["dataset"]
    by_vector, by_id, by_ids, by_text = ns["_views"]
    assert ns["_queries"][3] == "a photo of a dog"
    assert all(len(v) == 10 for v in ns["_views"])
    index = dataset.load_brain_results("qdrant_index")
    embeddings, ids, _ = index.get_embeddings()
    ids = list(ids)

    def expect(view, query_vector):
        # The view's samples are the k nearest by a numpy brute force, in
        # order (samples whose distances tie at float precision may swap).
        want, want_dist = cosine_order(embeddings, ids, query_vector, len(ids))
        dist_of = dict(zip(want, want_dist))
        got_dist = np.array([dist_of[i] for i in view.values("id")])
        np.testing.assert_allclose(got_dist, want_dist[:10], atol=1e-5)

    row = {i: n for n, i in enumerate(ids)}
    if page.backend == "sklearn" or index.config.metric == "cosine":
        expect(by_vector, ns["_queries"][0])
    expect(by_id, embeddings[row[dataset.first().id]])
    import fo.zoo as foz
    model = foz.load_zoo_model("clip-vit-base32-torch")
    expect(by_text, model.embed_prompt("a photo of a dog"))
    # Several ids: the mean of their vectors as stored (Qdrant: normalised), as FiftyOne.
    expect(by_ids, embeddings[[row[dataset.first().id], row[dataset.last().id]]].mean(axis=0))
    assert by_id.first().id == dataset.first().id


def test_access_the_client(page):
    (code,) = blocks("Accessing the Qdrant client")
    if page.backend != "qdrant":
        # FiftyOne's sklearn index has no client either.
        dataset = page.namespace()["foz"].load_zoo_dataset("shapes")
        import fo.brain as fob
        with pytest.raises(AttributeError, match="only qdrant indexes"):
            fob.compute_similarity(dataset, brain_key="qdrant_index").client
        return
    ns = page.run(code)
    client = ns["qdrant_client"]
    collection = client.collection_name
    assert repr(client) == "<QdrantClient url=%s>" % page.url
    assert any(c.name == collection for c in client.get_collections().collections)
    assert client.count(collection).count == 200
    sample_id = ns["dataset"].first().id
    (record,) = client.scroll(collection, limit=1)[0]
    assert len(client.retrieve(collection, [record.id], with_vectors=True)[0].vector) == 512
    hits = client.search(collection, ns["qdrant_index"].get_embeddings(sample_ids=[sample_id])[0][0], limit=1)
    assert hits[0].payload["sample_id"] == sample_id


def test_advanced_usage(page, capsys):
    (code,) = blocks("Advanced usage")
    ns = page.run(code)
    index, view = ns["qdrant_index"], ns["view"]
    assert index.total_index_size == 10 and index.config.metric == "dotproduct"
    assert sorted(index.get_embeddings()[1]) == sorted(view.values("id"))
    if page.backend == "qdrant":
        assert "custom-quickstart-index" in capsys.readouterr().out
        params = page.qdrant_request("GET", "/collections/custom-quickstart-index")["config"]["params"]
        assert params["vectors"]["distance"] == "Dot"
        assert params["shard_number"] == 2 and params["replication_factor"] == 2
