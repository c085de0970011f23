"""The classroom server: allowed roots, safe zips, uploads, hostile input through the app, nothing leaked."""
from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.safety import roots as paths
from se_models.config import PROJECT
from se_models.data.archive import extract_image_folder
from se_models.data.datasets import as_source
from se_models.errors import DatasetError, PathNotAllowed
from tests.apphelp import APP
from tests.fakes import make_loaded, pattern, png_bytes, zip_bytes

ROOT = str(PROJECT)
FASHION = "se_resnet20_fashion_mnist"


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares width x height pixels and holds almost nothing: what a decompression bomb starts with."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def class_zip(prefix: str = "") -> bytes:
    return zip_bytes({f"{prefix}{cls}/{i}.png": png_bytes(pattern(kind, size=28, seed=i))
                      for cls, kind in (("Bag", "circle"), ("Trouser", "stripes")) for i in range(3)})


def test_config_listens_locally_keeps_xsrf_on_and_fits_the_weights_upload():
    import tomllib

    from dashboard.safety import uploads

    server = tomllib.loads((Path(ROOT) / ".streamlit" / "config.toml").read_text())["server"]
    assert server["address"] == "127.0.0.1" and paths.is_local(server["address"])
    assert server.get("enableXsrfProtection", True) is True
    assert server["maxUploadSize"] == uploads.WEIGHTS_MB > uploads.ZIP_MB > uploads.IMAGE_MB


# ---- allowed roots ----------------------------------------------------------------------------------------------
def test_roots_default_to_home_and_project_only_on_localhost(tmp_path):
    assert paths.is_local("127.0.0.1") and paths.is_local("localhost") and paths.is_local("::1")
    assert not paths.is_local(None) and not paths.is_local("") and not paths.is_local("0.0.0.0")
    assert set(paths.allowed_roots("localhost", environ={})) == {Path.home().resolve(), PROJECT}
    assert paths.allowed_roots(None, environ={}) == ()  # unset: Streamlit listens on every interface
    assert paths.allowed_roots("0.0.0.0", environ={}) == ()
    env = {paths.ENV: os.pathsep.join([str(tmp_path), str(tmp_path / "missing")])}
    assert paths.allowed_roots("0.0.0.0", environ=env) == (tmp_path.resolve(),)
    assert paths.allowed_roots("localhost", environ={paths.ENV: ""}) == ()  # set but empty: uploads only


def test_a_path_outside_the_roots_gets_one_message_that_names_nothing(tmp_path):
    root = tmp_path / "allowed"
    (root / "data").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    (root / "escape").symlink_to(tmp_path / "secret")
    roots = (root.resolve(),)
    assert paths.resolve_allowed(str(root / "data"), roots) == (root / "data").resolve()
    messages = set()
    for typed in ("/etc", "/no/such/place", str(tmp_path / "secret"), str(root / "data" / ".." / ".." / "secret"),
                  str(root / "escape"), str(root / "escape" / "x.png"), "", "a\x00b"):
        with pytest.raises(PathNotAllowed) as err:
            paths.resolve_allowed(typed, roots)
        messages.add(str(err.value))
    assert messages == {paths.REFUSED}  # the same words whether the path exists or not
    assert "secret" not in paths.REFUSED and "/" not in paths.REFUSED


