"""Speech to text with Vosk: one model per process, one recognizer per stream.

The model (tens to hundreds of MB) is loaded lazily, once, from
VOSK_MODEL_PATH: never with `Model(lang=...)`, which downloads and can exit
the process. Recognition is CPU-bound C++ code, so it runs in a bounded thread
pool (ASSISTANT_SPEECH_WORKERS) and the event loop only awaits it.

Audio is 16 kHz mono 16-bit little-endian PCM, streamed in chunks or uploaded
as a WAV file; anything else is refused with a message a person can act on.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import threading
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from django.utils.translation import gettext as _

from assistant import conf

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
SAMPLE_WIDTH = 2  # bytes: 16-bit
CHANNELS = 1
BYTES_PER_SECOND = SAMPLE_RATE * SAMPLE_WIDTH * CHANNELS
# Files that a model folder must hold for Vosk to load it.
MODEL_MARKERS = ("am/final.mdl", "conf/model.conf")

T = TypeVar("T")


class SpeechUnavailable(Exception):
    """No speech model is installed (or it failed to load): voice is off, typing still works."""


class AudioError(ValueError):
    """Audio that cannot be recognised as sent; the message says why, for the user."""


@dataclass(frozen=True)
class VoiceStatus:
    available: bool
    reason: str = ""


def model_folder_problem(path: Path) -> str | None:
    """Why `path` is not a usable model folder, or None when it looks like one."""
    if not path.is_dir():
        return _("No speech model is installed on this server.")
    missing = [marker for marker in MODEL_MARKERS if not (path / marker).is_file()]
    if missing:
        return _("The speech model on this server is incomplete.")
    return None


def voice_status() -> VoiceStatus:
    """Whether voice input can work here, without loading the model."""
    path = conf.model_path()
    with _lock:
        failed = _failed.get(str(path))
    if failed:
        return VoiceStatus(False, failed)
    problem = model_folder_problem(path)
    if problem:
        return VoiceStatus(False, problem + " " + _("Voice input is off; you can still type."))
    return VoiceStatus(True)


# --- The model and the recognizers -------------------------------------------------

_lock = threading.Lock()
_models: dict[str, Any] = {}
_failed: dict[str, str] = {}
_stats = {"models_loaded": 0, "recognizers_created": 0}
_executor: ThreadPoolExecutor | None = None


def stats() -> dict[str, int]:
    """How many models were loaded and recognizers made in this process (for tests and the bench)."""
    with _lock:
        return dict(_stats)


def get_model() -> Any:
    """The process's vosk.Model for VOSK_MODEL_PATH, loaded on first use (blocking: call in the pool)."""
    path = conf.model_path()
    key = str(path)
    with _lock:
        model = _models.get(key)
        if model is not None:
            return model
        if key in _failed:
            raise SpeechUnavailable(_failed[key])
        problem = model_folder_problem(path)
        if problem:
            raise SpeechUnavailable(problem)
        import vosk

        vosk.SetLogLevel(-1)
        try:
            # A path, never lang=...: that form downloads a model and may exit.
            model = vosk.Model(model_path=key)
        except Exception as exc:
            logger.exception("Loading the Vosk model at %s failed", key)
            _failed[key] = _(
                "The speech model on this server could not be loaded. Voice input is off; you can still type."
            )
            raise SpeechUnavailable(_failed[key]) from exc
        _models[key] = model
        _stats["models_loaded"] += 1
        return model


