"""save/load: round trips, and files that are damaged, tampered with or from elsewhere."""

import hashlib
import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import sigest
from sigest.estimators.tiny import TinyClassifier, TinyDenoiser, TinyGANGenerator
from sigest.noise import NoiseInjector
from sigest.persistence import ModelFileError

RNG = np.random.default_rng(0)
X = RNG.standard_normal((24, 2, 32))
Y = np.repeat(["a", "b"], 12)


def _rewrite(path, header=None, weights=None):
    with zipfile.ZipFile(path) as zf:
        old_header = json.loads(zf.read("sigest.json"))
        old_weights = zf.read("weights.pt")
    header = old_header if header is None else header(old_header)
    weights = old_weights if weights is None else weights
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("sigest.json", json.dumps(header))
        zf.writestr("weights.pt", weights)


@pytest.fixture
def saved(tmp_path):
    est = TinyDenoiser(max_epochs=1, random_state=0, module__n_filters=4,
                       noise=NoiseInjector(snr_db=0.0)).fit(X)
    path = est.save(tmp_path / "model.sigest")
    return est, path


@pytest.mark.parametrize("est, y", [
    (TinyDenoiser(max_epochs=1, random_state=0), None),
    (TinyDenoiser(max_epochs=1, random_state=0, residual="gated"), None),
    (TinyClassifier(max_epochs=1, random_state=0, class_weight="balanced"), Y),
    (TinyGANGenerator(max_epochs=1, random_state=0), Y),
], ids=lambda v: type(v).__name__ + ("-gated" if getattr(v, "residual", 0) == "gated" else ""))
def test_round_trip_gives_identical_outputs(tmp_path, est, y):
    est.fit(X, y)
    loaded = sigest.load(est.save(tmp_path / "m.zip"))
    assert type(loaded) is type(est)
    assert loaded.get_params(deep=False).keys() == est.get_params(deep=False).keys()
    if hasattr(est, "sample"):
        np.testing.assert_array_equal(loaded.sample(3, random_state=0),
                                      est.sample(3, random_state=0))
    elif hasattr(est, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
        np.testing.assert_array_equal(loaded.classes_, est.classes_)
    else:
        np.testing.assert_array_equal(loaded.transform(X), est.transform(X))
    assert len(loaded.history) == len(est.history)


def test_params_survive_including_module_params_and_noise(saved):
    est, path = saved
    loaded = type(est).load(path)
    assert loaded.get_params()["module__n_filters"] == 4
    assert isinstance(loaded.noise, NoiseInjector) and loaded.noise.snr_db == 0.0
    assert loaded.score(X) == pytest.approx(est.score(X))


def test_weights_are_plain_tensors_loadable_with_weights_only(saved):
    import torch

    _, path = saved
    with zipfile.ZipFile(path) as zf:
        state = torch.load(io.BytesIO(zf.read("weights.pt")), weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())


def test_truncated_file_is_refused(saved, tmp_path):
    _, path = saved
    cut = tmp_path / "cut.sigest"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="not a readable sigest model file"):
        sigest.load(cut)


def test_altered_weights_fail_the_checksum(saved):
    _, path = saved
    with zipfile.ZipFile(path) as zf:
        weights = bytearray(zf.read("weights.pt"))
    weights[-20] ^= 0xFF
    _rewrite(path, weights=bytes(weights))
    with pytest.raises(ModelFileError, match="do not match their checksum"):
        sigest.load(path)


class _Payload:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_crafted_pickle_payload_executes_nothing(saved, tmp_path):
    _, path = saved
    target = tmp_path / "pwned.txt"
    payload = pickle.dumps({"net.0.weight": _Payload(str(target))})
    _rewrite(path, header=lambda h: {**h, "weights_sha256": hashlib.sha256(payload).hexdigest()},
             weights=payload)
    with pytest.raises(ModelFileError, match="cannot be read safely"):
        sigest.load(path)
    assert not target.exists()


