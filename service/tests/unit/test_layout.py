"""The shape the service's Python keeps: what EB imports never reaches the build-time tools."""

import subprocess
import sys

import pytest

BUILD_TIME = ("tools", "skl2onnx", "onnx", "pytest")


def test_importing_the_app_imports_no_build_time_module(tmp_path):
    # A fresh interpreter, as gunicorn's: serving and everything it pulls in, then the modules it loaded.
    code = (
        "import sys, project_settings; sys.modules['serving.settings'] = project_settings\n"
        "import serving, serving.app\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    here = __import__("os").path.dirname(__file__)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=str(tmp_path),
        env={"PYTHONPATH": "%s:%s" % (here, here + "/../..")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    loaded = [m for m in out if m.split(".")[0] in BUILD_TIME]
    assert loaded == []
    assert "serving.app" in out


def test_old_imports_of_moved_modules_still_work():
    # A train.py written before 0.3.0 imports these from serving: the same module objects as the tools' own.
    import tools.onnx_conversion
    import tools.schema_derivation
    from serving import onnx_conversion
    from serving.schema_derivation import write_model_folder as old_path

    assert old_path is tools.schema_derivation.write_model_folder
    assert onnx_conversion is tools.onnx_conversion


def test_an_unknown_serving_module_is_still_an_import_error():
    with pytest.raises(ImportError):
        __import__("serving.no_such_module")
