from litestar.testing import TestClient


def test_embeddings_and_rerank_answer(client: TestClient) -> None:  # type: ignore[type-arg]
    r = client.post("/embeddings/", json={"sentences": ["hello world"]})
    assert r.status_code == 200, r.text
    assert set(r.json()["data"][0]["embeddings"]) == {"dense", "sparse", "colbert"}
    r = client.post("/rerank", json={"query": "q", "passages": ["a", "b"]})
    assert r.status_code == 200, r.text
