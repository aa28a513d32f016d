"""download_speech_model against archives served from a local HTTP server."""

from __future__ import annotations

import hashlib
import http.server
import io
import stat
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from assistant.conf import DEFAULT_MODEL_NAME

MODEL_FILES = ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf")


class _Archives(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    # Paths whose body is cut short after this many bytes (the connection then drops).
    truncate: dict[str, int] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: self.truncate.get(self.path, len(body))])

    def log_message(self, *args) -> None:
        return None


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, type[_Archives]]]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Archives)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Archives
    httpd.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def model_zip(ko_model) -> bytes:
    """The real Korean model laid out like vosk-model-small-en-us-0.15.zip (one top folder)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as bundle:
        for path in sorted(ko_model.rglob("*")):
            if path.is_file():
                bundle.write(path, f"{DEFAULT_MODEL_NAME}/{path.relative_to(ko_model).as_posix()}")
    return buffer.getvalue()


def _zip(entries: dict[str, bytes], *, symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in entries.items():
            bundle.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            bundle.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _small_model(prefix: str = f"{DEFAULT_MODEL_NAME}/") -> dict[str, bytes]:
    return {prefix + name: b"x" for name in MODEL_FILES}


def _serve(server, name: str, body: bytes) -> tuple[str, str]:
    url, handler = server
    handler.files[f"/{name}"] = body
    return f"{url}/{name}", hashlib.sha256(body).hexdigest()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_the_model_is_downloaded_checked_and_installed(
    server, model_zip, tmp_path, ko_model
) -> None:
    url, digest = _serve(server, "model.zip", model_zip)
    target = tmp_path / "speech-models" / DEFAULT_MODEL_NAME
    out = io.StringIO()
    call_command("download_speech_model", url=url, sha256=digest, target=str(target), stdout=out)
    assert "Installed the speech model" in out.getvalue()
    assert _leftovers(target.parent) == [DEFAULT_MODEL_NAME], "no temporary files left beside it"
    for name in ("am/final.mdl", "conf/model.conf", "graph/HCLr.fst"):
        assert (target / name).read_bytes() == (ko_model / name).read_bytes()

    import vosk

    vosk.SetLogLevel(-1)
    model = vosk.Model(model_path=str(target))
    assert vosk.KaldiRecognizer(model, 16000) is not None


def test_the_setting_chooses_the_source_and_its_digest(server, tmp_path, settings) -> None:
    url, digest = _serve(server, "configured.zip", _zip(_small_model()))
    settings.VOSK_MODEL_URL = url
    settings.VOSK_MODEL_SHA256 = digest
    settings.VOSK_MODEL_PATH = str(tmp_path / "model")
    call_command("download_speech_model", stdout=io.StringIO())
    assert (tmp_path / "model" / "am" / "final.mdl").is_file()


def test_a_wrong_hash_is_refused_and_nothing_is_installed(server, tmp_path) -> None:
    url, _digest = _serve(server, "tampered.zip", _zip(_small_model()))
    target = tmp_path / "models" / "m"
    with pytest.raises(CommandError, match="SHA-256 mismatch"):
        call_command("download_speech_model", url=url, sha256="0" * 64, target=str(target))
    assert _leftovers(target.parent) == []


def test_a_custom_url_needs_a_digest(server, tmp_path) -> None:
    url, _digest = _serve(server, "unsigned.zip", _zip(_small_model()))
    with pytest.raises(CommandError, match="needs the archive's SHA-256"):
        call_command("download_speech_model", url=url, target=str(tmp_path / "m"))
    with pytest.raises(CommandError, match="64 hexadecimal"):
        call_command("download_speech_model", url=url, sha256="abc", target=str(tmp_path / "m"))
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("entries", "symlink", "message"),
    [
        ({**_small_model(), "../../escaped.txt": b"owned"}, None, "leaves the target folder"),
        (
            {**_small_model(), f"{DEFAULT_MODEL_NAME}/../../../escaped.txt": b"owned"},
            None,
            "leaves the target folder",
        ),
        ({**_small_model(), "/etc/absolute.txt": b"owned"}, None, "absolute path"),
        (_small_model(), f"{DEFAULT_MODEL_NAME}/link", "symbolic link"),
    ],
)
def test_archive_paths_that_escape_the_target_are_refused(
    server, tmp_path, entries, symlink, message
) -> None:
    url, digest = _serve(
        server, f"evil-{message[:5]}-{len(entries)}.zip", _zip(entries, symlink=symlink)
    )
    target = tmp_path / "models" / "m"
    with pytest.raises(CommandError, match=message):
        call_command("download_speech_model", url=url, sha256=digest, target=str(target))
    assert _leftovers(target.parent) == []
    assert not (tmp_path / "escaped.txt").exists()


def test_an_archive_without_a_model_is_refused(server, tmp_path) -> None:
    url, digest = _serve(server, "notamodel.zip", _zip({"readme.txt": b"hello"}))
    with pytest.raises(CommandError, match="does not hold a Vosk model"):
        call_command("download_speech_model", url=url, sha256=digest, target=str(tmp_path / "m"))
    assert _leftovers(tmp_path) == []


def test_an_interrupted_download_leaves_no_half_installed_model(
    server, model_zip, tmp_path
) -> None:
    url, digest = _serve(server, "cut.zip", model_zip)
    server[1].truncate["/cut.zip"] = len(model_zip) // 3
    target = tmp_path / "speech-models" / DEFAULT_MODEL_NAME
    with pytest.raises(CommandError, match="failed|stopped after"):
        call_command("download_speech_model", url=url, sha256=digest, target=str(target))
    assert not target.exists()
    assert _leftovers(target.parent) == []


def test_a_missing_archive_is_reported(server, tmp_path) -> None:
    with pytest.raises(CommandError, match="404"):
        call_command(
            "download_speech_model",
            url=f"{server[0]}/nothing.zip",
            sha256="0" * 64,
            target=str(tmp_path / "m"),
        )
    assert _leftovers(tmp_path) == []


def test_an_installed_model_is_kept_unless_forced(server, tmp_path) -> None:
    target = tmp_path / "m"
    first_url, first = _serve(server, "first.zip", _zip(_small_model()))
    call_command(
        "download_speech_model",
        url=first_url,
        sha256=first,
        target=str(target),
        stdout=io.StringIO(),
    )
    second_entries = {**_small_model(), f"{DEFAULT_MODEL_NAME}/README": b"second"}
    second_url, second = _serve(server, "second.zip", _zip(second_entries))
    out = io.StringIO()
    call_command(
        "download_speech_model", url=second_url, sha256=second, target=str(target), stdout=out
    )
    assert "already installed" in out.getvalue()
    assert not (target / "README").exists()
    call_command(
        "download_speech_model",
        url=second_url,
        sha256=second,
        target=str(target),
        force=True,
        stdout=io.StringIO(),
    )
    assert (target / "README").read_bytes() == b"second"
    assert _leftovers(tmp_path) == ["m"]


def test_the_default_source_is_the_english_model_with_its_known_digest() -> None:
    from assistant import conf

    assert conf.model_url() == "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip"
    assert (
        conf.DEFAULT_MODEL_SHA256
        == "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"
    )
    assert conf.model_path().name == "vosk-model-small-en-us-0.15"
