"""save/load of parameters that are not plain JSON: dicts with non-string keys, callbacks."""

import json
import warnings
import zipfile
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from skorch.callbacks import (
    BatchScoring,
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    EpochTimer,
    GradientNormClipping,
    LoadInitState,
    LRScheduler,
    PassthroughScoring,
    PrintLog,
    ProgressBar,
    TrainEndCheckpoint,
)
from torch.optim.lr_scheduler import StepLR

import sigest
from sigest.persistence import ModelFileError, from_json, to_json

RNG = np.random.default_rng(0)
X = RNG.standard_normal((24, 2, 32))
Y_INT = np.repeat([0, 1], 12)

TinyClassifier = partial(sigest.get_estimator, "tiny-conv-classifier")
TinyGANGenerator = partial(sigest.get_estimator, "tiny-mlp-gan")
TinyDenoiser = partial(sigest.get_estimator, "tiny-conv-denoiser")


def _save_without_warnings(est, path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return est.save(path)


def _through_json(value):
    return from_json(json.loads(json.dumps(to_json(value))))


def _keys(d):
    return [(type(k), k) for k in d]


def _edit_header(path, edit):
    with zipfile.ZipFile(path) as zf:
        header = json.loads(zf.read("sigest.json"))
        weights = zf.read("weights.pt")
    edit(header)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("sigest.json", json.dumps(header))
        zf.writestr("weights.pt", weights)


@pytest.mark.parametrize("class_weight", [
    {0: 1.0, 1: 3.0},
    {np.int64(0): 1.0, np.int64(1): 3.0},
], ids=["int", "numpy-int"])
def test_class_weight_with_int_keys_round_trips(tmp_path, class_weight):
    est = TinyClassifier(max_epochs=1, random_state=0, class_weight=class_weight).fit(X, Y_INT)
    loaded = sigest.load(_save_without_warnings(est, tmp_path / "m.zip"))
    assert loaded.class_weight == {0: 1.0, 1: 3.0}
    assert _keys(loaded.class_weight) == [(int, 0), (int, 1)]
    np.testing.assert_array_equal(loaded._class_weight_tensor().numpy(),
                                  est._class_weight_tensor().numpy())
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))


def test_sampling_strategy_with_int_keys_round_trips(tmp_path):
    y = np.repeat([0, 1], [16, 8])
    gen = TinyGANGenerator(max_epochs=1, random_state=0, sampling_strategy={1: 30})
    gen.fit(X[:, 0], y)
    loaded = sigest.load(_save_without_warnings(gen, tmp_path / "g.zip"))
    assert loaded.sampling_strategy == {1: 30}
    assert _keys(loaded.sampling_strategy) == [(int, 1)]
    np.testing.assert_array_equal(loaded.sample(3, y=1, random_state=0),
                                  gen.sample(3, y=1, random_state=0))


def test_early_stopping_callback_round_trips(tmp_path):
    stop = EarlyStopping(patience=3, monitor="valid_loss")
    den = TinyDenoiser(max_epochs=1, random_state=0, train_split=0.25, callbacks=[stop]).fit(X)
    path = _save_without_warnings(den, tmp_path / "d.zip")
    with zipfile.ZipFile(path) as zf:
        assert json.loads(zf.read("sigest.json"))["dropped_params"] == []
    loaded = sigest.load(path)
    (cb,) = loaded.callbacks
    assert type(cb) is EarlyStopping
    assert cb.get_params() == stop.get_params()
    assert cb.sink is print
    np.testing.assert_array_equal(loaded.transform(X), den.transform(X))


@pytest.mark.parametrize("callback", [
    EarlyStopping(patience=3, monitor="valid_loss"),
    PrintLog(),
    LRScheduler(policy=StepLR, step_size=2),
    LRScheduler(),
    Checkpoint(dirname="ckpt"),
    TrainEndCheckpoint(),
    LoadInitState(Checkpoint()),
    EpochScoring("accuracy", lower_is_better=False),
    BatchScoring("accuracy"),
    PassthroughScoring("valid_acc"),
    GradientNormClipping(1.0),
    ProgressBar(),
    EpochTimer(),
], ids=lambda cb: type(cb).__name__)
def test_stock_skorch_callbacks_round_trip(callback):
    loaded = _through_json(callback)
    assert type(loaded) is type(callback)
    assert to_json(loaded) == to_json(callback)
    # named callbacks, as skorch also takes them
    (name, again), = _through_json([("cb", callback)])
    assert name == "cb" and to_json(again) == to_json(callback)