def test_a_symlink_loop_is_refused_without_hanging(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(PathNotAllowed, match="symbolic-link loop"):
        paths.resolve_allowed(str(tmp_path / "a"), (tmp_path.resolve(),))


def test_folder_errors_count_but_never_list_what_a_folder_holds(tmp_path):
    for name in ("ssh", "apt", "PackageKit"):
        (tmp_path / name).mkdir()
    (tmp_path / "ssh" / "moduli").write_text("x")
    with pytest.raises(DatasetError) as err:
        as_source(str(tmp_path), make_loaded())
    message = str(err.value)
    assert "3 sub-folders" in message and "<class>/<image>" in message
    assert not any(name in message for name in ("ssh", "apt", "PackageKit", "moduli"))


# ---- safe zip extraction ----------------------------------------------------------------------------------------
def test_zip_of_a_class_folder_is_unpacked_and_validated(tmp_path):
    data = zip_bytes({"set/Bag/a.png": png_bytes(pattern("circle")), "set/Bag/empty.png": b"",
                      "set/Trouser/b.png": png_bytes(pattern("stripes")), "set/notes.txt": b"hi",
                      "__MACOSX/set/._a.png": b"junk"})
    dest, skipped = extract_image_folder(data, tmp_path / "out")
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*.png")) == ["Bag/a.png", "Trouser/b.png"]
    assert len(skipped) == 1 and "Bag/empty.png" in skipped[0] and "empty" in skipped[0]


@pytest.mark.parametrize("entries, links, reason", [
    ({"../evil.png": b"x", "a/b.png": b"x"}, None, "'..'"),
    ({"ok/../../evil.png": b"x"}, None, "'..'"),
    ({"/etc/evil.png": b"x"}, None, "absolute"),
    ({"C:/evil.png": b"x"}, None, "absolute"),
    ({"a/b.png": b"x"}, {"a/link.png": "/etc/passwd"}, "symbolic link"),
])
def test_unsafe_zips_are_refused_and_nothing_is_written(tmp_path, entries, links, reason):
    dest = tmp_path / "box" / "out"
    with pytest.raises(DatasetError, match=reason):
        extract_image_folder(zip_bytes(entries, links), dest)
    assert not dest.exists() and not (tmp_path / "evil.png").exists() and not (tmp_path / "box" / "evil.png").exists()


def test_zip_size_and_count_are_bounded_before_extraction(tmp_path, monkeypatch):
    from se_models import config

    data = class_zip()
    monkeypatch.setattr(config, "MAX_ZIP_FILES", 4)
    with pytest.raises(DatasetError, match="more than 4 images"):
        extract_image_folder(data, tmp_path / "a")
    monkeypatch.setattr(config, "MAX_ZIP_FILES", 5000)
    monkeypatch.setattr(config, "MAX_ZIP_TOTAL_BYTES", 1000)
    with pytest.raises(DatasetError, match="uncompressed"):
        extract_image_folder(data, tmp_path / "b")
    bomb = zip_bytes({"a/huge.png": b"\0" * (30 * 1024 ** 2), "b/x.png": b"x"})  # 30 MB of zeros, 30 kB zipped
    with pytest.raises(DatasetError, match="over 20 MB"):
        extract_image_folder(bomb, tmp_path / "c")
    with pytest.raises(DatasetError, match="not a readable zip"):
        extract_image_folder(b"PK\x03\x04 not a zip", tmp_path / "d")
    assert not any((tmp_path / d).exists() for d in "abcd")


def test_a_zip_with_one_class_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="at least two"):
        extract_image_folder(zip_bytes({"Bag/a.png": png_bytes(pattern("circle"))}), tmp_path / "o")


# ---- hostile input through the app ------------------------------------------------------------------------------
def app(monkeypatch, roots: str | None, **params) -> AppTest:
    if roots is None:
        monkeypatch.delenv(paths.ENV, raising=False)
    else:
        monkeypatch.setenv(paths.ENV, roots)
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def messages(at: AppTest) -> list[str]:
    return [e.value for e in (*at.error, *at.warning, *at.exception)]


def assert_nothing_leaked(at: AppTest, *secrets: str) -> None:
    for text in messages(at) + [c.value for c in at.caption]:
        assert "Traceback" not in text and ROOT not in text and "se-explorer-" not in text, text
        assert not any(s in text for s in secrets), text


def test_typed_folders_outside_the_roots_are_refused_alike(monkeypatch, tmp_path):
    at = app(monkeypatch, str(tmp_path), view="classes", model=FASHION, source="folder")
    for typed in ("/etc", "/no/such/folder", ROOT + "/assets", str(tmp_path / ".." / "..")):
        at.text_input(key="folder").set_value(typed).run()
        assert [e.value for e in at.error] == [paths.REFUSED], typed
        assert not at.exception
    assert_nothing_leaked(at, "ssh", "apt", "samples", "models")


def test_a_folder_of_empty_images_and_a_symlink_loop_give_clear_messages(monkeypatch, tmp_path):
    for cls in ("Bag", "Trouser"):
        (tmp_path / "zero" / cls).mkdir(parents=True)
        for i in range(3):
            (tmp_path / "zero" / cls / f"{i}.png").write_bytes(b"")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    at = app(monkeypatch, str(tmp_path), view="classes", model=FASHION, source="folder")
    at.text_input(key="folder").set_value(str(tmp_path / "zero")).run()
    assert not at.exception and len(at.error) == 1, messages(at)
    assert "empty" in at.error[0].value or "no readable image" in at.error[0].value, at.error[0].value
    at.text_input(key="folder").set_value(str(tmp_path / "loop")).run()
    assert [e.value for e in at.error] == ["This path cannot be resolved (a symbolic-link loop?)."]
    assert_nothing_leaked(at)


def test_a_zip_with_parent_entries_is_refused_in_the_app(monkeypatch, tmp_path):
    at = app(monkeypatch, "", view="classes", model=FASHION, source="folder")
    assert "folder" not in [t.key for t in at.text_input]  # no server folders: no path field, a zip uploader
    evil = zip_bytes({"../../evil.png": png_bytes(pattern("circle")), "Bag/a.png": png_bytes(pattern("circle"))})
    at.file_uploader(key="folder_zip").set_value([("evil.zip", evil, "application/zip")]).run()
    assert not at.exception and len(at.error) == 1 and at.error[0].value.startswith("evil.zip:")
    assert "'..'" in at.error[0].value
    assert_nothing_leaked(at)


