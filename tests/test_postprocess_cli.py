"""`samplelab postprocess` and `samplelab export` as a user runs them."""

from __future__ import annotations

import shutil

import numpy as np

from app.cli import main


def test_postprocess_prints_a_summary_and_the_folder_last(tmp_path, capsys, bspysmg_folder):
    out = tmp_path / "out"
    code = main(
        [
            "postprocess",
            str(bspysmg_folder),
            "--out",
            str(out),
            "-q",
            "--charging-batches",
            "2",
            "--reference-batches",
            "1",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    lines = captured.out.strip().splitlines()
    assert lines[-1] == str(out)
    text = captured.out
    y = np.loadtxt(bspysmg_folder / "IO.dat")[:, 7]
    kept = int(np.count_nonzero((y > -156.68) & (y < 156.68)))
    assert f"{len(y)} in" in text and f"{kept} kept" in text
    assert f"({100 * (len(y) - kept) / len(y):.2f} % clipped)" in text
    assert "[-156.68, 156.68] nA" in text
    assert "Output 0" in text and "Input 6" in text and "amplification [39.17]" in text
    assert (out / "postprocessed_data.npz").is_file()
    assert (out / "output_distribution.png").is_file()


def test_postprocess_clip_none_and_range(tmp_path, capsys, bspysmg_folder):
    assert (
        main(
            [
                "postprocess",
                str(bspysmg_folder),
                "--out",
                str(tmp_path / "a"),
                "-q",
                "--clip",
                "none",
                "--no-figure",
            ]
        )
        == 0
    )
    assert "0 dropped (0.00 % clipped)" in capsys.readouterr().out
    assert not (tmp_path / "a" / "output_distribution.png").exists()
    assert (
        main(
            [
                "postprocess",
                str(bspysmg_folder),
                "--out",
                str(tmp_path / "b"),
                "-q",
                "--clip=-100,100",
            ]
        )
        == 0
    )
    with np.load(tmp_path / "b" / "postprocessed_data.npz") as data:
        assert np.all(np.abs(data["outputs"]) < 100)


def test_postprocess_errors_are_one_line(tmp_path, capsys, bspysmg_folder):
    folder = tmp_path / "broken"
    shutil.copytree(bspysmg_folder, folder)
    (folder / "IO.dat").chmod(0o644)
    raw = (folder / "IO.dat").read_bytes()
    (folder / "IO.dat").write_bytes(raw[:-10])
    before = sorted(p.name for p in folder.iterdir())
    code = main(["postprocess", str(folder), "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("samplelab: error: ") and "incomplete" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in folder.iterdir()) == before
    assert main(["postprocess", str(bspysmg_folder), "--clip", "sideways", "-q"]) == 1
    assert "not understood" in capsys.readouterr().err


def test_postprocess_merge_refusal(tmp_path, capsys, recording, config):
    from backend.config import parse_config
    from backend.sampling.session import start_session

    data = config.to_bspysmg()
    setup, inputs = data["driver"]["instruments_setup"], data["input_data"]
    for key in ("activation_channels", "activation_voltage_ranges", "activation_channel_mask"):
        setup[key] = setup[key][:6]
    inputs["activation_electrode_no"] = 6
    inputs["input_frequency"], inputs["phase"] = inputs["input_frequency"][:6], inputs["phase"][:6]
    other = parse_config(data)
    session = start_session(other, "simulated", path=tmp_path / "six.h5", seed=1, model="analytic")
    assert session.run().status == "complete"
    code = main(
        [
            "postprocess",
            str(recording),
            "--merge",
            str(tmp_path / "six.h5"),
            "-q",
            "--out",
            str(tmp_path / "m"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "cannot be merged" in err and "inputs is 6, but 7" in err
    assert not (tmp_path / "m").exists()


def test_export_each_format_prints_the_path(tmp_path, capsys, recording):
    for fmt, name in (("csv", "t.csv"), ("hdf5", "t.h5"), ("npz", "t.npz"), ("iodat", "dir")):
        code = main(
            ["export", str(recording), "--format", fmt, "--out", str(tmp_path / name), "-q"]
        )
        assert code == 0
        assert capsys.readouterr().out.strip().splitlines()[-1] == str(tmp_path / name)
    assert (tmp_path / "dir" / "IO.dat").is_file()


def test_export_of_a_peer_npz_needs_trust(tmp_path, capsys, bspysmg_folder):
    peer = str(bspysmg_folder / "postprocessed_data.npz")
    assert main(["export", peer, "--format", "hdf5", "--out", str(tmp_path / "x.h5"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "pickle" in err and "--trust-pickle" in err
    code = main(
        [
            "export",
            peer,
            "--format",
            "hdf5",
            "--out",
            str(tmp_path / "x.h5"),
            "-q",
            "--trust-pickle",
        ]
    )
    assert code == 0 and (tmp_path / "x.h5").is_file()


def test_a_full_disk_is_one_clear_message(tmp_path, capsys, bspysmg_folder, monkeypatch):
    from backend.data.formats import npz_write

    def no_space(self, block):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(npz_write.RowsMember, "write", no_space)
    out = tmp_path / "out"
    code = main(["postprocess", str(bspysmg_folder), "--out", str(out), "-q"])
    err = capsys.readouterr().err
    assert code != 0 and not out.exists()
    assert "No space left on device" in err and "free disk space" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
