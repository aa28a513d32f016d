"""Install the Vosk speech model the assistant listens with.

    python manage.py download_speech_model                 # the English model, from alphacephei
    python manage.py download_speech_model --url URL --sha256 HEX   # another archive
    python manage.py download_speech_model --force         # replace an installed model

The archive is checked before anything is unpacked (size, SHA-256: a known
digest for the default archive; a custom URL needs --sha256 or the
VOSK_MODEL_SHA256 setting). Entries that would land outside the target
(absolute paths, "..", symlinks) are refused. Unpacking happens in a temporary
folder beside the target, which is renamed into place only once complete, so a
failed or interrupted run never leaves a half-installed model behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant import conf
from assistant.speech import MODEL_MARKERS

CHUNK = 1024 * 1024
# A model unpacks to a few times its archive; more is a zip bomb.
MAX_EXPANSION = 10
MAX_ENTRIES = 10_000


class Command(BaseCommand):
    help = "Download, verify and install the Vosk speech model (VOSK_MODEL_PATH)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", help="Archive to install (default: VOSK_MODEL_URL or the English small model)."
        )
        parser.add_argument(
            "--sha256", help="Expected SHA-256 of the archive (required for a custom URL)."
        )
        parser.add_argument("--target", help="Folder to install into (default: VOSK_MODEL_PATH).")
        parser.add_argument(
            "--force", action="store_true", help="Replace a model already installed there."
        )
        parser.add_argument(
            "--timeout", type=float, default=60.0, help="Network timeout in seconds."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["url"] or conf.model_url()
        if not url.startswith(("https://", "http://")):
            raise CommandError("Only http(s) URLs can be downloaded.")
        expected_sha, expected_size = self._expected(url, options["sha256"])
        target = Path(options["target"] or conf.model_path()).resolve()
        if target.exists() and not options["force"]:
            self.stdout.write(
                f"A model is already installed at {target}; use --force to replace it."
            )
            return
        target.parent.mkdir(parents=True, exist_ok=True)

        archive: Path | None = None
        staging: Path | None = None
        try:
            archive = self._download(url, target.parent, options["timeout"], expected_size)
            self._verify(archive, expected_sha, expected_size)
            staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.staging-"))
            root = self._extract(archive, staging)
            self._install(root, target)
        finally:
            if archive is not None:
                archive.unlink(missing_ok=True)
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
        self.stdout.write(self.style.SUCCESS(f"Installed the speech model at {target}"))

    # --- Steps -------------------------------------------------------------------------

    def _expected(self, url: str, given: str | None) -> tuple[str, int | None]:
        if given:
            return self._hex(given), None
        if url == conf.DEFAULT_MODEL_URL:
            return conf.DEFAULT_MODEL_SHA256, conf.DEFAULT_MODEL_BYTES
        configured = conf.model_sha256()
        if configured:
            return self._hex(configured), None
        raise CommandError(
            "A custom URL needs the archive's SHA-256: pass --sha256 (or set VOSK_MODEL_SHA256)."
        )

    def _hex(self, value: str) -> str:
        value = value.strip().lower()
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise CommandError("--sha256 must be 64 hexadecimal characters.")
        return value

    def _download(self, url: str, folder: Path, timeout: float, expected_size: int | None) -> Path:
        limit = expected_size or conf.model_max_bytes()
        handle, name = tempfile.mkstemp(dir=folder, prefix=".download-", suffix=".zip")
        path = Path(name)
        received = 0
        try:
            with (
                os.fdopen(handle, "wb") as out,
                urllib.request.urlopen(url, timeout=timeout) as response,  # noqa: S310 - http(s) only, checked above
            ):
                announced = response.headers.get("Content-Length")
                if announced and int(announced) > limit:
                    raise CommandError(
                        f"The archive is {int(announced)} bytes, more than the {limit} allowed."
                    )
                while chunk := response.read(CHUNK):
                    received += len(chunk)
                    if received > limit:
                        raise CommandError(f"The archive is larger than the {limit} bytes allowed.")
                    out.write(chunk)
                if announced and received != int(announced):
                    raise CommandError(
                        f"The download stopped after {received} of {announced} bytes."
                    )
        except (urllib.error.URLError, OSError, ValueError) as exc:
            path.unlink(missing_ok=True)
            raise CommandError(f"Downloading {url} failed: {exc}") from exc
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        self.stdout.write(f"Downloaded {received} bytes from {url}")
        return path

    def _verify(self, archive: Path, expected_sha: str, expected_size: int | None) -> None:
        size = archive.stat().st_size
        if expected_size is not None and size != expected_size:
            raise CommandError(
                f"The archive is {size} bytes; expected {expected_size}. Refusing to install it."
            )
        digest = hashlib.sha256()
        with archive.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        if digest.hexdigest() != expected_sha:
            raise CommandError(
                f"SHA-256 mismatch: got {digest.hexdigest()}, expected {expected_sha}. Refusing to install it."
            )

    def _extract(self, archive: Path, staging: Path) -> Path:
        try:
            with zipfile.ZipFile(archive) as bundle:
                entries = bundle.infolist()
                self._check_entries(entries, archive.stat().st_size)
                base = staging.resolve()
                for entry in entries:
                    destination = (base / entry.filename).resolve()
                    if destination != base and base not in destination.parents:
                        raise CommandError(
                            f"Refusing archive entry outside the target: {entry.filename!r}"
                        )
                    bundle.extract(entry, base)
        except zipfile.BadZipFile as exc:
            raise CommandError("The download is not a valid zip archive.") from exc
        tops = {
            PurePosixPath(e.filename).parts[0] for e in entries if PurePosixPath(e.filename).parts
        }
        root = (
            staging / next(iter(tops))
            if len(tops) == 1 and (staging / next(iter(tops))).is_dir()
            else staging
        )
        missing = [marker for marker in MODEL_MARKERS if not (root / marker).is_file()]
        if missing:
            raise CommandError(
                f"The archive does not hold a Vosk model (missing {', '.join(missing)})."
            )
        return root

    def _check_entries(self, entries: list[zipfile.ZipInfo], archive_size: int) -> None:
        if not entries:
            raise CommandError("The archive is empty.")
        if len(entries) > MAX_ENTRIES:
            raise CommandError("The archive has too many entries.")
        total = 0
        for entry in entries:
            name = entry.filename
            path = PurePosixPath(name.replace("\\", "/"))
            if (
                name.startswith(("/", "\\"))
                or path.is_absolute()
                or (len(name) > 1 and name[1] == ":")
            ):
                raise CommandError(f"Refusing absolute path in the archive: {name!r}")
            if ".." in path.parts:
                raise CommandError(f"Refusing path that leaves the target folder: {name!r}")
            mode = entry.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise CommandError(f"Refusing symbolic link in the archive: {name!r}")
            total += entry.file_size
        if total > max(archive_size, 1) * MAX_EXPANSION + CHUNK:
            raise CommandError("The archive unpacks to far more than its size; refusing it.")

    def _install(self, root: Path, target: Path) -> None:
        backup: Path | None = None
        if target.exists():
            backup = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, backup)
        try:
            # Same folder, same filesystem: the rename is atomic.
            os.replace(root, target)
        except OSError:
            if backup is not None:
                os.replace(backup, target)
            raise
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
