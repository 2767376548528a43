"""The command line as a user meets it: names, spellings, environment, errors, exit codes."""

from __future__ import annotations

from ..conftest import Result, run_esptk


def test_version_and_help(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("--version")
    assert r.code == 0 and r.out.startswith("esptk 0.")
    r = run_esptk("--help")
    assert r.code == 0
    for name in ("write-flash", "read-flash", "read-mac", "chip-id", "flash-id", "plugins"):
        assert name in r.out


def test_underscore_command_names_and_options_are_accepted() -> None:
    r = run_esptk("write_flash", "--help")
    assert r.code == 0 and "--flash-mode" in r.out
    r = run_esptk("--port", "/dev/esptk-no-such-port", "write_flash", "--flash_mode", "dio", "0x0",
                  __file__)
    assert "no such option" not in (r.out + r.err).lower()
    assert r.code == 1 and "/dev/esptk-no-such-port" in r.err


def _one_error_line(r: Result) -> None:
    assert "Traceback" not in r.err
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    assert lines[0].startswith("error:") and any(ln.startswith("hint:") for ln in lines)


def test_missing_port_is_one_clear_line_with_exit_1() -> None:
    r = run_esptk("--port", "/dev/esptk-no-such-port", "read-mac")
    assert r.code == 1
    _one_error_line(r)
    assert "does not exist" in r.err


def test_no_port_at_all_says_how_to_give_one() -> None:
    r = run_esptk("read-mac", env={"ESPTK_PORT": "", "ESPTOOL_PORT": ""})
    assert r.code != 0 and "--port" in r.err and "Traceback" not in r.err


def test_usage_errors_exit_2() -> None:
    assert run_esptk("--before", "sideways", "read-mac").code == 2
    assert run_esptk("no-such-command").code == 2
    r = run_esptk("--port", "sim://esp32", "read-mem", "0xZZ")
    assert r.code == 2 and "not a number" in r.err


def test_esptool_environment_variables_are_honoured_and_esptk_ones_win() -> None:
    r = run_esptk("read-mac", env={"ESPTOOL_PORT": "/dev/esptk-from-esptool"})
    assert "/dev/esptk-from-esptool" in r.err
    r = run_esptk("read-mac", env={"ESPTOOL_PORT": "/dev/esptk-from-esptool", "ESPTK_PORT": "/dev/esptk-own"})
    assert "/dev/esptk-own" in r.err


def test_argfile_on_the_command_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "args"
    f.write_text("--port /dev/esptk-argfile\nread-mac\n")
    r = run_esptk(f"@{f}")
    assert r.code == 1 and "/dev/esptk-argfile" in r.err


def test_debug_shows_the_traceback() -> None:
    r = run_esptk("--debug", "--port", "/dev/esptk-no-such-port", "read-mac")
    assert r.code == 1 and "Traceback" in r.err
