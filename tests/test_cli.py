"""The ``refkeras`` command: the demo reaches the accuracy the README promises."""

from refkeras import cli


def test_demo_trains_the_guide_mlp_to_95_percent(capsys):
    accuracy = cli.demo(verbose=0)
    out = capsys.readouterr().out
    assert accuracy >= 0.95
    assert "Test accuracy:" in out and 'Model: "functional' in out
    assert "val_sparse_categorical_accuracy" in out  # validation ran


def test_version_reports_the_backend(capsys):
    assert cli.main(["--version"]) == 0
    out = capsys.readouterr().out
    assert "refkeras" in out and "backend: numpy" in out