def executor() -> ThreadPoolExecutor:
    """The bounded pool every recognition runs in."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=conf.speech_workers(), thread_name_prefix="speech"
            )
        return _executor


async def in_pool(function: Callable[..., T], *args: Any) -> T:
    """Run blocking speech work in the pool and await it, leaving the event loop free."""
    return await asyncio.get_running_loop().run_in_executor(executor(), function, *args)


def _text_of(result_json: str, key: str) -> str:
    try:
        return str(json.loads(result_json).get(key, "")).strip()
    except ValueError:
        return ""


@dataclass(frozen=True)
class Heard:
    """What a chunk of audio changed: the text so far, and whether Vosk closed a phrase."""

    text: str
    changed: bool


# Words of the assistant's own commands, given to the recognizer as hints with the
# user's names (see StreamRecognizer). Lower case, as Vosk's English vocabularies are.
COMMAND_WORDS = (
    "appointment",
    "appointments",
    "book",
    "cancel",
    "reschedule",
    "move",
    "refill",
    "prescription",
    "prescriptions",
    "medication",
    "message",
    "doctor",
    "provider",
    "schedule",
    "chart",
    "note",
    "records",
    "office",
    "hours",
    "today",
    "tomorrow",
    "next",
    "yes",
    "no",
    "first",
    "second",
    "third",
)
UNKNOWN_WORD = "[unk]"


def supports_vocabulary(path: Path | None = None) -> bool:
    """Whether the model can take a vocabulary at run time: the small models' dynamic graph
    (graph/HCLr.fst with graph/Gr.fst); a big model's static HCLG.fst cannot."""
    folder = path or conf.model_path()
    graph = folder / "graph"
    return (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file()


def hint_words(phrases: list[str] | tuple[str, ...]) -> list[str]:
    """The distinct lower-case words of `phrases` (names, medicines), commands after them."""
    words: dict[str, None] = {}
    for phrase in [*phrases, *COMMAND_WORDS]:
        for word in str(phrase).lower().replace("-", " ").split():
            word = word.strip(".,;:!?()'\"")
            if word and word != UNKNOWN_WORD:
                words[word] = None
    return list(words)


def merge_hints(heard: str, hinted: list[str]) -> str:
    """The free transcript, then the hinted words it does not already contain (in order)."""
    present = set(heard.split())
    extra = [w for w in dict.fromkeys(hinted) if w not in present]
    return " ".join(p for p in [heard, *extra] if p)


class StreamRecognizer:
    """One stream's recognizer. Not thread-safe: feed it one chunk at a time (the consumer does).

    With `vocabulary` (the user's provider and medicine names; command words are
    added) and a model that supports it, a second recognizer restricted to those
    words plus "[unk]" listens alongside the free one: the free one writes the
    sentence, and the hinted words it could not spell (a name outside the model's
    language model, "metformin") are added to what it heard.
    """

    def __init__(
        self, *, max_seconds: float | None = None, vocabulary: list[str] | None = None
    ) -> None:
        import vosk

        model = get_model()
        self._recognizer = vosk.KaldiRecognizer(model, SAMPLE_RATE)
        self._hinted = None
        self._hinted_phrases: list[str] = []
        self.hints: list[str] = []
        if vocabulary is not None and supports_vocabulary():
            self.hints = hint_words(vocabulary)
            grammar = json.dumps([*self.hints, UNKNOWN_WORD], ensure_ascii=False)
            self._hinted = vosk.KaldiRecognizer(model, SAMPLE_RATE, grammar)
        with _lock:
            _stats["recognizers_created"] += 1
        self._phrases: list[str] = []
        self._partial = ""
        self._bytes = 0
        self._max_bytes = int((max_seconds or conf.max_utterance_seconds()) * BYTES_PER_SECOND)
        self._pending = b""

    @property
    def seconds(self) -> float:
        return self._bytes / BYTES_PER_SECOND

    @property
    def text(self) -> str:
        return " ".join(p for p in [*self._phrases, self._partial] if p)

    def accept(self, chunk: bytes) -> Heard:
        """Feed PCM; returns the running transcript (partial words included)."""
        if self._bytes + len(chunk) > self._max_bytes:
            raise AudioError(
                _("That was longer than %(seconds)d seconds; please say it in shorter parts.")
                % {"seconds": int(self._max_bytes / BYTES_PER_SECOND)}
            )
        self._bytes += len(chunk)
        # Keep sample alignment even if a client splits a sample across frames.
        data = self._pending + chunk
        if len(data) % SAMPLE_WIDTH:
            self._pending, data = data[-1:], data[:-1]
        else:
            self._pending = b""
        before = self.text
        if self._hinted is not None and self._hinted.AcceptWaveform(data):
            self._hinted_phrases.append(_text_of(self._hinted.Result(), "text"))
        if self._recognizer.AcceptWaveform(data):
            phrase = _text_of(self._recognizer.Result(), "text")
            if phrase:
                self._phrases.append(phrase)
            self._partial = ""
        else:
            self._partial = _text_of(self._recognizer.PartialResult(), "partial")
        return Heard(text=self.text, changed=self.text != before)

    def finish(self) -> str:
        """The final transcript of everything fed so far."""
        phrase = _text_of(self._recognizer.FinalResult(), "text")
        if phrase:
            self._phrases.append(phrase)
        self._partial = ""
        heard = " ".join(self._phrases)
        if self._hinted is None:
            return heard
        return merge_hints(heard, self.hinted_words())

    def hinted_words(self) -> list[str]:
        """What the hinted recognizer heard (only hint words; unknown speech dropped)."""
        if self._hinted is None:
            return []
        self._hinted_phrases.append(_text_of(self._hinted.FinalResult(), "text"))
        words = " ".join(self._hinted_phrases).split()
        return [w for w in words if w != UNKNOWN_WORD]


# --- Audio checks ------------------------------------------------------------------


def check_pcm_chunk(chunk: bytes) -> None:
    if not chunk:
        raise AudioError(_("An empty audio frame was sent."))


def pcm_from_wav(data: bytes, *, max_seconds: float | None = None) -> bytes:
    """The PCM frames of a 16 kHz mono 16-bit WAV file; AudioError says what is wrong otherwise."""
    limit = max_seconds or conf.max_utterance_seconds()
    if not data:
        raise AudioError(_("The recording is empty."))
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError(_("That file is not a WAV recording."))
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            channels = wav.getnchannels()
            width = wav.getsampwidth()
            rate = wav.getframerate()
            frames = wav.getnframes()
            if channels != CHANNELS:
                raise AudioError(
                    _("The recording has %(n)d channels; it must be mono (one channel).")
                    % {"n": channels}
                )
            if width != SAMPLE_WIDTH:
                raise AudioError(
                    _("The recording uses %(bits)d-bit samples; it must be 16-bit PCM.")
                    % {"bits": width * 8}
                )
            if rate != SAMPLE_RATE:
                raise AudioError(
                    _("The recording is sampled at %(rate)d Hz; it must be 16000 Hz (16 kHz).")
                    % {"rate": rate}
                )
            if frames == 0:
                raise AudioError(_("The recording is empty."))
            if frames / rate > limit:
                raise AudioError(
                    _(
                        "The recording is %(seconds).0f seconds long; the limit is %(limit).0f seconds."
                    )
                    % {"seconds": frames / rate, "limit": limit}
                )
            pcm = wav.readframes(frames)
    except AudioError:
        raise
    except (wave.Error, EOFError, ValueError) as exc:
        # Compressed WAV (e.g. A-law) or a damaged header.
        raise AudioError(
            _("That WAV file could not be read; it must be uncompressed 16-bit PCM.")
        ) from exc
    if not pcm:
        raise AudioError(_("The recording is empty."))
    return pcm


def transcribe_pcm(
    pcm: bytes, *, chunk_bytes: int = 8000, vocabulary: list[str] | None = None
) -> str:
    """Recognise a whole recording (blocking: call through the pool)."""
    recognizer = StreamRecognizer(
        max_seconds=len(pcm) / BYTES_PER_SECOND + 1, vocabulary=vocabulary
    )
    for start in range(0, len(pcm), chunk_bytes):
        recognizer.accept(pcm[start : start + chunk_bytes])
    return recognizer.finish()


def transcribe_wav(data: bytes, *, vocabulary: list[str] | None = None) -> str:
    """Check and recognise an uploaded WAV file, in the bounded pool (blocking for the caller)."""
    pcm = pcm_from_wav(data)
    return executor().submit(transcribe_pcm, pcm, vocabulary=vocabulary).result()
