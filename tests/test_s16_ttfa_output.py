"""The audio output opens on a thread of its own while PyAV loads, not after it.

Found in session 16: ``kithara play URL`` to the default device imported sounddevice, which
starts PortAudio (``Pa_Initialize`` enumerating ALSA, PulseAudio and JACK devices: 100 ms and
more on some desktops), only after PyAV's import, on the same thread: its waiting added to
the time to first audio. Now ``play.output.OutputOpening`` opens it beside PyAV's import and
the first round trip; a failure to open it is still raised by ``Player.open``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from kithara_cli.audio import devices
from kithara_cli.dl import Downloader
from kithara_cli.errors import KitharaError
from kithara_cli.events import EventBus
from kithara_cli.media.encode import encode_file
from kithara_cli.play import Player, PlayerSettings
from kithara_cli.play.output import OutputOpening
from kithara_cli.server import MediaServer


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ttfa-output")
    encode_file(root / "tone.mp3", 5.0, "mp3")
    return root


def test_the_sink_opens_beside_the_player_not_on_its_thread(
    media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real = devices.open_sink

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(devices, "open_sink", spy)
    bus = EventBus()
    with MediaServer(media) as srv, Downloader(bus) as dl:
        player = Player(bus, PlayerSettings(output="null", length=0.2), dl)
        try:
            player.open(srv.url("tone.mp3"))
            deadline = time.monotonic() + 20
            while not player.first_audio.is_set():
                assert not player.ended and time.monotonic() < deadline, player.error
                time.sleep(0.01)
        finally:
            player.close()
    assert threads == ["kithara-output"]


def test_a_sink_that_cannot_open_fails_the_open_as_before(media: Path) -> None:
    settings = PlayerSettings(output="no such device 12345")
    with pytest.raises(KitharaError) as direct:
        OutputOpening(settings, lambda event: None).result()
    bus = EventBus()
    with MediaServer(media) as srv, Downloader(bus) as dl:
        player = Player(bus, settings, dl)
        try:
            with pytest.raises(type(direct.value)) as opened:
                player.open(srv.url("tone.mp3"))
        finally:
            player.close()
    assert str(opened.value) == str(direct.value)