def test_mixed_and_scalar_key_types_keep_their_type():
    mixed = {"a": 1, 2: "b", None: [3], 1.5: (4, 5), False: {"x": 6}, -7: {8: 9.0}}
    loaded = _through_json(mixed)
    assert loaded == mixed
    assert _keys(loaded) == _keys(mixed)
    assert _keys(loaded[-7]) == [(int, 8)]
    assert isinstance(loaded[1.5], tuple)


@pytest.mark.parametrize("plain", [
    {"__dict__": [[1, 2]]},
    {"__tuple__": [1, 2]},
    {"__import__": "builtins.eval"},
    {"__estimator__": "torch.save", "params": {}},
    {"a": {"__ndarray__": [1], "dtype": "<i8"}},
])
def test_string_keyed_dicts_that_look_like_markers_do_not_collide(plain):
    loaded = _through_json(plain)
    assert loaded == plain
    assert _keys(loaded) == _keys(plain)


def test_files_written_before_keyed_dicts_still_load():
    # the plain JSON objects and markers an older writer produced read back as before
    old = {"a": 1, "b": {"__tuple__": [1, 2]}, "c": {"d": [1.5, None]},
           "e": {"__import__": "torch.nn.modules.loss.MSELoss"}}
    from torch.nn import MSELoss

    assert from_json(old) == {"a": 1, "b": (1, 2), "c": {"d": [1.5, None]}, "e": MSELoss}
    shipped = sorted((Path(sigest.__file__).parent / "pretrained").glob("*.zip"))
    assert shipped
    assert type(sigest.load(shipped[0])).__name__.endswith("Denoiser")


def test_unsupported_keys_are_still_dropped_with_the_warning(tmp_path):
    est = TinyClassifier(max_epochs=1, random_state=0).fit(X, Y_INT)
    est.set_params(class_weight={(0, 1): 1.0})  # a key fit would refuse: not a class
    with pytest.warns(UserWarning, match=r"\['class_weight'\] cannot be stored safely"):
        path = est.save(tmp_path / "m.zip")
    assert sigest.load(path).class_weight is None


@pytest.mark.parametrize("danger", [eval, exec, open, __import__, getattr, compile])
def test_a_disallowed_builtin_is_still_refused_on_save(tmp_path, danger):
    den = TinyDenoiser(max_epochs=1, random_state=0,
                       callbacks=[EarlyStopping(monitor="train_loss", sink=danger)]).fit(X)
    with pytest.warns(UserWarning, match=r"\['callbacks'\] cannot be stored safely \(not JSON "
                                         r"and not importable from a trusted package\)"):
        path = den.save(tmp_path / "d.zip")
    assert sigest.load(path).callbacks is None


@pytest.mark.parametrize("path", [
    "builtins.eval",
    "builtins.open",
    "builtins.__import__",
    "builtins.print.__self__.eval",     # print's __self__ is the builtins module
    "torch.os.system",                  # a trusted prefix, but os.system lives in posix
    "sigest.persistence.importlib.import_module",
    "torch.os",                         # a module, not a class or function
])
def test_crafted_files_naming_untrusted_objects_are_refused(tmp_path, path):
    den = TinyDenoiser(max_epochs=1, random_state=0).fit(X)
    saved = den.save(tmp_path / "d.zip")
    _edit_header(saved, lambda h: h["params"].update(criterion={"__import__": path}))
    with pytest.raises(ModelFileError, match="outside the packages sigest loads from|cannot "
                                             "import"):
        sigest.load(saved)


@pytest.mark.parametrize("where, value, match", [
    # torch.save(obj=1, f=...) would write a file if any importable were called on load
    ("params", lambda tmp: {"__estimator__": "torch.save",
                            "params": {"obj": 1, "f": str(tmp / "x")}},
     "as an estimator, which it is not"),
    ("params", lambda tmp: {"__dict__": [[{"k": 1}, 2]]}, "list of \\[key, value\\] pairs"),
    ("params", lambda tmp: {"__dict__": "nope"}, "list of \\[key, value\\] pairs"),
    ("class", lambda tmp: "torch.save", "as an estimator, which it is not"),
])
def test_crafted_estimators_and_keyed_dicts_are_refused(tmp_path, where, value, match):
    den = TinyDenoiser(max_epochs=1, random_state=0).fit(X)
    saved = den.save(tmp_path / "d.zip")
    crafted = value(tmp_path)

    def edit(header):
        if where == "class":
            header["estimator"] = None
            header["class"] = crafted
        else:
            header["params"]["noise"] = crafted

    _edit_header(saved, edit)
    with pytest.raises(ModelFileError, match=match):
        sigest.load(saved)
    assert not (tmp_path / "x").exists()
