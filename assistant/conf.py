"""The assistant's settings, each read with a default so a bare checkout runs.

Operators set them in settings.py (or leave them): none is required.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

DEFAULT_MODEL_NAME = "vosk-model-small-en-us-0.15"
DEFAULT_MODEL_URL = f"https://alphacephei.com/vosk/models/{DEFAULT_MODEL_NAME}.zip"
# The published archive's digest and size (alphacephei publishes neither; these
# are the values of the archive as served, recorded by several projects).
DEFAULT_MODEL_SHA256 = "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"
DEFAULT_MODEL_BYTES = 41_205_931


def model_path() -> Path:
    """Folder of the Vosk model used for speech (VOSK_MODEL_PATH)."""
    default = Path(settings.BASE_DIR) / "speech-models" / DEFAULT_MODEL_NAME
    return Path(getattr(settings, "VOSK_MODEL_PATH", default))


def model_url() -> str:
    """Where download_speech_model fetches the archive (VOSK_MODEL_URL)."""
    return str(getattr(settings, "VOSK_MODEL_URL", DEFAULT_MODEL_URL))


def model_sha256() -> str:
    """Expected SHA-256 of a custom archive (VOSK_MODEL_SHA256); "" when none is configured."""
    return str(getattr(settings, "VOSK_MODEL_SHA256", ""))


def model_max_bytes() -> int:
    """Largest archive download_speech_model accepts (ASSISTANT_MODEL_MAX_BYTES)."""
    return int(getattr(settings, "ASSISTANT_MODEL_MAX_BYTES", 2 * 1024**3))


def speech_workers() -> int:
    """Threads recognising speech at once, per process (ASSISTANT_SPEECH_WORKERS)."""
    return max(1, int(getattr(settings, "ASSISTANT_SPEECH_WORKERS", 2)))


def max_utterance_seconds() -> float:
    """Longest stream or upload accepted, in seconds of audio (ASSISTANT_MAX_UTTERANCE_SECONDS)."""
    return float(getattr(settings, "ASSISTANT_MAX_UTTERANCE_SECONDS", 30.0))


def max_text_length() -> int:
    """Longest typed or transcribed utterance handled (ASSISTANT_MAX_TEXT_LENGTH)."""
    return int(getattr(settings, "ASSISTANT_MAX_TEXT_LENGTH", 1000))