def test_an_uploaded_zip_of_class_folders_draws_the_class_curves(monkeypatch):
    at = app(monkeypatch, "", view="classes", model=FASHION, source="folder")
    at.number_input(key="per_class").set_value(3).run()
    at.file_uploader(key="folder_zip").set_value([("my classes.zip", class_zip("top/"), "application/zip")]).run()
    assert not at.exception and not at.error, messages(at)
    curves = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                  if "per channel and class" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    assert {t.get("name") for t in curves["data"]} == {"Bag", "Trouser", "all"}
    assert any(c.value.startswith("Data: my classes.zip") for c in at.caption)
    assert_nothing_leaked(at)


def test_a_huge_png_header_upload_is_one_error(monkeypatch):
    at = app(monkeypatch, None)
    at.file_uploader(key="uploads").set_value([("bomb.png", png_header(20_000, 20_000), "image/png")]).run()
    assert not at.exception
    assert len(at.error) == 1 and "bomb.png" in at.error[0].value and "decompression bomb" in at.error[0].value
    assert_nothing_leaked(at)


ZOO = "legacy_seresnet50.in1k"


def test_weights_paths_outside_the_roots_are_refused(monkeypatch, tmp_path):
    at = app(monkeypatch, str(tmp_path), model=ZOO, weights="file")
    at.text_input(key="weights_path").set_value("/etc/passwd").run()
    assert [e.value for e in at.error] == [paths.REFUSED]
    at.text_input(key="weights_path").set_value(ROOT + "/assets/models/se_resnet20_cifar10.safetensors").run()
    assert [e.value for e in at.error] == [paths.REFUSED]
    at = app(monkeypatch, "", model=ZOO, weights="file")  # no roots: no server files offered at all
    assert "file" not in at.radio(key="weights").options and at.radio(key="weights").value == "pretrained"


def test_uploaded_weights_are_checked_against_the_architecture(monkeypatch, tmp_path):
    import timm
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(3)
    good = timm.create_model("regnety_002")
    save_file(good.state_dict(), str(tmp_path / "good.safetensors"))
    save_file(timm.create_model("regnety_002", num_classes=10).state_dict(), str(tmp_path / "c10.safetensors"))
    at = app(monkeypatch, "", model="timm:regnety_002", weights="upload", photos=["chelsea.jpg"])
    assert not at.error and not at.exception and "Upload a weights file" in at.info[0].value
    at.file_uploader(key="weights_upload").set_value(
        [("c10.safetensors", (tmp_path / "c10.safetensors").read_bytes(), "application/octet-stream")]).run()
    assert len(at.error) == 1 and "does not match" in at.error[0].value and "(10, 368)" in at.error[0].value
    assert_nothing_leaked(at)
    at.file_uploader(key="weights_upload").set_value(
        [("good.safetensors", (tmp_path / "good.safetensors").read_bytes(), "application/octet-stream")]).run()
    assert not at.exception and not at.error, messages(at)
    assert any("good.safetensors" in c.value for c in at.caption)
    # the page's top class is the one these weights give: the upload, not timm's pretrained or random weights
    import se_models

    m = se_models.load_model("timm:regnety_002", weights=tmp_path / "good.safetensors")
    expected = m.labels[se_models.analyze_image(m, se_models.load_image("assets/photos/chelsea.jpg")).predicted]
    bars = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                if json.loads(c.proto.spec)["layout"]["title"]["text"] == "Top-5 prediction")
    assert bars["data"][0]["y"][-1] == expected  # the top bar is drawn last


def test_the_hook_check_sees_a_hook_and_is_off_without_its_variable(tiny, monkeypatch):
    from dashboard.views.debug import hook_count

    assert hook_count(tiny.model) == 0
    handle = next(tiny.model.children()).register_forward_hook(lambda *args: None)
    assert hook_count(tiny.model) == 1
    handle.remove()
    monkeypatch.delenv("SE_EXPLORER_DEBUG", raising=False)
    at = app(monkeypatch, None, debug="hooks", keys=["se_resnet20_cifar10"])
    assert not at.code or all("{" not in c.value for c in at.code)  # the normal app, no debug output
    assert any(t["layout"]["title"]["text"] == "Top-5 prediction"
               for t in (json.loads(c.proto.spec) for c in at.get("plotly_chart")))


def test_the_last_line_of_defence_shows_no_server_path():
    def script():
        from pathlib import Path

        from dashboard import ui

        def broken():
            raise FileNotFoundError(f"[Errno 2] No such file: '{Path.home()}/x/{Path(ui.__file__).parent}/secret.json'")
        ui.guarded(broken)()

    at = AppTest.from_function(script, default_timeout=30).run()
    assert len(at.error) == 1 and "secret.json" in at.error[0].value
    assert str(Path.home()) + "/" not in at.error[0].value and ROOT not in at.error[0].value