def test_untrusted_import_path_is_refused(saved):
    _, path = saved

    def evil(header):
        header["params"]["criterion"] = {"__import__": "os.system"}
        return header

    _rewrite(path, header=evil)
    with pytest.raises(ModelFileError, match="outside the packages sigest loads from"):
        sigest.load(path)


def test_other_major_version_is_refused(saved):
    _, path = saved
    _rewrite(path, header=lambda h: {**h, "sigest_version": "99.0.0"})
    with pytest.raises(ModelFileError, match="another major version are refused"):
        sigest.load(path)


def test_wrong_class_and_missing_file(saved, tmp_path):
    _, path = saved
    with pytest.raises(ModelFileError, match="holds a TinyDenoiser, not a TinyClassifier"):
        TinyClassifier.load(path)
    with pytest.raises(FileNotFoundError):
        sigest.load(tmp_path / "absent.sigest")


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()],
                         ids=["disk-full", "ctrl-c"])
def test_crash_mid_save_keeps_the_earlier_model(saved, monkeypatch, error):
    est, path = saved
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise error

    monkeypatch.setattr(zipfile.ZipFile, "writestr", crash)
    with pytest.raises(type(error)):
        est.save(path)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]


def test_saving_onto_a_folder_names_the_folder_and_writes_nothing(saved, tmp_path):
    est, _ = saved
    folder = tmp_path / "models"
    folder.mkdir()
    with pytest.raises(IsADirectoryError) as info:
        est.save(folder)
    assert info.value.filename == str(folder)
    assert os.listdir(folder) == []
    assert sorted(os.listdir(tmp_path)) == ["model.sigest", "models"]


@pytest.mark.parametrize("header, match", [
    ("[1, 2]", "its sigest.json holds a JSON list, not an object"),
    ('{"a": 1}', "format None, expected 'sigest-model'"),
])
def test_a_zip_that_is_not_a_model_is_a_model_file_error(tmp_path, header, match):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("sigest.json", header)
        zf.writestr("weights.pt", b"")
    with pytest.raises(ModelFileError, match=match):
        sigest.load(path)


def _set_param(key, value):
    def edit(header):
        header["params"][key] = value
        return header

    return edit


@pytest.mark.parametrize("edit, match", [
    # a parameter this version of the class no longer takes
    (_set_param("no_such_param", 3), "unexpected argument.*no_such_param"),
    # a network parameter it no longer takes
    (_set_param("module__no_such", 3), "unexpected keyword argument 'no_such'"),
    # a network of another shape than the weights (e.g. a default changed since)
    (_set_param("module__n_filters", 8),
     r"size mismatch for net.0.weight: copying a param with shape torch.Size\(\[4, 2, 9\]\) "
     r"from checkpoint, the shape in current model is torch.Size\(\[8, 2, 9\]\)"),
    (lambda h: {k: v for k, v in h.items() if k != "fitted"}, "KeyError: 'fitted'"),
], ids=["param", "module-param", "shape", "no-fitted"])
def test_a_file_the_class_cannot_rebuild_is_a_model_file_error(saved, edit, match):
    _, path = saved
    _rewrite(path, header=edit)
    with pytest.raises(ModelFileError, match=f"(?s){path.name}: cannot rebuild the TinyDenoiser it "
                                             f"holds .*{match}"):
        sigest.load(path)


def test_unfitted_save_is_an_error(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TinyDenoiser().save(tmp_path / "x.sigest")


def test_saved_file_gets_the_umask_mode_like_any_new_file(tmp_path):
    den = TinyDenoiser(max_epochs=1, random_state=0).fit(np.zeros((8, 32)))
    umask = os.umask(0o022)
    try:
        mode = den.save(tmp_path / "model.zip").stat().st_mode & 0o777
    finally:
        os.umask(umask)
    assert mode == 0o644
