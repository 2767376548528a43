"""The ESP8266 two-stage start through esptk's real session against the virtual chip: the stage-1
loader changes the baud rate the ROM cannot, the stub goes up at full speed, and any failure
falls back to the plain upload at 115200 with a warning."""

from __future__ import annotations

import types
from dataclasses import replace

import pytest

from esptk import hookimpl
from esptk.errors import ProtocolError
from esptk.plugins import make_plugin_manager
from esptk.progress import RecordingProgress
from esptk.session import Session, connect
from esptk.stub import StubImage

URL = "sim://esp8266?mac=5c:cf:7f:01:02:03"


def notes(p: RecordingProgress, kind: str = "note") -> list[str]:
    return [str(m) for k, m in p.events if k == kind]


def close(s: Session) -> None:
    s.transport.close()


def test_fast_start_runs_the_stub_at_the_requested_baud() -> None:
    p = RecordingProgress()
    s = connect(make_plugin_manager(), port=URL, baud=921600, progress=p)
    try:
        assert s.stub and s.transport.baud == 921600
        assert s.transport.chip.loader == "esptk-stub"  # type: ignore[attr-defined]
        assert s.stub_version is not None and s.stub_version.protocol == 2
        assert any("loader at 921600" in n and "-byte" in n for n in notes(p))
        assert not notes(p, "warn")  # no "ROM cannot change the baud rate"
        assert s.info().mac == "5c:cf:7f:01:02:03"  # the stub answers at the new rate
    finally:
        close(s)


@pytest.mark.parametrize(("baud", "use_stub"), [(115200, True), (921600, False)])
def test_no_stage1_when_not_needed(baud: int, use_stub: bool) -> None:
    p = RecordingProgress()
    s = connect(make_plugin_manager(), port=URL, baud=baud, use_stub=use_stub, progress=p)
    try:
        assert not any("loader at" in n for n in notes(p))
        assert s.stub == use_stub
    finally:
        close(s)


def test_esptk_stage1_0_turns_the_two_stage_start_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESPTK_STAGE1", "0")
    p = RecordingProgress()
    s = connect(make_plugin_manager(), port=URL, baud=921600, progress=p)
    try:
        assert not any("loader at" in n for n in notes(p))
        assert s.stub and s.transport.baud == 921600  # the stub changed the baud, as before
    finally:
        close(s)


def _with_stage1(change) -> types.ModuleType:  # type: ignore[no-untyped-def]
    reg0 = make_plugin_manager()
    chip = reg0.chips["esp8266"]
    real = reg0.chip_hook(chip).esptk_select_stub(chip=chip, revision=None)
    assert real is not None and real.stage1 is not None
    mod = types.ModuleType("changed_stage1")

    @hookimpl(tryfirst=True)
    def esptk_select_stub(chip):  # type: ignore[no-untyped-def]
        return replace(real, stage1=change(real.stage1))

    mod.esptk_select_stub = esptk_select_stub  # type: ignore[attr-defined]
    return mod


def broken(s1: StubImage) -> StubImage:
    """Another program than the stage-1 loader: it runs but never greets."""
    return replace(s1, text=s1.text[:-4] + b"\0\0\0\0")


def test_a_stage1_that_does_not_greet_falls_back_to_the_plain_upload() -> None:
    p = RecordingProgress()
    s = connect(make_plugin_manager(extra=[_with_stage1(broken)]), port=URL, baud=921600, progress=p)
    try:
        assert any("fast stub start failed" in w and "did not greet" in w for w in notes(p, "warn"))
        assert s.stub and s.transport.chip.loader == "esptk-stub"  # type: ignore[attr-defined]
        assert s.transport.baud == 921600  # the stub, uploaded at 115200, changed it afterwards
        assert any(n.startswith("Uploading stub...") for n in notes(p))
        assert s.info().mac == "5c:cf:7f:01:02:03"
    finally:
        close(s)


def test_a_failed_stage1_without_a_way_to_reset_is_a_clear_error() -> None:
    reg = make_plugin_manager(extra=[_with_stage1(broken)])
    t = reg.transport_for(URL).from_url(URL, 115200)
    t.open()
    t.chip.power_on(0.0, quiet=True)  # type: ignore[attr-defined]
    with pytest.raises(ProtocolError, match="cannot be reset") as e:
        connect(reg, transport=t, before="no_reset", baud=921600)
    assert e.value.hint and "retry" in e.value.hint


def test_a_stage1_the_rom_refuses_leaves_the_rom_answering() -> None:
    """MEM_BEGIN refused (no RAM there): stage 1 never ran, the ROM still answers, no reset needed."""
    p = RecordingProgress()
    nowhere = _with_stage1(lambda s1: replace(s1, text_start=0x20000000))
    s = connect(make_plugin_manager(extra=[nowhere]), port=URL, baud=921600, progress=p)
    try:
        assert any("the ROM refused the loader" in w for w in notes(p, "warn"))
        assert s.stub and s.transport.chip.loader == "esptk-stub"  # type: ignore[attr-defined]
        assert s.info().mac == "5c:cf:7f:01:02:03"
    finally:
        close(s)


def test_a_stub_greeting_lost_after_stage1_is_found_by_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    """OHAI, sent by the stub stage 1 loaded, is lost on the line: the stub still answers SYNC, so
    the fast start stands (no fallback, no reset, which a link without DTR/RTS could not do)."""
    from esptk_sim.faults import FaultInjector

    sent = bytearray()
    apply = FaultInjector.apply

    def recording(self: FaultInjector, data: bytes, stream: str) -> tuple[bytes, float]:
        if stream == "tx":
            sent.extend(data)
        return apply(self, data, stream)

    monkeypatch.setattr(FaultInjector, "apply", recording)
    close(connect(make_plugin_manager(), port=URL, baud=921600))
    at = bytes(sent).index(b"\xc0OHAI\xc0")  # the chip's byte count up to the greeting
    p = RecordingProgress()
    s = connect(make_plugin_manager(), port=URL + f"&fault_dir=tx&drop_at={at + 1}", baud=921600, progress=p)
    try:
        assert any("greeting was lost" in w for w in notes(p, "warn"))
        assert not any("fast stub start failed" in w for w in notes(p, "warn"))
        assert s.stub and s.transport.baud == 921600
        assert s.info().mac == "5c:cf:7f:01:02:03"
    finally:
        close(s)
