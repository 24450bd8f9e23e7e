"""Shipped pretrained weights: lookup, model cards, size, and that they denoise held-out data."""

import numpy as np
import pytest
import torch

import sigest
from sigest.pretrained import HERE, available, load_pretrained, model_card

EXPECTED = [("bg-attention", "eegdenoisenet-emg"), ("cdae-bam", "eegdenoisenet-emg"),
            ("cdae-bam", "eegdenoisenet-eog"), ("cdae-bam", "mitbih-nstdb"),
            ("fcnn", "eegdenoisenet-eog")]


def test_available_lists_the_shipped_models():
    assert available() == sorted(EXPECTED)


def test_shipped_files_are_small_and_have_cards():
    total = sum(p.stat().st_size for p in HERE.iterdir() if p.suffix in (".zip", ".md"))
    assert total < 5e6
    for name, tag in available():
        card = model_card(name, tag)
        for needed in ("data:", "split:", "protocol:", "command: `python scripts/"
                       "train_pretrained.py", "Held-out metrics", "| all | denoised |"):
            assert needed in card, (name, tag, needed)


@pytest.mark.parametrize("name,tag", EXPECTED)
def test_load_and_denoise(name, tag):
    est = sigest.get_estimator(name, pretrained=tag)
    assert isinstance(est, sigest.get_estimator_class(name))
    assert est.sfreq_ in (256.0, 360.0)
    X = np.random.default_rng(0).standard_normal((3, est.n_times_in_))
    out = est.transform(X)
    assert out.shape == X.shape and np.all(np.isfinite(out))
    assert load_pretrained(name, tag).n_times_in_ == est.n_times_in_


def test_pretrained_with_params_and_unknown_tag():
    est = sigest.get_estimator("fcnn", pretrained="eegdenoisenet-eog", batch_size=7)
    assert est.batch_size == 7
    with pytest.raises(ValueError, match="shipped: .*fcnn:eegdenoisenet-eog"):
        sigest.get_estimator("fcnn", pretrained="no-such-tag")


@pytest.mark.parametrize("name", ["cdae-bam", "fcnn"])
def test_eog_weights_beat_the_noisy_input_on_held_out_epochs(shared_data, name):
    """The 21 test epochs of the card's split, official pairs at all 10 SNR levels."""
    from sigest.datasets import load_eegdenoisenet_eog_test
    from sigest.metrics import rrmse_temporal
    from sigest.recordings import denoise_array

    data = load_eegdenoisenet_eog_test(path=shared_data)
    test = np.sort(np.random.default_rng(2021).permutation(101)[80:])
    rows = np.isin(data.epoch, test)
    est = load_pretrained(name, "eegdenoisenet-eog")
    denoised = denoise_array(est, data.noisy[rows], 256.0)
    assert rrmse_temporal(data.clean[rows], denoised) < \
        0.8 * rrmse_temporal(data.clean[rows], data.noisy[rows])


def test_cli_uses_shipped_weights(tmp_path, shared_data, capsys):
    from sigest.cli import main
    from sigest.recordings import read_recording

    excerpt = tmp_path / "ecg_raw.fif"
    read_recording(shared_data / "mitdb" / "100.hea").crop(0, 30).save(excerpt, verbose="error")
    out = tmp_path / "ecg_denoised_raw.fif"
    assert main(["denoise", str(excerpt), str(out), "--model", "cdae-bam:mitbih-nstdb",
                 "--quiet"]) == 0
    assert "RRMSE of output vs input" in capsys.readouterr().out and out.exists()
    assert main(["denoise", str(excerpt), str(out), "--model", "cdae-bam", "--quiet"]) == 2
    assert "several shipped weights" in capsys.readouterr().err
    assert main(["denoise", str(excerpt), str(out), "--model", "fcnn", "--quiet"]) == 0


@pytest.mark.parametrize("params", [{"module__dropout": 0.1}, {"module__n_hidden_layers": 3},
                                    {"module": object}])
def test_pretrained_refuses_parameters_that_rebuild_the_network(params):
    # skorch rebuilds the network when a module__ parameter is set: random weights, still "fitted"
    (key,) = params
    with pytest.raises(ValueError, match=rf"{key} .*shipped weights.*without pretrained"):
        sigest.get_estimator("fcnn", pretrained="eegdenoisenet-eog", **params)
    est = sigest.get_estimator("fcnn", pretrained="eegdenoisenet-eog", batch_size=7, lr=1e-4)
    shipped = load_pretrained("fcnn", "eegdenoisenet-eog")
    for (name, mine), theirs in zip(est.module_.state_dict().items(),
                                    shipped.module_.state_dict().values()):
        assert torch.equal(mine, theirs), name


def test_estimator_names_with_underscores_are_split_from_their_tag(tmp_path, monkeypatch):
    import sigest.pretrained

    for stem in ("braindecode-signaljepa_postlocal_tuh-eeg", "cdae-bam_mitbih-nstdb"):
        (tmp_path / f"{stem}.zip").write_bytes(b"")
    (tmp_path / "notes.zip").write_bytes(b"")
    monkeypatch.setattr(sigest.pretrained, "HERE", tmp_path)
    assert available() == [("braindecode-signaljepa_postlocal", "tuh-eeg"),
                           ("cdae-bam", "mitbih-nstdb")]
